// The router's RESP front end against fake regions on loopback (FakeRegion answers /healthz,
// FakeRespRegion the commands). Every wait is bounded; assertions are about outcomes (which
// region saw which command with which key, which reply came back in which order), never about
// how long anything took.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <set>
#include <thread>

#include <boost/asio/read.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>

#include <filesystem>

#include "api/session_token.h"
#include "net/endpoint.h"
#include "net/tls_context.h"
#include "resp/testing/resp_test_client.h"
#include "router/fake_region.h"
#include "router/fake_resp_region.h"
#include "router/resp_front.h"
#include "router/router.h"
#include "tls/cert_files.h"

namespace meridian::router {
namespace {

using namespace std::chrono_literals;
using meridian::testing::RespTestClient;
using testing::FakeRegion;
using testing::FakeRespRegion;

constexpr RegionId kUs = 0;
constexpr RegionId kEu = 1;
constexpr RegionId kAp = 2;
constexpr auto kPatience = 10s;

std::string Bulk(const std::string& text) {
  return "$" + std::to_string(text.size()) + "\r\n" + text + "\r\n";
}

bool IsRouterKey(const std::string& key) {
  return key.size() == 32 && key.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// Polls `done` until it holds or kPatience passes; whether it held.
bool WaitFor(const std::function<bool()>& done) {
  const auto give_up = std::chrono::steady_clock::now() + kPatience;
  while (!done()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

class RouterRespTest : public ::testing::Test {
 protected:
  // As router_test: us, eu, ap answer /healthz after 0, 60 and 150 ms, so us is nearest.
  void SetUp() override {
    const char* names[] = {"us", "eu", "ap"};
    const std::chrono::milliseconds delays[] = {0ms, 60ms, 150ms};
    for (int i = 0; i < 3; ++i) {
      health_.push_back(std::make_unique<FakeRegion>(names[i], delays[i]));
      health_.back()->Start();
      resp_.push_back(std::make_unique<FakeRespRegion>(names[i], static_cast<RegionId>(i)));
      resp_.back()->Start();
    }
    RouterTopology topology;
    topology.region_names = {"us", "eu", "ap"};
    topology.dial.assign(3, {});
    topology.link_rtt_ms.assign(3, std::vector<int64_t>(3, 0));
    for (RegionId location = 0; location < 3; ++location) {
      for (RegionId region = 0; region < 3; ++region) {
        topology.dial[location].push_back(health_[region]->address());
      }
      topology.resp_dial.push_back(resp_[location]->address());
    }
    // Clients in ap reach only ap (the fakes' RTTs are the same from every location, so without
    // the cut us would be nearest from everywhere).
    topology.dial[kAp][kUs] = topology.dial[kAp][kEu] = RefusingAddress();
    Configure(topology);
    RouterOptions options = TestRouterOptions();
    options.resp_address = "127.0.0.1:0";
    router_ = std::make_unique<Router>(std::move(topology), std::move(options));
    Status started = router_->Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
    ASSERT_TRUE(WaitFor([&] { return AllHealthyInOrder(); })) << router_->Summary();
  }
  void TearDown() override {
    if (router_) router_->Stop();
  }
  // A fixture's changes to the topology before the router starts.
  virtual void Configure(RouterTopology&) {}

  bool AllHealthyInOrder() const {
    const nlohmann::json regions = nlohmann::json::parse(router_->StatusJson())["regions"];
    for (const auto& region : regions) {
      if (!region["healthy"].get<bool>()) return false;
    }
    return regions[0]["rtt_ms"].get<double>() < regions[1]["rtt_ms"].get<double>() &&
           regions[1]["rtt_ms"].get<double>() < regions[2]["rtt_ms"].get<double>();
  }

  // An address where nothing listens: a server's port, once the server has gone.
  static std::string RefusingAddress() {
    FakeRespRegion gone("gone");
    gone.Start();
    std::string address = gone.address();
    gone.Stop();
    return address;
  }

  RespTestClient Connect() {
    Result<RespTestClient> client = RespTestClient::Connect(router_->resp_address(), kPatience);
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    return client.ok() ? std::move(*client) : RespTestClient();
  }

  static std::string Call(RespTestClient& client, const std::vector<std::string>& args) {
    Result<std::string> reply = client.Call(args);
    return reply.ok() ? *reply : "<" + reply.status().ToString() + ">";
  }

  // The commands `region` saw, as "NAME ARG..." lines.
  std::vector<std::string> Commands(RegionId region) const {
    std::vector<std::string> out;
    for (const auto& seen : resp_[region]->seen()) {
      std::string line;
      for (const auto& arg : seen.args)
        line += (line.empty() ? "" : " ") + arg;
      out.push_back(line);
    }
    return out;
  }

  std::vector<std::unique_ptr<FakeRegion>> health_;
  std::vector<std::unique_ptr<FakeRespRegion>> resp_;
  std::unique_ptr<Router> router_;
};

TEST_F(RouterRespTest, ForwardsToTheNearestRegionTagsWritesAndRelaysRepliesInOrder) {
  RespTestClient client = Connect();
  std::string pipeline;
  for (const auto& args : std::vector<std::vector<std::string>>{{"PING"},
                                                                {"INCR", "a"},
                                                                {"INCRBY", "a", "5"},
                                                                {"GET", "a"},
                                                                {"ECHO", "x"},
                                                                {"GET", "none"}}) {
    pipeline += RespTestClient::Encode(args);
  }
  ASSERT_TRUE(client.SendRaw(pipeline).ok());
  std::vector<std::string> replies;
  for (int i = 0; i < 6; ++i) {
    Result<std::string> reply = client.ReadReply();
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    replies.push_back(*reply);
  }
  EXPECT_EQ(replies, (std::vector<std::string>{"+PONG\r\n", ":1\r\n", ":6\r\n", Bulk("6"),
                                               Bulk("x"), "$-1\r\n"}));
  const auto seen = resp_[kUs]->seen();
  ASSERT_EQ(seen.size(), 6u);
  std::set<std::string> keys;
  for (const auto& command : seen) {
    const bool write = command.args[0] == "INCR" || command.args[0] == "INCRBY";
    EXPECT_EQ(IsRouterKey(command.idempotency_key), write) << command.args[0];
    if (write) keys.insert(command.idempotency_key);
  }
  EXPECT_EQ(keys.size(), 2u) << "each write has its own key";
  EXPECT_TRUE(resp_[kEu]->seen().empty());
  EXPECT_TRUE(resp_[kAp]->seen().empty());
  EXPECT_EQ(Call(client, {"MERIDIAN.REGION"}), "*2\r\n" + Bulk("us") + Bulk("us"));
}

// The region applies the write and dies before answering (kill -9 mid-command): the router
// retries on the next region with the same idempotency key, so the region that learns both
// can tell they are one write.
TEST_F(RouterRespTest, AWriteWhoseRegionDiesMidCommandIsRetriedElsewhereWithTheSameKey) {
  RespTestClient client = Connect();
  resp_[kUs]->DieAfter(0);
  EXPECT_EQ(Call(client, {"INCR", "c"}), ":1\r\n");
  const auto us = resp_[kUs]->seen();
  const auto eu = resp_[kEu]->seen();
  ASSERT_EQ(us.size(), 1u);
  ASSERT_EQ(eu.size(), 1u);
  EXPECT_TRUE(IsRouterKey(us[0].idempotency_key));
  EXPECT_EQ(eu[0].idempotency_key, us[0].idempotency_key);
  EXPECT_EQ(eu[0].args, (std::vector<std::string>{"INCR", "c"}));
  EXPECT_EQ(Call(client, {"MERIDIAN.REGION"}), "*2\r\n" + Bulk("us") + Bulk("eu"));
  // A client's own MERIDIAN.IDEM passes untouched, as a client's Idempotency-Key over HTTP.
  EXPECT_EQ(Call(client, {"MERIDIAN.IDEM", "mine", "INCR", "c"}), ":2\r\n");
  EXPECT_EQ(Call(client, {"MERIDIAN.IDEM", "mine", "INCR", "c"}), ":2\r\n");
  EXPECT_EQ(resp_[kEu]->seen().back().idempotency_key, "mine");
}

TEST_F(RouterRespTest, CommandsInFlightWhenTheRegionDiesAreRetriedInOrder) {
  RespTestClient client = Connect();
  resp_[kUs]->DieAfter(10);
  std::string pipeline;
  for (int i = 0; i < 100; ++i)
    pipeline += RespTestClient::Encode({"ECHO", std::to_string(i)});
  ASSERT_TRUE(client.SendRaw(pipeline).ok());
  for (int i = 0; i < 100; ++i) {
    Result<std::string> reply = client.ReadReply();
    ASSERT_TRUE(reply.ok()) << i << ": " << reply.status().ToString();
    ASSERT_EQ(*reply, Bulk(std::to_string(i)));
  }
  // Those whose answer did not come back from the dead region (at least the 90 from the one it
  // died on) ran on eu, in the order they were sent.
  const std::vector<std::string> on_eu = Commands(kEu);
  ASSERT_GE(on_eu.size(), 90u);
  std::vector<std::string> expected;
  for (size_t i = 100 - on_eu.size(); i < 100; ++i)
    expected.push_back("ECHO " + std::to_string(i));
  EXPECT_EQ(on_eu, expected);
}

// More commands in one read than a connection may have unanswered (1024): those left in the
// buffer when it paused run once replies free room, though the client sends nothing more.
TEST_F(RouterRespTest, APipelineLongerThanTheBoundIsAnsweredInFull) {
  RespTestClient client = Connect();
  std::string pipeline;
  for (int i = 0; i < 3000; ++i)
    pipeline += "PING\r\n";
  ASSERT_TRUE(client.SendRaw(pipeline).ok());
  for (int i = 0; i < 3000; ++i) {
    Result<std::string> reply = client.ReadReply();
    ASSERT_TRUE(reply.ok()) << i << ": " << reply.status().ToString();
    ASSERT_EQ(*reply, "+PONG\r\n") << i;
  }
  // The router's own commands, answered at once, the same.
  pipeline.clear();
  for (int i = 0; i < 3000; ++i)
    pipeline += "CLIENT ID\r\n";
  ASSERT_TRUE(client.SendRaw(pipeline).ok());
  for (int i = 0; i < 3000; ++i) {
    Result<std::string> reply = client.ReadReply();
    ASSERT_TRUE(reply.ok()) << i << ": " << reply.status().ToString();
    ASSERT_TRUE(reply->starts_with(":")) << *reply;
  }
}

TEST_F(RouterRespTest, UnknownCommandsAreForwardedButNotRetriedAfterAFailure) {
  RespTestClient client = Connect();
  EXPECT_EQ(Call(client, {"FOO", "x"}), "-ERR unknown command 'FOO'\r\n");
  resp_[kUs]->DieAfter(0);
  const std::string reply = Call(client, {"FOO", "y"});
  EXPECT_TRUE(reply.starts_with("-TRYAGAIN region us failed during the command")) << reply;
  EXPECT_NE(reply.find("may have taken effect"), std::string::npos) << reply;
  EXPECT_TRUE(resp_[kEu]->seen().empty());
  // The connection goes on, on the next region.
  EXPECT_EQ(Call(client, {"PING"}), "+PONG\r\n");
  EXPECT_EQ(Commands(kEu), std::vector<std::string>{"PING"});
}

TEST_F(RouterRespTest, RetryableErrorRepliesGoToTheNextRegionAndTheLastIsDelivered) {
  RespTestClient client = Connect();
  resp_[kUs]->set_mode(FakeRespRegion::Mode::kTryAgain);
  EXPECT_EQ(Call(client, {"GET", "k"}), "$-1\r\n");
  EXPECT_EQ(Commands(kUs), std::vector<std::string>{"GET k"});
  EXPECT_EQ(Commands(kEu), std::vector<std::string>{"GET k"});
  resp_[kEu]->set_mode(FakeRespRegion::Mode::kTryAgain);
  resp_[kAp]->set_mode(FakeRespRegion::Mode::kTryAgain);
  EXPECT_EQ(Call(client, {"GET", "k"}), "-TRYAGAIN ap cannot serve now\r\n");
}

// A region that stops answering: after the router's forward timeout the command goes to the
// next region, and the stalled region's path is marked down.
TEST_F(RouterRespTest, ACommandWithoutAReplyInTimeGoesToTheNextRegion) {
  RespTestClient client = Connect();
  resp_[kUs]->set_mode(FakeRespRegion::Mode::kHang);
  EXPECT_EQ(Call(client, {"INCR", "slow"}), ":1\r\n");
  ASSERT_EQ(resp_[kUs]->seen().size(), 1u);
  ASSERT_EQ(resp_[kEu]->seen().size(), 1u);
  EXPECT_EQ(resp_[kEu]->seen()[0].idempotency_key, resp_[kUs]->seen()[0].idempotency_key);
  const nlohmann::json us = nlohmann::json::parse(router_->StatusJson())["regions"][kUs];
  EXPECT_NE(us["last_error"].get<std::string>().find("no reply in time"), std::string::npos) << us;
}

TEST_F(RouterRespTest, EveryRegionFailingIsTryAgainNamingEach) {
  RespTestClient client = Connect();
  for (auto& region : resp_)
    region->Stop();
  const std::string reply = Call(client, {"GET", "k"});
  EXPECT_TRUE(reply.starts_with("-TRYAGAIN every region tried failed: us: ")) << reply;
  EXPECT_NE(reply.find("; eu: "), std::string::npos) << reply;
  EXPECT_NE(reply.find("; ap: "), std::string::npos) << reply;
}

TEST_F(RouterRespTest, NoHealthyRegionIsClusterDownAndTheConnectionStaysUsable) {
  RespTestClient client = Connect();
  for (auto& region : health_)
    region->Stop();
  std::string reply;
  EXPECT_TRUE(WaitFor([&] {
    reply = Call(client, {"GET", "k"});
    return reply.starts_with("-CLUSTERDOWN");
  })) << reply;
  EXPECT_EQ(reply, "-CLUSTERDOWN no healthy region for clients in us right now\r\n");
  EXPECT_EQ(Call(client, {"MERIDIAN.REGION", "eu"}), "+OK\r\n");
  EXPECT_EQ(Call(client, {"GET", "k"}),
            "-CLUSTERDOWN no healthy region for clients in eu right now\r\n");
}

// Residency (RespFront contract 11): `gdpr:` keys live in eu and ap, registers under `reg:` in
// ap only, `us:` keys in us only.
class RouterRespResidencyTest : public RouterRespTest {
 protected:
  void Configure(RouterTopology& topology) override {
    Result<Residency> residency = Residency::Make({{"gdpr:", std::nullopt, {kEu, kAp}},
                                                   {"reg:", DataClass::kRegister, {kAp}},
                                                   {"us:", std::nullopt, {kUs}}},
                                                  3);
    ASSERT_TRUE(residency.ok()) << residency.status().ToString();
    topology.residency = std::move(*residency);
  }
};

TEST_F(RouterRespResidencyTest, APinnedKeyGoesOnlyToItsSetNearestFirstAndFailsOverWithinIt) {
  RespTestClient client = Connect();
  EXPECT_EQ(Call(client, {"INCR", "gdpr:a"}), ":1\r\n");  // eu: us is nearer but outside
  EXPECT_EQ(Call(client, {"INCR", "plain"}), ":1\r\n");   // us, the nearest
  EXPECT_EQ(Call(client, {"MERIDIAN.IDEM", "mine", "INCR", "gdpr:a"}), ":2\r\n");
  // The class decides: a counter under reg: is not pinned, a register is; GET may name either,
  // so it goes where both may be.
  EXPECT_EQ(Call(client, {"INCR", "reg:x"}), ":1\r\n");
  Call(client, {"SET", "reg:x", "v"});
  Call(client, {"GET", "reg:x"});
  // Keys of several sets go where all may be; sets without a common region go nowhere.
  Call(client, {"MGET", "plain", "gdpr:a"});
  const std::string disjoint = Call(client, {"DEL", "gdpr:a", "us:b"});
  EXPECT_TRUE(disjoint.starts_with("-ERR the keys of this command")) << disjoint;
  EXPECT_NE(disjoint.find("[eu, ap] and [us]"), std::string::npos) << disjoint;
  EXPECT_EQ(Commands(kUs), (std::vector<std::string>{"INCR plain", "INCR reg:x"}));
  EXPECT_EQ(Commands(kEu),
            (std::vector<std::string>{"INCR gdpr:a", "INCR gdpr:a", "MGET plain gdpr:a"}));
  EXPECT_EQ(Commands(kAp), (std::vector<std::string>{"SET reg:x v", "GET reg:x"}));

  // eu goes away: the pinned key fails over to ap, never to the healthy, nearer us.
  resp_[kEu]->Stop();
  EXPECT_EQ(Call(client, {"INCR", "gdpr:b"}), ":1\r\n");
  EXPECT_EQ(Commands(kAp).back(), "INCR gdpr:b");
  // ap too: no allowed region left, and the client hears which ones those are.
  resp_[kAp]->Stop();
  const std::string none = Call(client, {"GET", "gdpr:b"});
  EXPECT_TRUE(
      none.starts_with("-TRYAGAIN no allowed region (eu, ap, by residency) is reachable "
                       "for this key: "))
      << none;
  EXPECT_EQ(Call(client, {"INCR", "plain"}), ":2\r\n");  // unpinned keys still go to us
  EXPECT_EQ(Commands(kUs), (std::vector<std::string>{"INCR plain", "INCR reg:x", "INCR plain"}));
}

TEST_F(RouterRespResidencyTest, NoHealthyRegionOfTheSetIsClusterDownNamingTheSet) {
  RespTestClient client = Connect();
  health_[kEu]->Stop();
  health_[kAp]->Stop();
  std::string reply;
  EXPECT_TRUE(WaitFor([&] {
    reply = Call(client, {"GET", "gdpr:a"});
    return reply.starts_with("-CLUSTERDOWN");
  })) << reply;
  EXPECT_EQ(reply,
            "-CLUSTERDOWN no allowed region (eu, ap, by residency) is reachable for this key from "
            "clients in us\r\n");
  EXPECT_TRUE(Commands(kUs).empty());
  EXPECT_EQ(Call(client, {"GET", "plain"}), "$-1\r\n");
}

TEST_F(RouterRespTest, BadFramingClosesOnlyThatConnection) {
  RespTestClient bad = Connect();
  RespTestClient good = Connect();
  EXPECT_EQ(Call(good, {"PING"}), "+PONG\r\n");
  ASSERT_TRUE(bad.SendRaw("*1\r\n$abc\r\nPING\r\n").ok());
  std::string bytes;
  EXPECT_TRUE(bad.ReadUntilClosed(&bytes));
  EXPECT_TRUE(bytes.starts_with("-ERR Protocol error")) << bytes;
  EXPECT_EQ(Call(good, {"PING"}), "+PONG\r\n");
  RespTestClient again = Connect();
  EXPECT_EQ(Call(again, {"ECHO", "still here"}), Bulk("still here"));
}

TEST_F(RouterRespTest, ConnectionCommandsAreTheRoutersOwn) {
  RespTestClient client = Connect();
  ASSERT_TRUE(WaitFor([&] {
    const auto paths = nlohmann::json::parse(router_->StatusJson())["by_location"]["ap"];
    return paths[kAp]["healthy"].get<bool>();
  }));
  EXPECT_EQ(Call(client, {"MERIDIAN.REGION", "ap"}), "+OK\r\n");
  EXPECT_EQ(Call(client, {"PING"}), "+PONG\r\n");
  EXPECT_EQ(Commands(kAp), std::vector<std::string>{"PING"});
  EXPECT_EQ(Call(client, {"MERIDIAN.REGION"}), "*2\r\n" + Bulk("ap") + Bulk("ap"));
  const std::string unknown = Call(client, {"MERIDIAN.REGION", "mars"});
  EXPECT_EQ(unknown, "-ERR unknown region 'mars' (regions: us, eu, ap)\r\n");
  // No write yet: WAIT answers 0 at once, as a region does; the session is the router's.
  EXPECT_EQ(Call(client, {"WAIT", "1", "0"}), ":0\r\n");
  EXPECT_EQ(Call(client, {"MERIDIAN.SESSION"}), Bulk(EncodeSessionToken(VersionVector())));
  EXPECT_EQ(Call(client, {"CLIENT", "SETNAME", "me"}), "+OK\r\n");
  EXPECT_EQ(Call(client, {"CLIENT", "GETNAME"}), Bulk("me"));
  EXPECT_EQ(Call(client, {"SELECT", "0"}), "+OK\r\n");
  // HELLO 3: the router answers, and the connection's commands go over a RESP3 connection
  // (which said HELLO 3 to the region first).
  const std::string hello = Call(client, {"HELLO", "3"});
  EXPECT_TRUE(hello.starts_with("%7\r\n")) << hello;
  EXPECT_NE(hello.find(Bulk("region") + Bulk("ap")), std::string::npos) << hello;
  EXPECT_EQ(Call(client, {"GET", "k"}), "$-1\r\n");
  const auto seen = resp_[kAp]->seen();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[1].args, (std::vector<std::string>{"HELLO", "3"}));
  EXPECT_EQ(seen[2].args, (std::vector<std::string>{"GET", "k"}));
  EXPECT_EQ(seen[2].connection, seen[1].connection);
  EXPECT_NE(seen[2].connection, seen[0].connection);
  EXPECT_EQ(Call(client, {"QUIT"}), "+OK\r\n");
  std::string rest;
  EXPECT_TRUE(client.ReadUntilClosed(&rest));
  EXPECT_EQ(rest, "");
}

// resp_route.h rules 7 and 8: writes go in MERIDIAN.SESSIONED, the client gets the bare reply,
// the router keeps the token (reads carry it, also to the region it fails over to) and WAIT goes
// to the region that made the last write, after the writes pipelined before it.
TEST_F(RouterRespTest, TheSessionTravelsWithTheClientAndWaitGoesToTheWritersRegion) {
  RespTestClient client = Connect();
  // A read before any write carries no session.
  EXPECT_EQ(Call(client, {"GET", "a"}), "$-1\r\n");
  EXPECT_EQ(Call(client, {"INCR", "a"}), ":1\r\n");
  VersionVector after_write;
  after_write.Set(kUs, 1);
  const std::string token = EncodeSessionToken(after_write);
  EXPECT_EQ(Call(client, {"MERIDIAN.SESSION"}), Bulk(token));
  EXPECT_EQ(Call(client, {"GET", "a"}), Bulk("1"));
  EXPECT_EQ(Call(client, {"PING"}), "+PONG\r\n");
  resp_[kUs]->set_holding(2);
  EXPECT_EQ(Call(client, {"WAIT", "2", "100"}), ":2\r\n");
  auto us = resp_[kUs]->seen();
  ASSERT_EQ(us.size(), 5u);
  EXPECT_FALSE(us[0].session_token);
  EXPECT_EQ(us[1].session_token, "-");
  EXPECT_TRUE(IsRouterKey(us[1].idempotency_key));
  EXPECT_EQ(us[1].args, (std::vector<std::string>{"INCR", "a"}));
  EXPECT_EQ(us[2].session_token, token);
  EXPECT_FALSE(us[3].session_token);  // PING reads no data
  EXPECT_EQ(us[4].args, (std::vector<std::string>{"MERIDIAN.WAITFOR", "0.1", "2", "100"}));
  // A WAIT pipelined behind a write waits for that write's reply and names it.
  ASSERT_TRUE(client
                  .SendRaw(RespTestClient::Encode({"INCR", "a"}) +
                           RespTestClient::Encode({"WAIT", "1", "0"}))
                  .ok());
  for (int i = 0; i < 2; ++i) {
    const Result<std::string> reply = client.ReadReply();
    EXPECT_EQ(reply.ok() ? *reply : reply.status().ToString(), ":2\r\n");
  }
  us = resp_[kUs]->seen();
  ASSERT_EQ(us.size(), 7u);
  EXPECT_EQ(us[6].args, (std::vector<std::string>{"MERIDIAN.WAITFOR", "0.2", "1", "0"}));
  // us goes: the read fails over to eu carrying the token of both writes (eu, a region, would
  // wait for it before answering); WAIT cannot be counted anywhere else.
  after_write.Set(kUs, 2);
  resp_[kUs]->Stop();
  EXPECT_EQ(Call(client, {"GET", "a"}), "$-1\r\n");
  const auto eu = resp_[kEu]->seen();
  ASSERT_EQ(eu.size(), 1u);
  EXPECT_EQ(eu[0].session_token, EncodeSessionToken(after_write));
  const std::string wait = Call(client, {"WAIT", "1", "0"});
  EXPECT_TRUE(wait.starts_with("-TRYAGAIN region us, which took this connection's last write"))
      << wait;
  EXPECT_EQ(resp_[kEu]->seen().size(), 1u);
}

TEST_F(RouterRespTest, ATokenFromElsewhereMakesTheClientsReadsCarryIt) {
  RespTestClient client = Connect();
  VersionVector elsewhere;
  elsewhere.Set(kEu, 4);
  const std::string token = EncodeSessionToken(elsewhere);
  EXPECT_TRUE(Call(client, {"MERIDIAN.SESSION", "garbage!"}).starts_with("-ERR invalid session"));
  EXPECT_EQ(Call(client, {"MERIDIAN.SESSION", token}), Bulk(token));
  EXPECT_EQ(Call(client, {"GET", "a"}), "$-1\r\n");
  const auto us = resp_[kUs]->seen();
  ASSERT_EQ(us.size(), 1u);
  EXPECT_EQ(us[0].session_token, token);
  // The write's region merges its own entry in.
  EXPECT_EQ(Call(client, {"INCR", "b"}), ":1\r\n");
  elsewhere.Set(kUs, 1);
  EXPECT_EQ(Call(client, {"MERIDIAN.SESSION"}), Bulk(EncodeSessionToken(elsewhere)));
}

// Past max_clients a connection is told so and closed, as redis-server does past maxclients;
// the connections already served go on.
TEST(RespFrontTest, ConnectionsPastMaxClientsAreRefused) {
  FakeRespRegion region("us");
  region.Start();
  boost::asio::io_context ioc;
  auto work = boost::asio::make_work_guard(ioc);
  RouterMetrics metrics;
  RespFrontOptions options;
  options.address = "127.0.0.1:0";
  options.region_names = {"us"};
  options.resp_dial = {region.address()};
  options.max_clients = 1;
  RespFrontHooks hooks;
  hooks.choose = [](RegionId, const std::vector<RegionId>& tried) {
    return tried.empty() ? std::optional<RegionId>(0) : std::nullopt;
  };
  hooks.forward_failed = [](RegionId, RegionId, const std::string&) {};
  hooks.new_key = [] { return std::string("key"); };
  RespFront front(ioc, options, hooks, metrics);
  ASSERT_TRUE(front.Start().ok());
  std::thread loop([&] { ioc.run(); });

  Result<RespTestClient> first = RespTestClient::Connect(front.address(), kPatience);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->Call({"PING"}).value(), "+PONG\r\n");
  Result<RespTestClient> second = RespTestClient::Connect(front.address(), kPatience);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  std::string bytes;
  EXPECT_TRUE(second->ReadUntilClosed(&bytes));
  EXPECT_EQ(bytes, "-ERR max number of clients reached\r\n");
  EXPECT_EQ(first->Call({"INCR", "n"}).value(), ":1\r\n");
  EXPECT_EQ(region.seen().back().idempotency_key, "key");

  front.Stop();
  work.reset();
  loop.join();
}

// A RespFront of its own on one region, with options the test chooses (resp_front.h
// contract 10's timeouts): started on construction, stopped on destruction.
class FrontUnderTest {
 public:
  FrontUnderTest(FakeRespRegion& region, const std::function<void(RespFrontOptions&)>& adjust) {
    RespFrontOptions options;
    options.address = "127.0.0.1:0";
    options.region_names = {"us"};
    options.resp_dial = {region.address()};
    adjust(options);
    RespFrontHooks hooks;
    hooks.choose = [](RegionId, const std::vector<RegionId>& tried) {
      return tried.empty() ? std::optional<RegionId>(0) : std::nullopt;
    };
    hooks.forward_failed = [](RegionId, RegionId, const std::string&) {};
    hooks.new_key = [] { return std::string("key"); };
    front_ = std::make_unique<RespFront>(ioc_, options, hooks, metrics_);
    started_ = front_->Start();
    loop_ = std::thread([this] { ioc_.run(); });
  }
  ~FrontUnderTest() {
    front_->Stop();
    work_.reset();
    loop_.join();
  }
  const Status& started() const { return started_; }
  std::string address() const { return front_->address(); }
  double TimedOut(const std::string& reason) {
    return metrics_.resp_connections_timed_out.WithLabels({reason}).Value();
  }
  double HandshakesFailed() const { return metrics_.resp_tls_handshakes_failed.Value(); }
  double TlsFailures(const std::string& reason) {
    return metrics_.client_tls_handshake_failures.WithLabels({"resp", reason}).Value();
  }

 private:
  boost::asio::io_context ioc_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ =
      boost::asio::make_work_guard(ioc_);
  RouterMetrics metrics_;
  std::unique_ptr<RespFront> front_;
  Status started_;
  std::thread loop_;
};

// An idle connection is closed without a reply and counted; one whose command waits on a
// region longer than the idle timeout is not idle: it gets its reply first.
TEST(RespFrontTest, IdleConnectionsAreClosedButNotWhileACommandWaits) {
  FakeRespRegion region("us");
  region.Start();
  FrontUnderTest front(region, [](RespFrontOptions& o) {
    o.idle_timeout_ms = 100;
    o.forward_timeout_ms = 1'000;  // the stalled command's wait: ten idle timeouts
  });
  ASSERT_TRUE(front.started().ok()) << front.started().ToString();

  Result<RespTestClient> idle = RespTestClient::Connect(front.address(), kPatience);
  ASSERT_TRUE(idle.ok()) << idle.status().ToString();
  EXPECT_EQ(idle->Call({"PING"}).value(), "+PONG\r\n");
  std::string bytes;
  EXPECT_TRUE(idle->ReadUntilClosed(&bytes));  // bounded by kPatience
  EXPECT_EQ(bytes, "");
  EXPECT_EQ(front.TimedOut("idle"), 1);

  region.set_mode(FakeRespRegion::Mode::kHang);
  Result<RespTestClient> waiting = RespTestClient::Connect(front.address(), kPatience);
  ASSERT_TRUE(waiting.ok()) << waiting.status().ToString();
  Result<std::string> reply = waiting->Call({"INCR", "n"});
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();  // answered, not closed
  EXPECT_EQ(reply->rfind("-TRYAGAIN", 0), 0u) << *reply;
  EXPECT_TRUE(waiting->ReadUntilClosed(&bytes));  // idle once answered
  EXPECT_EQ(front.TimedOut("idle"), 2);
}

TEST(RespFrontTest, ZeroTimeoutsNeverClose) {
  FakeRespRegion region("us");
  region.Start();
  FrontUnderTest front(region, [](RespFrontOptions& o) {
    o.idle_timeout_ms = 0;
    o.handshake_timeout_ms = 0;
    o.command_timeout_ms = 0;
  });
  ASSERT_TRUE(front.started().ok());
  Result<RespTestClient> client = RespTestClient::Connect(front.address(), 300ms);
  ASSERT_TRUE(client.ok());
  EXPECT_EQ(client->Call({"PING"}).value(), "+PONG\r\n");
  std::string bytes;
  EXPECT_FALSE(client->ReadUntilClosed(&bytes));  // still open when the read gives up
  EXPECT_EQ(client->Call({"PING"}).value(), "+PONG\r\n");
  EXPECT_EQ(front.TimedOut("idle"), 0);
}

// Slowloris: a client trickling one command a byte at a time keeps the connection busy (never
// idle), yet is closed once the command is still incomplete command_timeout_ms after its first
// byte, and counted as "command". Between commands only the idle timeout applies.
TEST(RespFrontTest, ATrickledCommandIsClosedButAQuietConnectionOnlyByIdle) {
  FakeRespRegion region("us");
  region.Start();
  FrontUnderTest front(region, [](RespFrontOptions& o) {
    o.command_timeout_ms = 200;
    o.idle_timeout_ms = 400;  // longer than the command limit, far longer than a byte's gap
  });
  ASSERT_TRUE(front.started().ok()) << front.started().ToString();

  // Each ReadUntilClosed waits at most the socket's 20 ms receive timeout: the trickle's pace.
  Result<RespTestClient> trickle = RespTestClient::Connect(front.address(), 20ms);
  ASSERT_TRUE(trickle.ok()) << trickle.status().ToString();
  const std::string command = "*2\r\n$4\r\nECHO\r\n$100000\r\n" + std::string(100'000, 'x');
  const auto give_up = std::chrono::steady_clock::now() + kPatience;
  bool closed = false;
  size_t sent = 0;
  std::string bytes;
  while (!closed && sent < command.size() && std::chrono::steady_clock::now() < give_up) {
    closed = !trickle->SendRaw(command.substr(sent++, 1)).ok() || trickle->ReadUntilClosed(&bytes);
  }
  EXPECT_TRUE(closed) << "still open after " << sent << " bytes";
  EXPECT_EQ(bytes, "");  // closed without a reply
  EXPECT_EQ(front.TimedOut("command"), 1);
  EXPECT_EQ(front.TimedOut("idle"), 0);

  // A connection quiet between commands outlives the command limit and goes only when idle.
  Result<RespTestClient> quiet = RespTestClient::Connect(front.address(), kPatience);
  ASSERT_TRUE(quiet.ok()) << quiet.status().ToString();
  EXPECT_EQ(quiet->Call({"PING"}).value(), "+PONG\r\n");
  EXPECT_TRUE(quiet->ReadUntilClosed(&bytes));  // bounded by kPatience
  EXPECT_EQ(front.TimedOut("idle"), 1);
  EXPECT_EQ(front.TimedOut("command"), 1);
}

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
    ++n;
  return n;
}

// The command limit is per command: a steady pipeline for several times command_timeout_ms whose
// every send ends mid-command (so every read does too) is served, not closed as a slow client.
TEST(RespFrontTest, ASteadyPipelineEndingEachSendMidCommandIsNotASlowClient) {
  FakeRespRegion region("us");
  region.Start();
  FrontUnderTest front(region, [](RespFrontOptions& o) { o.command_timeout_ms = 100; });
  ASSERT_TRUE(front.started().ok()) << front.started().ToString();
  // Each ReadUntilClosed waits at most the socket's 20 ms receive timeout: the sends' pace.
  Result<RespTestClient> client = RespTestClient::Connect(front.address(), 20ms);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  const std::string ping = RespTestClient::Encode({"PING"});
  const size_t half = ping.size() / 2;
  size_t sent = 0;
  std::string replies;
  bool closed = false;
  const auto until = std::chrono::steady_clock::now() + 500ms;  // five times the limit
  ASSERT_TRUE(client->SendRaw(ping.substr(0, half)).ok());
  while (!closed && std::chrono::steady_clock::now() < until) {
    ASSERT_TRUE(client->SendRaw(ping.substr(half) + ping + ping + ping.substr(0, half)).ok());
    sent += 3;
    closed = client->ReadUntilClosed(&replies);  // every byte read so far
  }
  ASSERT_FALSE(closed) << "closed after " << sent << " commands";
  ASSERT_TRUE(client->SendRaw(ping.substr(half)).ok());
  ++sent;
  const auto give_up = std::chrono::steady_clock::now() + kPatience;
  while (!closed && Count(replies, "+PONG\r\n") < sent &&
         std::chrono::steady_clock::now() < give_up) {
    closed = client->ReadUntilClosed(&replies);
  }
  EXPECT_FALSE(closed);
  EXPECT_EQ(Count(replies, "+PONG\r\n"), sent);
  EXPECT_EQ(front.TimedOut("command"), 0);
}

// A client that connects to the TLS listener and never finishes a handshake (here: sends
// nothing) is closed and counted; a failed handshake (plaintext RESP) is counted too; a real TLS
// client is served.
TEST(RespFrontTest, AStalledTlsHandshakeIsClosedAndCounted) {
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("resp_front_tls_" + std::to_string(::getpid())))
          .string();
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(WriteClusterCertificates(dir, {"us"}, {}).ok());
  Result<TlsContextPtr> tls = MakeServerTlsContext(ListenerCertPath(dir), ListenerKeyPath(dir));
  ASSERT_TRUE(tls.ok()) << tls.status().ToString();
  FakeRespRegion region("us");
  region.Start();
  FrontUnderTest front(region, [&](RespFrontOptions& o) {
    o.listener_tls = *tls;
    o.handshake_timeout_ms = 100;
    o.idle_timeout_ms = 0;
  });
  ASSERT_TRUE(front.started().ok());

  Result<RespTestClient> silent = RespTestClient::Connect(front.address(), kPatience);
  ASSERT_TRUE(silent.ok());
  std::string bytes;
  EXPECT_TRUE(silent->ReadUntilClosed(&bytes));
  EXPECT_EQ(bytes, "");
  EXPECT_EQ(front.TimedOut("handshake"), 1);
  EXPECT_EQ(front.HandshakesFailed(), 1);
  EXPECT_EQ(front.TlsFailures("timeout"), 1);

  Result<RespTestClient> plain = RespTestClient::Connect(front.address(), kPatience);
  ASSERT_TRUE(plain.ok());
  ASSERT_TRUE(plain->Send({"PING"}).ok());
  EXPECT_TRUE(plain->ReadUntilClosed(&bytes));
  EXPECT_EQ(front.HandshakesFailed(), 2);
  EXPECT_EQ(front.TimedOut("handshake"), 1);  // that one failed, it did not time out
  EXPECT_EQ(front.TlsFailures("not_tls"), 1);
  EXPECT_EQ(front.TlsFailures("timeout"), 1);

  Result<TlsContextPtr> client_tls = MakeClientTlsContext(CaCertPath(dir));
  ASSERT_TRUE(client_tls.ok()) << client_tls.status().ToString();
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket socket(ioc);
  auto endpoint = ResolveEndpoint(front.address());
  ASSERT_TRUE(endpoint.ok());
  socket.connect(*endpoint);
  boost::asio::ssl::stream<boost::asio::ip::tcp::socket&> stream(socket, **client_tls);
  boost::system::error_code ec;
  stream.handshake(boost::asio::ssl::stream_base::client, ec);
  ASSERT_FALSE(ec) << ec.message();
  boost::asio::write(stream, boost::asio::buffer(std::string("*1\r\n$4\r\nPING\r\n")), ec);
  ASSERT_FALSE(ec) << ec.message();
  char reply[7] = {};
  boost::asio::read(stream, boost::asio::buffer(reply, sizeof reply), ec);
  EXPECT_EQ(std::string(reply, sizeof reply), "+PONG\r\n");
  EXPECT_EQ(front.HandshakesFailed(), 2);
  std::filesystem::remove_all(dir);
}

// A TLS client trusting `ca` only, against `address`: the handshake's error.
boost::system::error_code HandshakeTrusting(const std::string& address, const std::string& ca) {
  Result<TlsContextPtr> context = MakeClientTlsContext(ca);
  if (!context.ok()) return boost::asio::error::invalid_argument;
  auto endpoint = ResolveEndpoint(address);
  if (!endpoint.ok()) return boost::asio::error::invalid_argument;
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket socket(ioc);
  boost::system::error_code ec;
  socket.connect(*endpoint, ec);
  if (ec) return ec;
  boost::asio::ssl::stream<boost::asio::ip::tcp::socket&> stream(socket, **context);
  stream.set_verify_mode(boost::asio::ssl::verify_peer);
  stream.handshake(boost::asio::ssl::stream_base::client, ec);
  return ec;
}

// The router's two client listeners count failed handshakes by reason, as a region's do
// (net/tls_handshake_failure.h): a plaintext client is "not_tls", a client trusting another CA
// "cert_rejected", each under its listener in /router/metrics.
TEST(RouterTlsTest, FailedHandshakesOnBothListenersAreCountedByReason) {
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("router_tls_" + std::to_string(::getpid())))
          .string();
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(WriteClusterCertificates(dir + "/cluster", {"us"}, {}).ok());
  ASSERT_TRUE(WriteClusterCertificates(dir + "/other", {"us"}, {}).ok());
  Result<TlsContextPtr> tls =
      MakeServerTlsContext(ListenerCertPath(dir + "/cluster"), ListenerKeyPath(dir + "/cluster"));
  ASSERT_TRUE(tls.ok()) << tls.status().ToString();
  FakeRegion health("us", 0ms);
  health.Start();
  FakeRespRegion resp("us");
  resp.Start();
  RouterTopology topology;
  topology.region_names = {"us"};
  topology.dial = {{health.address()}};
  topology.link_rtt_ms = {{0}};
  topology.resp_dial = {resp.address()};
  RouterOptions options = TestRouterOptions();
  options.resp_address = "127.0.0.1:0";
  options.listener_tls = *tls;
  Router router(std::move(topology), std::move(options));
  ASSERT_TRUE(router.Start().ok());

