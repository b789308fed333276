// What a region says while it cannot serve normally: during a restart it listens at once and
// answers "loading" until its data is back; with no reachable majority a quorum read fails at
// once, saying why.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tests/integration/cluster_harness.h"

namespace meridian::testing {
namespace {

using Json = nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

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
