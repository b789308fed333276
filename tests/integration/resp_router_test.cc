// The router's RESP port on three real regions, the WAN emulator and `meridian router`:
//  - real clients (python3-redis, redis-cli, redis-benchmark) through it: every type, pipelining,
//    bad framing; the checks are in resp_router.py, which names each one;
//  - failover without a double count: clients INCR through the router while the region serving
//    them is killed with -9 and restarted; every region ends with exactly the number of
//    increments the clients saw acknowledged;
//  - sessions through the router (resp_route.h rules 7, 8): WAIT counts the regions holding the
//    client's last write, MERIDIAN.SESSION's token is one a region takes, and a read after the
//    writer's region dies with its write unreplicated never answers the older value.
// Every wait is bounded; nothing asserts on how long anything took.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "resp/testing/resp_test_client.h"
#include "tests/integration/cluster_harness.h"

namespace meridian::testing {
namespace {

using std::chrono::seconds;

class RespRouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Status started = cluster_.StartAll();
    ASSERT_TRUE(started.ok()) << started.ToString();
    started = cluster_.StartWan();
    ASSERT_TRUE(started.ok()) << started.ToString();
    started = cluster_.StartRouter("us");
    ASSERT_TRUE(started.ok()) << started.ToString();
  }

  std::string RouterResp() const {
    return "127.0.0.1:" + std::to_string(cluster_.router_resp_port());
  }

  ClusterHarness cluster_;
};

TEST_F(RespRouterTest, RealClientsThroughTheRouter) {
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/redis-cli")) << "redis-tools is not installed";
  const ClusterHarness::ScriptResult script =
      cluster_.RunScript(MERIDIAN_SOURCE_DIR "/tests/integration/resp_router.py",
                         {std::to_string(cluster_.router_resp_port()), cluster_.JoinedPorts(true),
                          cluster_.client_key()},
                         seconds(180));
  EXPECT_EQ(script.code, std::optional<int>(0)) << script.output << "\n--- router ---\n"
                                                << cluster_.router_log();
  EXPECT_NE(script.output.find("all RESP router checks passed"), std::string::npos)
      << script.output;
  std::cout << script.output;
}

// What the INCR clients saw.
struct Tally {
  std::atomic<int64_t> acknowledged{0};
  std::atomic<int64_t> unknown{0};  // an error or a lost connection: applied or not, we can't say
  std::mutex mu;
  std::vector<std::string> errors;  // GUARDED_BY(mu)
};

// INCRs `key` through the router until `stop`, one at a time, counting what was acknowledged.
void IncrementUntilStopped(const std::string& router, const std::string& api_key,
                           const std::string& key, const std::atomic<bool>& stop, Tally& tally) {
  std::optional<RespTestClient> client;
  while (!stop) {
    if (!client) {
      Result<RespTestClient> connected = RespTestClient::Connect(router, seconds(20));
      if (!connected.ok()) {
        std::lock_guard<std::mutex> lock(tally.mu);
        tally.errors.push_back("connect: " + connected.status().ToString());
        return;
      }
      client.emplace(std::move(*connected));
      Result<std::string> authed = client->Call({"AUTH", api_key});
      if (!authed.ok() || *authed != "+OK\r\n") {
        std::lock_guard<std::mutex> lock(tally.mu);
        tally.errors.push_back("AUTH: " + (authed.ok() ? *authed : authed.status().ToString()));
        return;
      }
    }
    Result<std::string> reply = client->Call({"INCR", key});
    if (reply.ok() && reply->starts_with(":")) {
      ++tally.acknowledged;
      continue;
    }
    ++tally.unknown;
    std::lock_guard<std::mutex> lock(tally.mu);
    tally.errors.push_back(reply.ok() ? *reply : reply.status().ToString());
    if (!reply.ok()) client.reset();
  }
}

// The counter `key` as region `i` reports it over HTTP, or -1.
int64_t CounterAt(ClusterHarness& cluster, size_t i, const std::string& key) {
  auto r = cluster.Call(i, "GET", "/counter/" + key, "", {}, seconds(2));
  if (!r.ok() || r->status != 200) return -1;
  const size_t at = r->body.find("\"value\":");
  return at == std::string::npos ? -1 : std::stoll(r->body.substr(at + 8));
}

