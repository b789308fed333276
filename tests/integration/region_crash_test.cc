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
// nothing to kill -9 (the kernel keeps what the process wrote); "always_on_loop" is always with
// the loop running each fsync itself (--wal-sync-on-loop).
class RegionCrashTest : public ::testing::TestWithParam<std::string> {};

std::vector<std::string> WalFlags(const std::string& mode) {
  if (mode == "always_on_loop") return {"--wal-sync", "always", "--wal-sync-on-loop"};
  return {"--wal-sync", mode};
}

TEST_P(RegionCrashTest, Sigkill_midLoad_losesNoAcknowledgedWriteAndDoubleAppliesNothing) {
  ClusterHarness cluster;
  cluster.set_region_flags(WalFlags(GetParam()));
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
  size_t uncertain_at_kill = 0;
  {
    std::lock_guard lock(mu);
    uncertain_at_kill = uncertain.size();
  }
  cluster.KillRegion(0);
  // Events, not sleeps: every client has hit the dead port, then the new incarnation has
  // acknowledged another 100 writes.
  const bool hit_dead_port = Eventually(
      [&] {
        std::lock_guard lock(mu);
        return uncertain.size() >= uncertain_at_kill + kClients;
      },
      seconds(30));
  ASSERT_TRUE(cluster.StartRegion(0).ok());
  ASSERT_TRUE(cluster.WaitForStatus(0, "ok", seconds(30)).ok());
  size_t acked_at_restart = 0;
  {
    std::lock_guard lock(mu);
    acked_at_restart = acked.size();
  }
  const bool wrote_after_restart = Eventually(
      [&] {
        std::lock_guard lock(mu);
        return acked.size() >= acked_at_restart + 100;
      },
      seconds(30));
  stop = true;
  for (std::thread& t : clients)
    t.join();
  ASSERT_TRUE(loaded) << "the load never reached 300 acknowledged writes";
  ASSERT_TRUE(hit_dead_port) << "the clients never saw the killed region";
  ASSERT_TRUE(wrote_after_restart) << "the restarted region acknowledged no new writes";

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

INSTANTIATE_TEST_SUITE_P(WalSync, RegionCrashTest,
                         ::testing::Values("always", "periodic", "always_on_loop"),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                           return param_info.param;
                         });

}  // namespace
}  // namespace meridian::testing
