// A region that lost its disk rejoins, and a region down past the oplog retention catches up by a
// streamed state transfer while the sender keeps serving (issue 20; docs/replication.md, 3a).
//
// Three real `meridian region` processes on loopback. The first test deletes a stopped region's
// data directory: the region comes back as a new incarnation, waits until it holds its own ops
// again, and ends up with every key of every class, the handle's owner, and new writes. The
// second keeps a region down while the others take far more writes than their oplogs keep, and
// checks that the catch-up went through a state transfer while reads at the sender all succeeded.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
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

constexpr size_t kUs = 0, kEu = 1, kAp = 2;

Json Get(ClusterHarness& cluster, size_t region, const std::string& target) {
  auto r = cluster.Call(region, "GET", target);
  if (!r.ok() || r->status != 200) return Json();
  return Json::parse(r->body, nullptr, /*allow_exceptions=*/false);
}

void MustWrite(ClusterHarness& cluster, size_t region, const std::string& method,
               const std::string& target, const std::string& body = "") {
  auto r = cluster.Call(region, method, target, body);
  ASSERT_TRUE(r.ok()) << target;
  ASSERT_EQ(r->status, 200) << target << ": " << r->body;
}

// Sums a counter family from a region's /metrics text (every label set).
double MetricSum(ClusterHarness& cluster, size_t region, const std::string& name_and_labels) {
  auto r = cluster.Call(region, "GET", "/metrics");
  if (!r.ok()) return -1;
  double sum = 0;
  size_t at = 0;
  while ((at = r->body.find("\n" + name_and_labels, at)) != std::string::npos) {
    const size_t space = r->body.find(' ', at + 1);
    sum += std::stod(r->body.substr(space + 1, r->body.find('\n', space) - space - 1));
    at = space;
  }
  return sum;
}

// What a client sees of `key` of each class in `region` (value, members, fields).
Json Seen(ClusterHarness& cluster, size_t region, int key) {
  const std::string k = std::to_string(key);
  return Json{{"counter", Get(cluster, region, "/counter/c" + k)["value"]},
              {"tags", Get(cluster, region, "/tags/t" + k)["value"]},
              {"profile", Get(cluster, region, "/profile/p" + k)["value"]}};
}

TEST(RegionRejoinTest, ARegionWhoseDataDirectoryWasDeletedRejoinsWithEveryKey) {
  ClusterHarness cluster;
  ASSERT_TRUE(cluster.StartAll().ok());
  constexpr int kKeys = 60;
  // Writes of every class in every region, ap's own among them (it must get those back).
  for (int i = 0; i < 3 * kKeys; ++i) {
    const size_t region = static_cast<size_t>(i % 3);
    const std::string k = std::to_string(i % kKeys);
    MustWrite(cluster, region, "POST", "/counter/c" + k + "/incr?by=" + std::to_string(i + 1));
    MustWrite(cluster, region, "POST", "/tags/t" + k,
              Json{{"add", {"e" + std::to_string(i)}}}.dump());
    MustWrite(cluster, region, "PUT", "/profile/p" + k,
              Json{{"f" + std::to_string(region), "v" + std::to_string(i)}}.dump());
  }
  auto claim = cluster.Call(kUs, "PUT", "/handle/rejoiner", Json{{"owner", "u1"}}.dump());
  ASSERT_TRUE(claim.ok());
  ASSERT_EQ(claim->status, 201) << claim->body;
  ASSERT_TRUE(Eventually(
      [&] { return Seen(cluster, kAp, kKeys - 1) == Seen(cluster, kUs, kKeys - 1); }, seconds(20)));

  ASSERT_TRUE(cluster.StopRegion(kAp).has_value());
  std::filesystem::remove_all(cluster.dir() + "/data/ap");
  for (int i = 0; i < kKeys; ++i)  // more writes while it is away
    MustWrite(cluster, i % 2 == 0 ? kUs : kEu, "POST",
              "/counter/c" + std::to_string(i) + "/incr?by=1000");
  ASSERT_TRUE(cluster.StartRegion(kAp).ok());
  ASSERT_TRUE(cluster.WaitForStatus(kAp, "ok", seconds(60)).ok()) << cluster.ReadLog(kAp);
  // It knew its storage was new, and waited for its own ops before writing.
  EXPECT_NE(cluster.ReadLog(kAp).find("rejoining its peers"), std::string::npos);

  for (int i = 0; i < kKeys; ++i) {
    SCOPED_TRACE("key " + std::to_string(i));
    const Json expected = Seen(cluster, kUs, i);
    ASSERT_FALSE(expected["counter"].is_null());
    EXPECT_TRUE(Eventually([&] { return Seen(cluster, kAp, i) == expected; }, seconds(10)))
        << Seen(cluster, kAp, i).dump() << " vs " << expected.dump();
  }
  // Every increment counted once: sum over i of the three writes' (i + 1) deltas plus 1000.
  int64_t total = 0;
  for (int i = 0; i < kKeys; ++i)
    total += Get(cluster, kAp, "/counter/c" + std::to_string(i))["value"].get<int64_t>();
  int64_t expected_total = 1000 * kKeys;
  for (int i = 0; i < 3 * kKeys; ++i)
    expected_total += i + 1;
  EXPECT_EQ(total, expected_total);
  auto handle = cluster.Call(kAp, "GET", "/handle/rejoiner");
  ASSERT_TRUE(handle.ok());
  EXPECT_EQ(handle->status, 200) << handle->body;
  EXPECT_NE(handle->body.find("u1"), std::string::npos) << handle->body;

  // It takes writes again, and new writes elsewhere reach it.
  MustWrite(cluster, kAp, "POST", "/counter/after-ap/incr?by=2");
  MustWrite(cluster, kEu, "POST", "/counter/after-eu/incr?by=3");
  EXPECT_TRUE(Eventually(
      [&] {
        return Get(cluster, kAp, "/counter/after-eu")["value"] == 3 &&
               Get(cluster, kUs, "/counter/after-ap")["value"] == 2;
      },
      seconds(10)));
}