// The region that served `client`'s last forwarded command.
std::string ServedBy(RespTestClient& client) {
  if (!client.Call({"PING"}).ok()) return "<no ping>";
  Result<std::string> reply = client.Call({"MERIDIAN.REGION"});
  if (!reply.ok()) return "<" + reply.status().ToString() + ">";
  // *2\r\n$2\r\nus\r\n$2\r\nNAME\r\n
  const size_t last = reply->rfind("\r\n", reply->size() - 3);
  return last == std::string::npos ? *reply : reply->substr(last + 2, reply->size() - last - 4);
}

// The issue's required check: failover through the router's RESP port without a double count.
TEST_F(RespRouterTest, KillingTheServingRegionNeitherDoublesNorLosesAcknowledgedIncrements) {
  constexpr int kClients = 4;  // several INCRs in flight when the region dies
  constexpr int64_t kStep = 150;
  const std::string key = "failover";
  Result<RespTestClient> probe = RespTestClient::Connect(RouterResp(), seconds(20));
  ASSERT_TRUE(probe.ok()) << probe.status().ToString();
  ASSERT_TRUE(probe->Call({"AUTH", cluster_.client_key()}).ok());
  ASSERT_EQ(ServedBy(*probe), "us") << "the router's location is us, its nearest region";

  Tally tally;
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back(
        [&] { IncrementUntilStopped(RouterResp(), cluster_.client_key(), key, stop, tally); });
  }
  auto grows_by = [&](int64_t from, int64_t by) {
    return Eventually([&] { return tally.acknowledged >= from + by; }, seconds(60));
  };
  EXPECT_TRUE(grows_by(0, kStep));

  cluster_.KillRegion(0);  // kill -9, INCRs in flight on it
  const int64_t at_kill = tally.acknowledged;
  EXPECT_TRUE(grows_by(at_kill, kStep)) << "no increments after the kill";
  EXPECT_NE(ServedBy(*probe), "us");

  ASSERT_TRUE(cluster_.StartRegion(0).ok());
  Status back = cluster_.WaitForStatus(0, "ok", seconds(60));
  EXPECT_TRUE(back.ok()) << back.ToString();
  // Failback: the router routes to us again once its probes see it ok.
  EXPECT_TRUE(Eventually([&] { return ServedBy(*probe) == "us"; }, seconds(30)));
  EXPECT_TRUE(grows_by(tally.acknowledged, kStep)) << "no increments after the restart";

  stop = true;
  for (std::thread& client : clients)
    client.join();
  {
    std::lock_guard<std::mutex> lock(tally.mu);
    for (const std::string& error : tally.errors)
      ADD_FAILURE() << "a client got: " << error;
  }
  ASSERT_EQ(tally.unknown, 0) << "every INCR must be answered, on another region if need be";
  const int64_t acknowledged = tally.acknowledged;
  std::vector<int64_t> values(cluster_.regions().size(), -1);
  const bool exact = Eventually(
      [&] {
        for (size_t i = 0; i < values.size(); ++i)
          values[i] = CounterAt(cluster_, i, key);
        for (int64_t value : values) {
          if (value != acknowledged) return false;
        }
        return true;
      },
      seconds(60));
  EXPECT_TRUE(exact) << "acknowledged " << acknowledged << ", regions hold " << values[0] << ", "
                     << values[1] << ", " << values[2] << "\n--- router ---\n"
                     << cluster_.router_log();
  // For the log: how many attempts went to a further region (commands in flight at the kill).
  HttpClientRequest metrics;
  metrics.target = "/router/metrics";
  auto scraped =
      HttpFetch("127.0.0.1:" + std::to_string(cluster_.router_port()), metrics, seconds(5));
  std::string reroutes = "?";
  if (scraped.ok()) {
    const std::string name = "\nmeridian_router_reroutes_total ";
    const size_t at = scraped->body.find(name);
    if (at != std::string::npos) {
      const size_t from = at + name.size();
      reroutes = scraped->body.substr(from, scraped->body.find('\n', from) - from);
    }
  }
  std::cout << "acknowledged " << acknowledged << " increments, " << at_kill
            << " before the kill; every region holds " << values[0] << "; " << reroutes
            << " attempts rerouted\n";
}

}  // namespace
}  // namespace meridian::testing

