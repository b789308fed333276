// kill -9 in the middle of a write load: a region restarted on its RocksDB loses no acknowledged
// write and applies nothing twice.
//
// Clients write to region us in a loop: counter increments, tag adds and profile fields, each
// with its own idempotency key. While they run, us is killed with SIGKILL. A write that was
// answered 200 must survive; a write whose answer was lost (the connection died) is uncertain
// and is retried after the restart with the same idempotency key, which must take effect at
// most once. So at the end every region must hold exactly: the counter = the number of
// increments, every tag and every field.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/cluster_harness.h"

namespace meridian::testing {
namespace {

using Json = nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

struct LoggedWrite {
  std::string method, target, body, idempotency_key;
};

// Run once per --wal-sync mode: "periodic" acknowledges before the fsync, and must still lose
// nothing to kill -9 (the kernel keeps what the process wrote).
class RegionCrashTest : public ::testing::TestWithParam<std::string> {};

TEST_P(RegionCrashTest, Sigkill_midLoad_losesNoAcknowledgedWriteAndDoubleAppliesNothing) {
  ClusterHarness cluster;
  cluster.set_region_flags({"--wal-sync", GetParam()});
  ASSERT_TRUE(cluster.StartAll().ok());

  constexpr int kClients = 4;
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<LoggedWrite> acked, uncertain;
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; !stop.load() && i < 100'000; ++i) {
        const std::string id = std::to_string(c) + "-" + std::to_string(i);
        LoggedWrite w;
        switch (i % 3) {
          case 0:
            w = {"POST", "/counter/crash/incr", "", "c-" + id};
            break;
          case 1:
            w = {"POST", "/tags/crash", Json{{"add", {"e-" + id}}}.dump(), "t-" + id};
            break;
          default:
            w = {"PUT", "/profile/crash-" + std::to_string(c), Json{{"f" + id, id}}.dump(),
                 "p-" + id};
        }
        auto r = cluster.Call(0, w.method, w.target, w.body,
                              {{"Idempotency-Key", w.idempotency_key}}, milliseconds(2000));
        std::lock_guard lock(mu);
        if (r.ok() && r->status == 200) {
          acked.push_back(w);
        } else if (!r.ok() || r->status >= 500) {
          uncertain.push_back(w);  // may or may not have been applied
          if (!r.ok()) std::this_thread::sleep_for(milliseconds(20));  // the region is down
        } else {
          ADD_FAILURE() << w.target << ": " << r->status << " " << r->body;
        }
      }
    });
  }
  // Let load build up, kill us in the middle of it, keep the clients hammering the dead port
  // for a moment, then restart it and let them write to the new incarnation too.
  const bool loaded = Eventually(
      [&] {
        std::lock_guard lock(mu);
        return acked.size() >= 300;
      },
      seconds(30));
  cluster.KillRegion(0);
  std::this_thread::sleep_for(milliseconds(300));
  ASSERT_TRUE(cluster.StartRegion(0).ok());
  ASSERT_TRUE(cluster.WaitForStatus(0, "ok", seconds(30)).ok());
  std::this_thread::sleep_for(milliseconds(300));
  stop = true;
  for (std::thread& t : clients)
    t.join();
  ASSERT_TRUE(loaded) << "the load never reached 300 acknowledged writes";

  // Retry every uncertain write with its idempotency key until it is acknowledged.
  for (const LoggedWrite& w : uncertain) {
    bool done = Eventually(
        [&] {
          auto r =
              cluster.Call(0, w.method, w.target, w.body, {{"Idempotency-Key", w.idempotency_key}});
          return r.ok() && r->status == 200;
        },
        seconds(10));
    ASSERT_TRUE(done) << "retry of " << w.idempotency_key << " never succeeded";
  }
  std::vector<LoggedWrite> all = acked;
  all.insert(all.end(), uncertain.begin(), uncertain.end());
  RecordProperty("acknowledged", static_cast<int>(acked.size()));
  RecordProperty("uncertain", static_cast<int>(uncertain.size()));
  std::printf("writes acknowledged %zu, uncertain (retried) %zu\n", acked.size(), uncertain.size());

  int64_t increments = 0;
  std::set<std::string> tags;
  std::map<std::string, Json> profiles;
  for (const LoggedWrite& w : all) {
    if (w.target == "/counter/crash/incr") {
      ++increments;
    } else if (w.target == "/tags/crash") {
      tags.insert(Json::parse(w.body)["add"][0].get<std::string>());
    } else {
      profiles[w.target].update(Json::parse(w.body));
    }
  }

  for (size_t r = 0; r < cluster.regions().size(); ++r) {
    SCOPED_TRACE("region " + cluster.regions()[r]);
    Json counter, tag_value;
    std::map<std::string, Json> profile_values;
    const bool converged = Eventually(
        [&] {
          auto c = cluster.Call(r, "GET", "/counter/crash");
          auto t = cluster.Call(r, "GET", "/tags/crash");
          if (!c.ok() || !t.ok() || c->status != 200 || t->status != 200) return false;
          counter = Json::parse(c->body)["value"];
          tag_value = Json::parse(t->body)["value"];
          for (const auto& [target, fields] : profiles) {
            auto p = cluster.Call(r, "GET", target);
            if (!p.ok() || p->status != 200) return false;
            profile_values[target] = Json::parse(p->body)["value"];
          }
          std::map<std::string, Json> expected(profiles.begin(), profiles.end());
          return counter == increments && tag_value.size() >= tags.size() &&
                 profile_values == expected;
        },
        seconds(30));
    EXPECT_TRUE(converged);
    EXPECT_EQ(counter, increments)
        << "acked " << acked.size() << ", uncertain " << uncertain.size();
    EXPECT_EQ(std::set<std::string>(tag_value.begin(), tag_value.end()), tags);
    for (const auto& [target, fields] : profiles)
      EXPECT_EQ(profile_values[target], fields);
  }
}