TEST(RegionRejoinTest, ARegionDownPastTheOplogRetentionCatchesUpByStateTransfer) {
  ClusterHarness cluster;
  cluster.set_region_flags({"--oplog-retention-ops", "200"});
  ASSERT_TRUE(cluster.StartAll().ok());
  ASSERT_TRUE(cluster.StopRegion(kAp).has_value());
  constexpr int kKeys = 2000;  // ten times what the logs keep
  for (int i = 0; i < kKeys; ++i)
    MustWrite(cluster, i % 2 == 0 ? kUs : kEu, "POST", "/counter/k" + std::to_string(i) + "/incr");

  // While ap catches up, a client keeps reading from us: every read must succeed.
  std::atomic<bool> stop{false};
  std::atomic<int> reads{0}, failed{0};
  std::thread reader([&] {
    for (int i = 0; !stop.load() && i < 1'000'000; ++i) {
      auto r = cluster.Call(kUs, "GET", "/counter/k" + std::to_string(i % kKeys));
      ++reads;
      if (!r.ok() || r->status != 200) ++failed;
    }
  });
  ASSERT_TRUE(cluster.StartRegion(kAp).ok());
  const Status ok = cluster.WaitForStatus(kAp, "ok", seconds(60));
  stop = true;
  reader.join();
  ASSERT_TRUE(ok.ok()) << cluster.ReadLog(kAp);
  EXPECT_GT(reads.load(), 0);
  EXPECT_EQ(failed.load(), 0);

  for (int i = 0; i < kKeys; i += 37) {
    EXPECT_EQ(Get(cluster, kAp, "/counter/k" + std::to_string(i))["value"], 1) << "k" << i;
  }
  // The catch-up was a state transfer, not the op stream: the senders' logs no longer had them.
  EXPECT_GE(MetricSum(cluster, kUs, "meridian_state_transfers_total{direction=\"out\"}") +
                MetricSum(cluster, kEu, "meridian_state_transfers_total{direction=\"out\"}"),
            1);
  EXPECT_GE(MetricSum(cluster, kAp, "meridian_state_transfers_total{direction=\"in\"}"), 1);
}

