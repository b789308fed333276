#include <gtest/gtest.h>

#include <sstream>

#include "sim/self_check.h"
#include "sim/simulation.h"

namespace meridian {
namespace {

TEST(SimulationTest, SeedsPassWithoutViolations) {
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    for (Topology t : {Topology::kMesh, Topology::kHub, Topology::kRing}) {
      SimResult r = RunSimulation(SimOptions::ForSeed(seed, 3, t), nullptr);
      ASSERT_TRUE(r.violations.empty()) << "seed " << seed << ": " << r.violations.front();
      EXPECT_GT(r.ops, 0u);
    }
  }
}

TEST(SimulationTest, FiveRegionsConverge) {
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    SimResult r = RunSimulation(SimOptions::ForSeed(seed, 5, Topology::kMesh), nullptr);
    ASSERT_TRUE(r.violations.empty()) << "seed " << seed << ": " << r.violations.front();
  }
}

// Seeds that once failed, one per fixed bug; each comment names the bug.
TEST(SimulationTest, RegressionSeeds) {
  struct Case {
    uint64_t seed;
    Topology topology;
  };
  const Case cases[] = {
      // A tombstone collected at stability while a causally later write, stamped lower because a
      // skewed peer's clock had been clamped, was still on its way: the write resurrected fields.
      {45, Topology::kMesh},
      // A state transfer sent to a crashed peer was lost, and the sender never resent its ops.
      {1541, Topology::kMesh},
      // A hub restarted after merging a snapshot computed its oplog floor from the first logged
      // op and streamed ops whose predecessors it never logged: the spoke waited forever.
      {962, Topology::kHub},
  };
  for (const Case& c : cases) {
    SimResult r = RunSimulation(SimOptions::ForSeed(c.seed, 3, c.topology), nullptr);
    EXPECT_TRUE(r.violations.empty()) << "seed " << c.seed << ": " << r.violations.front();
  }
}

TEST(SimulationTest, SameSeedReplaysExactly) {
  std::ostringstream a, b;
  SimOptions o = SimOptions::ForSeed(7, 3, Topology::kMesh);
  SimResult ra = RunSimulation(o, &a);
  SimResult rb = RunSimulation(o, &b);
  EXPECT_EQ(a.str(), b.str());
  EXPECT_EQ(ra.messages, rb.messages);
  EXPECT_EQ(ra.ops, rb.ops);
  EXPECT_FALSE(a.str().empty());
}

TEST(SimulationTest, SelfCheckCatchesEverySeededBug) {
  for (const auto& outcome : RunSelfCheck(3, Topology::kMesh, 300)) {
    EXPECT_TRUE(outcome.caught_by_seed.has_value()) << outcome.bug << " was not caught";
  }
}

}  // namespace
}  // namespace meridian