INSTANTIATE_TEST_SUITE_P(WalSync, RegionCrashTest, ::testing::Values("always", "periodic"),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                           return param_info.param;
                         });

// A restarting region listens at once: while it loads its data it answers 503 "loading" (a
// write changes nothing), and then serves what it had.
TEST(RegionRestartTest, ListensAtOnceAndAnswersLoadingUntilItsDataIsBack) {
  ClusterHarness cluster;
  ASSERT_TRUE(cluster.StartAll().ok());
  auto write = cluster.Call(0, "POST", "/counter/loading/incr?by=7");
  ASSERT_TRUE(write.ok());
  ASSERT_EQ(write->status, 200) << write->body;
  ASSERT_TRUE(cluster.StopRegion(0).has_value());
  ASSERT_TRUE(cluster.StartRegion(0, {"--TEST-recovery-delay-ms", "4000"}).ok());

  bool saw_loading = Eventually(
      [&] {
        auto r = cluster.Call(0, "GET", "/healthz", "", {}, milliseconds(500));
        return r.ok() && r->status == 503 && Json::parse(r->body).value("status", "") == "loading";
      },
      seconds(10));
  ASSERT_TRUE(saw_loading) << cluster.ReadLog(0);
  auto refused = cluster.Call(0, "POST", "/counter/loading/incr?by=1000");
  ASSERT_TRUE(refused.ok());  // a connection, not a refusal
  EXPECT_EQ(refused->status, 503);
  EXPECT_NE(refused->body.find("loading"), std::string::npos) << refused->body;
  bool retry_after = false;
  for (const auto& [name, value] : refused->headers)
    retry_after = retry_after || name == "Retry-After";
  EXPECT_TRUE(retry_after);

  ASSERT_TRUE(cluster.WaitForStatus(0, "ok", seconds(30)).ok()) << cluster.ReadLog(0);
  auto read = cluster.Call(0, "GET", "/counter/loading");
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(Json::parse(read->body).value("value", 0), 7) << read->body;
}

// A quorum read in a region that knows no majority is reachable answers 503 at once, naming
// how many regions it reaches, instead of waiting out its timeout (issue 19, item 6).
TEST(RegionQuorumTest, AQuorumReadWithNoReachableMajorityFailsAtOnceSayingWhy) {
  ClusterHarness cluster;
  ASSERT_TRUE(cluster.StartAll().ok());
  cluster.KillRegion(1);
  cluster.KillRegion(2);
  ASSERT_TRUE(Eventually(
      [&] {
        auto r = cluster.Call(0, "GET", "/healthz");
        if (!r.ok()) return false;
        for (const auto& peer : Json::parse(r->body)["peers"]) {
          if (peer.value("connected", true)) return false;
        }
        return true;
      },
      seconds(20)));
  auto read = cluster.Call(0, "GET", "/profile/q?consistency=quorum");
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->status, 503);
  EXPECT_NE(read->body.find("only 1 of 3 regions reachable"), std::string::npos) << read->body;
}

}  // namespace
}  // namespace meridian::testing
