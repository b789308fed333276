// Three `meridian region` processes on loopback, replicating directly (no WAN emulator): writes
// of every class in every region converge to the same values everywhere, read-your-writes holds
// across regions with the session token, quorum reads merge, retries with one idempotency key
// take effect once, and bad input changes nothing.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

#include "api/session_token.h"
#include "clock/version_vector.h"
#include "net/testing/test_socket.h"
#include "tests/integration/cluster_harness.h"

namespace meridian::testing {
namespace {

using Json = nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

Json CallJson(ClusterHarness& c, size_t region, const std::string& method,
              const std::string& target, const std::string& body = "",
              std::vector<std::pair<std::string, std::string>> headers = {},
              int want_status = 200) {
  auto r = c.Call(region, method, target, body, std::move(headers));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  if (!r.ok()) return Json();
  EXPECT_EQ(r->status, want_status) << method << " " << target << ": " << r->body;
  Json parsed = Json::parse(r->body, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(parsed.is_discarded()) << r->body;
  return parsed;
}

// The value of `target` in every region, once they all agree (bounded), else the last seen.
std::vector<Json> ConvergedValues(ClusterHarness& c, const std::string& target) {
  std::vector<Json> values(c.regions().size());
  Eventually(
      [&] {
        for (size_t r = 0; r < values.size(); ++r) {
          auto got = c.Call(r, "GET", target);
          if (!got.ok() || got->status != 200) return false;
          values[r] = Json::parse(got->body)["value"];
        }
        for (const Json& v : values) {
          if (v != values[0]) return false;
        }
        return true;
      },
      seconds(20));
  return values;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

// `body` (a /metrics exposition) passes Prometheus's own checker (installed by scripts/build).
void ExpectPromtoolClean(const std::string& dir, const std::string& body) {
  const std::string file = dir + "/metrics.txt";
  std::ofstream(file) << body;
  const std::string promtool = "promtool check metrics < " + file + " > " + file + ".out 2>&1";
  EXPECT_EQ(std::system(promtool.c_str()), 0) << ReadFile(file + ".out");
}

// The value of one series in a /metrics exposition; -1 when absent.
double SeriesValue(const std::string& exposition, const std::string& series) {
  const size_t at = exposition.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(exposition.substr(at + series.size() + 2));
}

class RegionClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Status started = cluster_.StartAll();
    ASSERT_TRUE(started.ok()) << started.ToString();
  }
  ClusterHarness cluster_;
};

TEST_F(RegionClusterTest, WritesOfEveryClassInEveryRegionConverge) {
  const size_t n = cluster_.regions().size();
  for (size_t r = 0; r < n; ++r) {
    const std::string name = cluster_.regions()[r];
    CallJson(cluster_, r, "PUT", "/profile/alice", Json{{"from_" + name, name}}.dump());
    CallJson(cluster_, r, "PUT", "/profile/own-" + name, Json{{"region", name}}.dump());
    CallJson(cluster_, r, "POST", "/counter/visits/incr?by=" + std::to_string(r + 1));
    CallJson(cluster_, r, "POST", "/counter/visits/decr");
    CallJson(cluster_, r, "POST", "/tags/alice", Json{{"add", {"t-" + name, "common"}}}.dump());
    CallJson(cluster_, r, "PUT", "/register/note", Json{{"value", "by " + name}}.dump());
  }
  // Removing an element everyone added, in one region: observed-remove drops what it saw.
  CallJson(cluster_, 0, "POST", "/tags/alice", Json{{"remove", {"t-us"}}}.dump());

  Json expected_profile = Json::object();
  for (const std::string& name : cluster_.regions())
    expected_profile["from_" + name] = name;
  for (const Json& v : ConvergedValues(cluster_, "/profile/alice"))
    EXPECT_EQ(v, expected_profile);
  for (const Json& v : ConvergedValues(cluster_, "/counter/visits")) {
    EXPECT_EQ(v, Json(1 + 2 + 3 - 3));
  }
  for (const Json& v : ConvergedValues(cluster_, "/tags/alice")) {
    std::set<std::string> tags(v.begin(), v.end());
    // t-us was removed only if its add had reached us first; it was added in us, so it had.
    EXPECT_EQ(tags, (std::set<std::string>{"common", "t-eu", "t-ap"})) << v.dump();
  }
  for (size_t r = 0; r < n; ++r) {
    const std::string name = cluster_.regions()[r];
    for (const Json& v : ConvergedValues(cluster_, "/profile/own-" + name)) {
      EXPECT_EQ(v, (Json{{"region", name}}));
    }
  }
  const std::vector<Json> notes = ConvergedValues(cluster_, "/register/note");
  EXPECT_FALSE(notes[0].empty());
  // Every region ends with the same version vector.
  EXPECT_TRUE(Eventually(
      [&] {
        Json first = CallJson(cluster_, 0, "GET", "/healthz")["version_vector"];
        for (size_t r = 1; r < n; ++r) {
          if (CallJson(cluster_, r, "GET", "/healthz")["version_vector"] != first) return false;
        }
        return true;
      },
      seconds(10)));
}

TEST_F(RegionClusterTest, SessionTokenGivesReadYourWritesInAnotherRegion) {
  for (int i = 0; i < 20; ++i) {
    const std::string key = "/counter/ryw-" + std::to_string(i);
    Json written = CallJson(cluster_, 0, "POST", key + "/incr?by=5");
    const std::string token = written["session_token"];
    // Read immediately in another region: the token makes it wait until the write is there.
    Json read = CallJson(cluster_, 1 + i % 2, "GET", key, "", {{"X-Session-Token", token}});
    EXPECT_EQ(read["value"], 5) << read.dump();
  }
}

TEST_F(RegionClusterTest, ASessionTokenNeverSatisfiedTimesOutWithAClearError) {
  // A token naming a write this cluster never took: the read waits its bound, then says why.
  VersionVector future;
  future.Set(0, 1'000'000);
  const auto started = std::chrono::steady_clock::now();
  Json error = CallJson(cluster_, 1, "GET", "/counter/x", "",
                        {{"X-Session-Token", EncodeSessionToken(future)}}, 504);
  EXPECT_GE(std::chrono::steady_clock::now() - started, milliseconds(1000));
  EXPECT_NE(error["error"]["message"].get<std::string>().find("session token"), std::string::npos)
      << error.dump();
  // A token that is not one at all is refused at once.
  CallJson(cluster_, 1, "GET", "/counter/x", "", {{"X-Session-Token", "%%%"}}, 400);
}

TEST_F(RegionClusterTest, QuorumReadMergesAMajority) {
  CallJson(cluster_, 1, "PUT", "/profile/q", Json{{"f", "v"}}.dump());
  Json read = CallJson(cluster_, 2, "GET", "/profile/q?consistency=quorum");
  // Either ap already had it or eu answered the quorum; both must show the write eventually,
  // and a quorum read from a region that has not applied it still sees it once eu answers.
  EXPECT_TRUE(Eventually(
      [&] {
        return CallJson(cluster_, 2, "GET", "/profile/q?consistency=quorum")["value"] ==
               Json{{"f", "v"}};
      },
      seconds(10)));
  EXPECT_TRUE(read.contains("session_token"));
}

// scope=global merges every region's page: each key is in the region that took it when its write
// is answered, so the global page lists all three however far replication got; a stopped region
// is named missing, and a bad scope is a 400.
TEST_F(RegionClusterTest, AGlobalScanListsEveryRegionsKeysAndNamesTheMissing) {
  CallJson(cluster_, 0, "PUT", "/register/g:1", Json{{"value", "us"}}.dump());
  CallJson(cluster_, 1, "PUT", "/register/g:2", Json{{"value", "eu"}}.dump());
  CallJson(cluster_, 2, "PUT", "/register/g:3", Json{{"value", "ap"}}.dump());
  auto keys = [](const Json& page) {
    std::vector<std::string> out;
    for (const Json& entry : page["keys"])
      out.push_back(entry["key"]);
    return out;
  };
  Json first = CallJson(cluster_, 0, "GET", "/register?prefix=g%3A&limit=2&scope=global");
  EXPECT_EQ(keys(first), (std::vector<std::string>{"g:1", "g:2"})) << first.dump();
  EXPECT_EQ(first["scope"], "global");
  EXPECT_EQ(first["partial"], false);
  ASSERT_TRUE(first["cursor"].is_string()) << first.dump();
  Json second = CallJson(
      cluster_, 0, "GET",
      "/register?prefix=g%3A&limit=2&scope=global&cursor=" + first["cursor"].get<std::string>());
  EXPECT_EQ(keys(second), std::vector<std::string>{"g:3"}) << second.dump();

  ASSERT_TRUE(cluster_.StopRegion(2).has_value());
  Json partial = CallJson(cluster_, 0, "GET", "/register?prefix=g%3A&scope=global");
  EXPECT_EQ(partial["partial"], true) << partial.dump();
  EXPECT_EQ(partial["missing_regions"], Json::array({"ap"}));
  Json bad = CallJson(cluster_, 0, "GET", "/register?scope=planet", "", {}, 400);
  EXPECT_NE(bad.dump().find("scope"), std::string::npos) << bad.dump();
}

// ?w=all: answered only once every region holds the write durably, so a read anywhere right
// after the answer finds it (with w=local that read may well come too early).
TEST_F(RegionClusterTest, AWriteWithWAllIsInEveryRegionWhenAnswered) {
  for (int i = 0; i < 5; ++i) {
    const std::string target = "/counter/wall" + std::to_string(i) + "/incr?by=7&w=all";
    Json write = CallJson(cluster_, i % 3, "POST", target);
    EXPECT_EQ(write.value("replicated_to", 0), 3) << write.dump();
    for (size_t r = 0; r < cluster_.regions().size(); ++r) {
      EXPECT_EQ(CallJson(cluster_, r, "GET", "/counter/wall" + std::to_string(i))["value"], 7)
          << cluster_.regions()[r];
    }
  }
  // consistency=all merges every region's state (and "strong" is the quorum read).
  EXPECT_EQ(CallJson(cluster_, 2, "GET", "/counter/wall0?consistency=all")["value"], 7);
  EXPECT_EQ(CallJson(cluster_, 2, "GET", "/counter/wall0?consistency=strong")["value"], 7);
  Json majority = CallJson(cluster_, 1, "PUT", "/profile/wmaj?w=majority", R"({"a":"1"})");
  EXPECT_GE(majority.value("replicated_to", 0), 2) << majority.dump();
  CallJson(cluster_, 1, "PUT", "/profile/wmaj?w=most", R"({"a":"2"})", {}, 400);
}

TEST_F(RegionClusterTest, OneIdempotencyKeyTakesEffectOnceAcrossRegions) {
  for (size_t r = 0; r < cluster_.regions().size(); ++r) {
    CallJson(cluster_, r, "POST", "/counter/paid/incr?by=10", "", {{"Idempotency-Key", "pay-1"}});
  }
  CallJson(cluster_, 0, "POST", "/counter/paid/incr?by=10", "", {{"Idempotency-Key", "pay-1"}});
  for (const Json& v : ConvergedValues(cluster_, "/counter/paid"))
    EXPECT_EQ(v, 10);
  // The same key with other parameters is refused, where the key was used and where its record
  // replicated to, and changes nothing (issue 19, item 2).
  for (size_t r = 0; r < cluster_.regions().size(); ++r) {
    for (const char* target :
         {"/counter/paid/incr?by=50", "/counter/paid/decr?by=10", "/counter/other/incr?by=10"}) {
      Json refused = CallJson(cluster_, r, "POST", target, "", {{"Idempotency-Key", "pay-1"}}, 422);
      EXPECT_NE(refused["error"]["message"].get<std::string>().find("'pay-1'"), std::string::npos)
          << refused;
    }
  }
  for (const Json& v : ConvergedValues(cluster_, "/counter/paid"))
    EXPECT_EQ(v, 10);
  EXPECT_EQ(ConvergedValues(cluster_, "/counter/other")[0], 0);
}

TEST_F(RegionClusterTest, BadInputGetsAClearErrorAndChangesNothing) {
  struct Case {
    std::string method, target, body;
    int status;
  };
  const std::vector<Case> cases = {
      {"PUT", "/profile/bad", "{not json", 400},
      {"PUT", "/profile/bad", "[1,2]", 400},
      {"POST", "/counter/bad/incr?by=abc", "", 400},
      {"POST", "/tags/bad", R"({"add": [1]})", 400},
      {"PUT", "/profile/" + std::string(513, 'k'), R"({"a":"b"})", 400},
      {"PUT", "/profile/bad", R"({"a":")" + std::string((1 << 20) + 10, 'x') + R"("})", 413},
      {"GET", "/nowhere", "", 404},
      {"PATCH", "/profile/bad", "", 405},
  };
  Json before = CallJson(cluster_, 0, "GET", "/healthz")["version_vector"];
  for (const Case& c : cases) {
    Json error = CallJson(cluster_, 0, c.method, c.target, c.body, {}, c.status);
    EXPECT_TRUE(error.contains("error")) << c.target;
    EXPECT_FALSE(error["error"]["message"].get<std::string>().empty());
  }
  EXPECT_EQ(CallJson(cluster_, 0, "GET", "/healthz")["version_vector"], before);
  EXPECT_EQ(CallJson(cluster_, 0, "GET", "/profile/bad")["found"], false);
}

TEST_F(RegionClusterTest, MetricsAndConflictsAreServed) {
  CallJson(cluster_, 0, "PUT", "/profile/m", Json{{"f", "1"}}.dump());
  auto metrics = cluster_.Call(0, "GET", "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_EQ(metrics->status, 200);
  for (const char* name :
       {"meridian_http_request_duration_seconds_bucket", "meridian_replication_backlog_ops",
        "meridian_clock_offset_seconds", "meridian_peer_connected", "meridian_oplog_ops",
        "meridian_ops_applied_total"}) {
    EXPECT_NE(metrics->body.find(name), std::string::npos) << name;
  }
  ExpectPromtoolClean(cluster_.dir(), metrics->body);

  Json conflicts = CallJson(cluster_, 0, "GET", "/conflicts");
  EXPECT_TRUE(conflicts.contains("recent"));

  // The region's own dashboard: the page, and a config pointing it at this region's /metrics.
  auto page = cluster_.Call(1, "GET", "/dashboard");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("panel-lag"), std::string::npos);
  Json view = CallJson(cluster_, 1, "GET", "/dashboard/api/config");
  EXPECT_EQ(view["scope"], "region");
  EXPECT_EQ(view["regions"], Json({"eu"}));
  EXPECT_EQ(view["metrics_urls"]["eu"], "/metrics");
  auto missing = cluster_.Call(1, "GET", "/dashboard/api/query?query=up");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
}

// Issue 17: RESP commands are counted by command (known names only) and result, and timed.
TEST_F(RegionClusterTest, RespCommandsAreCountedByCommandAndResult) {
  TestSocket resp(cluster_.resp_port(0));
  ASSERT_TRUE(resp.valid());
  // Inline commands, pipelined; a client word that is no command is counted as "other".
  ASSERT_TRUE(resp.Send("AUTH " + cluster_.client_key() +
                        "\r\nSET rk 1\r\nget rk\r\nSADD rk m\r\nFLUSHALL\r\nSET rk 2\r\n"));
  const std::string expected =
      "+OK\r\n+OK\r\n$1\r\n1\r\n"
      "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
      "-ERR unknown command 'FLUSHALL'\r\n+OK\r\n";
  // Replies leave after their command is counted: once read, /metrics shows them.
  ASSERT_EQ(resp.Read(expected.size(), seconds(10)), expected);
  ASSERT_TRUE(cluster_.Call(0, "GET", "/healthz").ok());
  auto metrics = cluster_.Call(0, "GET", "/metrics");
  ASSERT_TRUE(metrics.ok());
  const std::string& body = metrics->body;
  EXPECT_EQ(SeriesValue(body, R"(meridian_resp_commands_total{command="AUTH",result="ok"})"), 1);
  EXPECT_EQ(SeriesValue(body, R"(meridian_resp_commands_total{command="SET",result="ok"})"), 2);
  EXPECT_EQ(SeriesValue(body, R"(meridian_resp_commands_total{command="GET",result="ok"})"), 1);
  EXPECT_EQ(SeriesValue(body, R"(meridian_resp_commands_total{command="SADD",result="error"})"), 1);
  EXPECT_EQ(SeriesValue(body, R"(meridian_resp_commands_total{command="other",result="error"})"),
            1);
  EXPECT_EQ(SeriesValue(body, R"(meridian_resp_command_seconds_count{command="SET"})"), 2);
  EXPECT_EQ(SeriesValue(body, R"(meridian_resp_command_seconds_count{command="SADD"})"), 1);
  EXPECT_EQ(body.find("FLUSHALL"), std::string::npos);
  EXPECT_EQ(body.find(R"(command="SADD",result="ok")"), std::string::npos);
  // The HTTP series, updated through cached children, still count by route and status.
  EXPECT_GE(SeriesValue(body, R"(meridian_http_requests_total{method="GET",class="none",)"
                              R"(op="healthz",code="200"})"),
            1);
  ExpectPromtoolClean(cluster_.dir(), body);
}

// resp_server.h contract 12: the replies to what one read brought leave in one write, whether
// answered at once (PING) or at the end of the region's pass (SET, after its commit).
TEST_F(RegionClusterTest, PipelinedRepliesShareOneWrite) {
  auto writes = [&] {
    auto metrics = cluster_.Call(0, "GET", "/metrics");
    return metrics.ok() ? SeriesValue(metrics->body, "meridian_resp_writes_total") : -1;
  };
  TestSocket resp(cluster_.resp_port(0));
  ASSERT_TRUE(resp.valid());
  ASSERT_TRUE(resp.Send("AUTH " + cluster_.client_key() + "\r\n"));
  ASSERT_EQ(resp.Read(5, seconds(10)), "+OK\r\n");
  std::string pings, pongs, sets, oks;
  for (int i = 0; i < 10; ++i) {
    pings += "PING\r\n";
    pongs += "+PONG\r\n";
    sets += "SET pipelined-" + std::to_string(i) + " v\r\n";
    oks += "+OK\r\n";
  }
  const double before = writes();
  ASSERT_GE(before, 1);
  ASSERT_TRUE(resp.Send(pings));
  ASSERT_EQ(resp.Read(pongs.size(), seconds(10)), pongs);
  EXPECT_EQ(writes() - before, 1);
  ASSERT_TRUE(resp.Send(sets));
  ASSERT_EQ(resp.Read(oks.size(), seconds(10)), oks);
  EXPECT_EQ(writes() - before, 2);
}

// /healthz and /metrics name the regions that hold garbage collection back: none once a write
// has gone round, the dead one while it is down, none again once it is back.
TEST_F(RegionClusterTest, HealthzAndMetricsNameTheRegionsHoldingBackCollection) {
  auto holding_back = [&] {
    auto r = cluster_.Call(0, "GET", "/healthz");
    if (!r.ok()) return Json();
    Json body = Json::parse(r->body, nullptr, /*allow_exceptions=*/false);
    return body.is_object() ? body["holding_back_collection"] : Json();
  };
  CallJson(cluster_, 0, "PUT", "/profile/gc", Json{{"f", "1"}}.dump());
  EXPECT_TRUE(Eventually([&] { return holding_back() == Json::array(); }, seconds(20)))
      << holding_back();

  const std::string& dead = cluster_.regions()[2];
  cluster_.KillRegion(2);
  CallJson(cluster_, 0, "PUT", "/profile/gc", Json{{"f", "2"}}.dump());
  EXPECT_TRUE(Eventually([&] { return holding_back() == Json({dead}); }, seconds(20)))
      << holding_back();
  auto metrics = cluster_.Call(0, "GET", "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->body.find("meridian_collection_held_back{peer=\"" + dead + "\"} 1"),
            std::string::npos)
      << metrics->body;
  EXPECT_NE(
      metrics->body.find("meridian_collection_held_back{peer=\"" + cluster_.regions()[1] + "\"} 0"),
      std::string::npos)
      << metrics->body;

  ASSERT_TRUE(cluster_.StartRegion(2).ok());
  EXPECT_TRUE(Eventually([&] { return holding_back() == Json::array(); }, seconds(30)))
      << holding_back();
}

TEST_F(RegionClusterTest, SigtermDrainsAndTheRegionComesBackWithItsData) {
  CallJson(cluster_, 2, "POST", "/counter/restart/incr?by=7");
  std::optional<int> code = cluster_.StopRegion(2);
  ASSERT_TRUE(code.has_value()) << "region did not stop on SIGTERM";
  EXPECT_EQ(*code, 0) << cluster_.ReadLog(2);
  ASSERT_TRUE(cluster_.StartRegion(2).ok());
  ASSERT_TRUE(cluster_.WaitForStatus(2, "ok", seconds(30)).ok()) << cluster_.ReadLog(2);
  EXPECT_EQ(CallJson(cluster_, 2, "GET", "/counter/restart")["value"], 7);
}

}  // namespace
}  // namespace meridian::testing
