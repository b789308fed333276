// Handles on three real regions: concurrent claims of one name from every region have exactly
// one winner, whom every region then reports; with one region down the other two still claim
// and release; a region without a majority answers 503. With --wal-sync periodic, handle votes
// and every message to a peer still wait for an fsync.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/cluster_harness.h"

namespace meridian::testing {
namespace {

using Json = nlohmann::json;
using std::chrono::seconds;

class HandlesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_.set_region_flags(RegionFlags());
    Status started = cluster_.StartAll();
    ASSERT_TRUE(started.ok()) << started.ToString();
  }

  // (status, body) of one request.
  std::pair<int, Json> Request(size_t region, const std::string& method, const std::string& name,
                               const std::string& owner = "") {
    const std::string body = owner.empty() ? "" : Json{{"owner", owner}}.dump();
    auto r = cluster_.Call(region, method, "/handle/" + name, body, {}, seconds(10));
    if (!r.ok()) return {0, Json(r.status().ToString())};
    return {r->status, Json::parse(r->body, nullptr, false)};
  }

  virtual std::vector<std::string> RegionFlags() const { return {}; }

  ClusterHarness cluster_;
};

TEST_F(HandlesTest, ConcurrentClaimsFromEveryRegionHaveExactlyOneWinner) {
  for (int round = 0; round < 10; ++round) {
    const std::string name = "race-" + std::to_string(round);
    std::vector<std::pair<int, Json>> results(3);
    std::vector<std::thread> threads;
    for (size_t r = 0; r < 3; ++r) {
      threads.emplace_back(
          [&, r] { results[r] = Request(r, "PUT", name, "owner-" + cluster_.regions()[r]); });
    }
    for (std::thread& t : threads)
      t.join();
    std::set<std::string> winners;
    for (size_t r = 0; r < 3; ++r) {
      const auto& [status, body] = results[r];
      ASSERT_TRUE(status == 201 || status == 409 || status == 503) << status << " " << body;
      if (status == 201) winners.insert(body["owner"].get<std::string>());
      // A loser learns who won.
      if (status == 409) {
        EXPECT_NE(body["owner"], "owner-" + cluster_.regions()[r]);
      }
    }
    EXPECT_LE(winners.size(), 1u) << name;
    // Every region reports the same owner, and it is the one acknowledged, if any was.
    std::set<std::string> seen;
    for (size_t r = 0; r < 3; ++r) {
      auto [status, body] = Request(r, "GET", name);
      ASSERT_EQ(status, 200) << body;
      seen.insert(body["owner"].get<std::string>());
    }
    ASSERT_EQ(seen.size(), 1u) << name;
    if (!winners.empty()) {
      EXPECT_EQ(*seen.begin(), *winners.begin());
    }
  }
}

TEST_F(HandlesTest, TwoOfThreeRegionsStillClaimAndReleaseAndOneAloneAnswers503) {
  cluster_.KillRegion(2);
  EXPECT_EQ(Request(0, "PUT", "survivor", "alice").first, 201);
  EXPECT_EQ(Request(1, "PUT", "survivor", "bob").first, 409);
  EXPECT_EQ(Request(1, "DELETE", "survivor", "bob").first, 403);
  EXPECT_EQ(Request(1, "DELETE", "survivor", "alice").first, 200);
  EXPECT_EQ(Request(0, "GET", "survivor").first, 404);
  EXPECT_EQ(Request(1, "PUT", "survivor", "bob").first, 201);

  cluster_.KillRegion(1);
  auto [status, body] = Request(0, "PUT", "alone", "alice");
  EXPECT_EQ(status, 503) << body;
  EXPECT_FALSE(body["error"]["message"].get<std::string>().empty());
  EXPECT_EQ(Request(0, "GET", "survivor").first, 503);

  // The claim made with two regions survives their restart.
  ASSERT_TRUE(cluster_.StartRegion(1).ok());
  ASSERT_TRUE(cluster_.StartRegion(2).ok());
  ASSERT_TRUE(cluster_.WaitForStatus(1, "ok", seconds(30)).ok());
  ASSERT_TRUE(cluster_.WaitForStatus(2, "ok", seconds(30)).ok());
  bool read = Eventually(
      [&] {
        auto [s, b] = Request(2, "GET", "survivor");
        return s == 200 && b["owner"] == "bob";
      },
      seconds(20));
  EXPECT_TRUE(read);
}

