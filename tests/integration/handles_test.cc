// Handles on three real regions: concurrent claims of one name from every region have exactly
// one winner, whom every region then reports; with one region down the other two still claim
// and release; a region without a majority answers 503.
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

}  // namespace
}  // namespace meridian::testing