  for (const std::string& address : {router.address(), router.resp_address()}) {
    Result<RespTestClient> plain = RespTestClient::Connect(address, kPatience);
    ASSERT_TRUE(plain.ok()) << plain.status().ToString();
    ASSERT_TRUE(plain->SendRaw("GET / HTTP/1.1\r\nHost: x\r\n\r\n").ok());
    std::string bytes;
    EXPECT_TRUE(plain->ReadUntilClosed(&bytes));
    EXPECT_TRUE(HandshakeTrusting(address, CaCertPath(dir + "/other")));  // refused by the client
  }
  auto series = [](const std::string& listener, const std::string& reason) {
    return "meridian_router_client_tls_handshake_failures_total{listener=\"" + listener +
           "\",reason=\"" + reason + "\"} 1\n";
  };
  const std::vector<std::string> expected = {
      series("http", "not_tls"), series("http", "cert_rejected"), series("resp", "not_tls"),
      series("resp", "cert_rejected")};
  // The listeners count when they finish with the connection, after the client saw it fail.
  std::string text;
  const bool counted = WaitFor([&] {
    text = router.MetricsText();
    for (const std::string& line : expected) {
      if (text.find(line) == std::string::npos) return false;
    }
    return true;
  });
  EXPECT_TRUE(counted) << text;
  EXPECT_NE(text.find("meridian_router_resp_tls_handshakes_failed_total 2\n"), std::string::npos)
      << text;
  router.Stop();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace meridian::router
