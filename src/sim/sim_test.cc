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

TEST(SimulationTest, HandlesAreExercisedAndChecked) {
  uint64_t requests = 0, answered = 0;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    SimResult r = RunSimulation(SimOptions::ForSeed(seed, 3, Topology::kMesh), nullptr);
    ASSERT_TRUE(r.violations.empty()) << "seed " << seed << ": " << r.violations.front();
    requests += r.handle_requests;
    answered += r.handle_requests - r.handle_unavailable - r.handle_unanswered;
    EXPECT_GT(r.handle_messages, 0u);
    EXPECT_GT(r.checker_states, 0u);
  }
  // Most requests get a real answer (the rest meet partitions, crashes and duels).
  EXPECT_GT(answered * 2, requests);
}

TEST(SimulationTest, OwnerModeHandlesPass) {
  // Seed 213: a duplicated release forward, first answer lost, was applied twice.
  for (uint64_t seed : {213, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}) {
    SimOptions o = SimOptions::ForSeed(seed, 3, Topology::kMesh);
    o.handle_mode = HandleMode::kOwner;
    SimResult r = RunSimulation(o, nullptr);
    ASSERT_TRUE(r.violations.empty()) << "seed " << seed << ": " << r.violations.front();
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