// A cluster being created (`--initial-cluster-state new`, the harness's default for a region's
// first start) takes writes and claims handles with a region that has never started, and that
// region joins later with everything.
TEST(RegionRejoinTest, ANewClusterServesBeforeEveryRegionHasStarted) {
  ClusterHarness cluster;
  ASSERT_TRUE(cluster.StartRegion(kUs).ok());
  ASSERT_TRUE(cluster.StartRegion(kEu).ok());
  ASSERT_TRUE(cluster.WaitForStatus(kUs, "ok", seconds(30)).ok());
  ASSERT_TRUE(cluster.WaitForStatus(kEu, "ok", seconds(30)).ok());
  MustWrite(cluster, kUs, "POST", "/counter/born/incr?by=5");
  MustWrite(cluster, kEu, "POST", "/counter/born/incr?by=2");
  auto claim = cluster.Call(kUs, "PUT", "/handle/firstborn", Json{{"owner", "u1"}}.dump());
  ASSERT_TRUE(claim.ok());
  EXPECT_EQ(claim->status, 201) << claim->body;

  ASSERT_TRUE(cluster.StartRegion(kAp).ok());
  ASSERT_TRUE(cluster.WaitForStatus(kAp, "ok", seconds(30)).ok());
  EXPECT_TRUE(
      Eventually([&] { return Get(cluster, kAp, "/counter/born")["value"] == 7; }, seconds(10)));
  MustWrite(cluster, kAp, "POST", "/counter/born/incr?by=1");
  EXPECT_TRUE(
      Eventually([&] { return Get(cluster, kUs, "/counter/born")["value"] == 8; }, seconds(10)));
}

// The safe default: without `new`, empty storage may be a lost disk, so a region on it refuses
// writes until it heard from every neighbour (one of them could hold ops of its own).
TEST(RegionRejoinTest, WithoutNewClusterEmptyStorageWaitsForEveryNeighbour) {
  ClusterHarness cluster;
  cluster.set_first_start_new(false);
  ASSERT_TRUE(cluster.StartRegion(kUs).ok());
  ASSERT_TRUE(cluster.StartRegion(kEu).ok());
  ASSERT_TRUE(Eventually(
      [&] {
        auto r = cluster.Call(kUs, "GET", "/healthz");
        return r.ok() && r->body.find("\"rejoining\":true") != std::string::npos;
      },
      seconds(30)));
  auto refused = cluster.Call(kUs, "POST", "/counter/born/incr?by=5");
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->status, 503) << refused->body;
  EXPECT_NE(refused->body.find("new or restored"), std::string::npos) << refused->body;

  ASSERT_TRUE(cluster.StartRegion(kAp).ok());
  EXPECT_TRUE(Eventually(
      [&] {
        auto r = cluster.Call(kUs, "POST", "/counter/born/incr?by=5");
        return r.ok() && r->status == 200;
      },
      seconds(30)));
}

// The backup route refuses what it cannot do, clearly, and a backup then restores with
// `meridian restore` only into an empty directory. (The lab's `restore` experiment, in lab_quick,
// covers the whole path: backup, more writes and deletes, restore, rejoin.)
TEST(RegionRejoinTest, BackupAndRestoreRefuseBadInput) {
  ClusterHarness cluster;
  ASSERT_TRUE(cluster.StartAll().ok());
  for (const char* target : {"/admin/backup", "/admin/backup?to=relative/dir"}) {
    auto r = cluster.AdminCall(kUs, "POST", target);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 400) << target << ": " << r->body;
    EXPECT_NE(r->body.find("absolute"), std::string::npos) << r->body;
  }
  auto get = cluster.AdminCall(kUs, "GET", "/admin/backup?to=/tmp/x");
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get->status, 405);
  const std::string backups = cluster.dir() + "/backups-us";
  auto made = cluster.AdminCall(kUs, "POST", "/admin/backup?to=" + backups, {}, seconds(60));
  ASSERT_TRUE(made.ok());
  ASSERT_EQ(made->status, 200) << made->body;
  EXPECT_EQ(Json::parse(made->body)["backup_id"], 1);
  // Restoring over a directory that holds a database (us's own, running) is refused.
  ChildProcess restore;
  ASSERT_TRUE(restore
                  .Start({MeridianBinary(), "restore", "--from", backups, "--data-dir",
                          cluster.dir() + "/data/us"},
                         cluster.dir() + "/restore.log")
                  .ok());
  EXPECT_EQ(restore.Wait(seconds(30)), 1);
  std::ifstream log(cluster.dir() + "/restore.log");
  const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("holds a database"), std::string::npos) << text;
}

}  // namespace
}  // namespace meridian::testing