namespace meridian::testing {
namespace {

// Replication crosses the WAN emulator here, so that a region's links can be cut.
class RespRouterSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_.set_direct_replication(false);
    Status started = cluster_.StartWan();
    ASSERT_TRUE(started.ok()) << started.ToString();
    started = cluster_.StartAll();
    ASSERT_TRUE(started.ok()) << started.ToString();
    started = cluster_.StartRouter("us");
    ASSERT_TRUE(started.ok()) << started.ToString();
  }

  // Cuts (or heals) replication between `region` and every other region, both ways; the
  // router's paths (the client-* proxies) stay up.
  void SetLinks(const std::string& region, bool enabled) {
    for (const std::string& other : cluster_.regions()) {
      if (other == region) continue;
      for (const std::string& proxy : {region + "->" + other, other + "->" + region}) {
        HttpClientRequest request;
        request.method = "POST";
        request.target = "/proxies/" + proxy;
        request.body = enabled ? R"({"enabled": true})" : R"({"enabled": false})";
        auto r = HttpFetch("127.0.0.1:" + std::to_string(cluster_.wan_admin_port()), request,
                           seconds(5));
        ASSERT_TRUE(r.ok() && r->status == 200)
            << proxy << ": " << (r.ok() ? r->body : r.status().ToString());
      }
    }
  }

  RespTestClient Connect(uint16_t port) {
    Result<RespTestClient> client =
        RespTestClient::Connect("127.0.0.1:" + std::to_string(port), seconds(20));
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    if (!client.ok()) return RespTestClient();
    EXPECT_EQ(Call(*client, {"AUTH", cluster_.client_key()}), "+OK\r\n");
    return std::move(*client);
  }

  static std::string Call(RespTestClient& client, const std::vector<std::string>& args) {
    Result<std::string> reply = client.Call(args);
    return reply.ok() ? *reply : "<" + reply.status().ToString() + ">";
  }

  ClusterHarness cluster_;
};

std::string Bulk(const std::string& s) {
  return "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n";
}

TEST_F(RespRouterSessionTest, WaitSessionAndReadYourWritesAcrossAFailover) {
  RespTestClient client = Connect(cluster_.router_resp_port());
  ASSERT_EQ(Call(client, {"SET", "ryw", "old"}), "+OK\r\n");
  // WAIT through the router counts the regions holding this client's write.
  EXPECT_EQ(Call(client, {"WAIT", "2", "20000"}), ":2\r\n");

  // The router's session token is one a region takes.
  const std::string token = Call(client, {"MERIDIAN.SESSION"});
  ASSERT_TRUE(token.starts_with("$")) << token;
  const std::string token_text =
      token.substr(token.find("\r\n") + 2, token.size() - token.find("\r\n") - 4);
  std::cout << "the router's session token after one write: " << token_text << " ("
            << token_text.size() << " characters)\n";
  RespTestClient region = Connect(cluster_.resp_port(1));
  EXPECT_EQ(Call(region, {"MERIDIAN.SESSION", token_text}), token);

  // us alone has the next write, then dies: the router fails over, and the read waits for a
  // write no live region has. It is refused, never answered with "old".
  SetLinks("us", false);
  ASSERT_EQ(Call(client, {"SET", "ryw", "new"}), "+OK\r\n");
  EXPECT_EQ(Call(client, {"WAIT", "1", "200"}), ":0\r\n");
  cluster_.KillRegion(0);
  const std::string during = Call(client, {"GET", "ryw"});
  EXPECT_TRUE(during.starts_with("-TRYAGAIN ")) << during;
  EXPECT_NE(during.find("session token not satisfied"), std::string::npos) << during;
  std::cout << "the read during the failover got: " << during;
  // A client with no session still reads what the live regions hold.
  RespTestClient fresh = Connect(cluster_.router_resp_port());
  EXPECT_EQ(Call(fresh, {"GET", "ryw"}), Bulk("old"));

  // us comes back and replicates: the read answers the new value, and never the old one.
  SetLinks("us", true);
  ASSERT_TRUE(cluster_.StartRegion(0).ok());
  std::vector<std::string> replies;
  const bool fresh_value = Eventually(
      [&] {
        replies.push_back(Call(client, {"GET", "ryw"}));
        return replies.back() == Bulk("new");
      },
      seconds(60));
  EXPECT_TRUE(fresh_value) << replies.back() << "\n--- router ---\n" << cluster_.router_log();
  for (const std::string& reply : replies)
    EXPECT_NE(reply, Bulk("old"));
}

}  // namespace
}  // namespace meridian::testing