TEST_F(HandlesTest, BadNamesAndOwnersAre400) {
  EXPECT_EQ(Request(0, "PUT", "has%20space", "alice").first, 400);
  EXPECT_EQ(Request(0, "PUT", std::string(65, 'a'), "alice").first, 400);
  EXPECT_EQ(Request(0, "PUT", "fine", "").first, 400);  // no owner
  auto r = cluster_.Call(0, "PUT", "/handle/fine", "{bad json");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(Request(0, "GET", "fine").first, 404);  // nothing was claimed
}

// --wal-sync periodic with an interval far longer than the test, so every fsync seen is one a
// step waited for: a handle step's own (Durability::kSynced; a vote must be on disk before it is
// sent, or a power loss could let an acceptor forget it), or one that a message to a peer waits
// for (a peer must not hold an op its origin could lose).
class PeriodicWalTest : public HandlesTest {
 protected:
  std::vector<std::string> RegionFlags() const override {
    return {"--wal-sync", "periodic", "--wal-sync-interval-ms", "60000"};
  }

  // From one scrape of the region's /metrics: the fsyncs counted and the fsyncs timed
  // (meridian_wal_sync_seconds_count); -1 for a series absent or a failed scrape.
  std::pair<double, double> WalSyncs(size_t region) {
    auto r = cluster_.Call(region, "GET", "/metrics");
    if (!r.ok()) return {-1, -1};
    auto value = [&](const std::string& series) {
      const std::string name = "\n" + series + " ";
      const size_t at = r->body.find(name);
      return at == std::string::npos ? -1 : std::stod(r->body.substr(at + name.size()));
    };
    return {value("meridian_wal_syncs_total"), value("meridian_wal_sync_seconds_count")};
  }
};

TEST_F(PeriodicWalTest, AClaimIsFsyncedByAMajorityBeforeItIsAnswered) {
  std::vector<std::pair<double, double>> before;
  for (size_t r = 0; r < 3; ++r)
    before.push_back(WalSyncs(r));
  for (const auto& [syncs, timed] : before) {
    ASSERT_GE(syncs, 0) << "meridian_wal_syncs_total missing";
    ASSERT_GE(timed, 0) << "meridian_wal_sync_seconds missing";
  }
  ASSERT_EQ(Request(0, "PUT", "durable-claim", "alice").first, 201);
  int synced = 0;
  for (size_t r = 0; r < 3; ++r) {
    const auto [syncs, timed] = WalSyncs(r);
    synced += syncs > before[r].first ? 1 : 0;
    // Every fsync is timed (observed before it is counted, so a scrape may see one more timed).
    EXPECT_GE(timed - before[r].second, syncs - before[r].first);
    EXPECT_LE(timed - before[r].second, syncs - before[r].first + 1);
  }
  // The claimant and at least one more acceptor voted, each after an fsync of its own.
  EXPECT_GE(synced, 2);
}

TEST_F(PeriodicWalTest, AWriteIsAnsweredAtOnceButLeavesForPeersOnlyAfterAnFsync) {
  const double syncs_before = WalSyncs(1).first;
  ASSERT_GE(syncs_before, 0);
  auto write = cluster_.Call(1, "PUT", "/profile/p", R"({"f":"v"})");
  ASSERT_TRUE(write.ok());
  ASSERT_EQ(write->status, 200);
  bool replicated = false;
  for (int i = 0; i < 200 && !replicated; ++i) {
    auto read = cluster_.Call(0, "GET", "/profile/p");
    replicated = read.ok() && read->status == 200 && read->body.find("\"v\"") != std::string::npos;
    if (!replicated) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(replicated);
  // The interval is a minute: only the fsync the op's message waited for can account for this.
  EXPECT_GT(WalSyncs(1).first, syncs_before);
}

}  // namespace
}  // namespace meridian::testing
