#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>
#include <string>

#include "sim/checker.h"
#include "sim/isolated_run.h"
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
  for (uint64_t seed = 1; seed <= 15; ++seed) {
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

// Bugs the simulator once found by seed are pinned down by scripted scenarios that state the
// schedule they need (a seed silently stops reproducing its bug once the generator's draws
// change), each beside the code it guards:
//  - seed 45, a causally later write stamped below what its writer saw, behind a clamped clock
//    skew: ReplicaTest.AWriteBeatsWhatItsWriterSawThoughAClampedSkewLeftItsClockBehind;
//  - seed 1541, a state transfer lost to a peer that crashed:
//    RejoinTest.ATransferLostToAPeerThatCrashedIsSentAgainAfterItsRestart;
//  - seed 962, a hub's oplog floor after a restart with a snapshot's gap in its log:
//    RejoinTest.AHubRestartedWithAGapInItsLogServesTheGapByStateTransfer;
//  - seeds 116 and 150, a peer's new incarnation persisted without the reset of its cursor:
//    RejoinTest.ARestartRightAfterMeetingANewIncarnationDoesNotResumeTheOldCursor;
//  - seed 213, a duplicated owner-mode release forward:
//    StrongNodeTest.OwnerModeAppliesADuplicatedForwardOnce;
//  - seeds 1393 and 1013, a retry given the dot a power loss took from its first attempt: below.
TEST(CheckerTest, ARetryGivenTheDotACrashTookFromItsFirstAttemptIsCounted) {
  // Region 0's first attempt of +5 created op (0,1); a power loss took it before it was synced.
  // The client retried in the same region, which handed the same dot to the retry; that one was
  // acknowledged and lives, and a second write of +2 followed it. The reference must drop the
  // lost copy only, not both: the counter reads 7.
  LogicalWrite five;
  five.id = 1;
  five.write = ClientWrite{{DataClass::kCounter, "c"}, "", int64_t{5}};
  five.attempts = 2;
  five.acknowledged = true;
  CreatedOp first;
  first.write_id = five.id;
  first.serial = 1;
  first.dot = {0, 1};
  five.created.push_back(first);
  Checker checker(1);
  checker.OnCrashLostOps(/*origin=*/0, /*disk=*/0, 1, 1, /*tail_lost=*/true, {&five});
  CreatedOp retry = first;
  retry.serial = 2;
  retry.acknowledged = true;
  five.created.push_back(retry);
  LogicalWrite two;
  two.id = 2;
  two.write = ClientWrite{{DataClass::kCounter, "c"}, "", int64_t{2}};
  two.attempts = 1;
  two.acknowledged = true;
  CreatedOp second;
  second.write_id = two.id;
  second.serial = 3;
  second.dot = {0, 2};
  second.deps.Set(0, 1);
  second.acknowledged = true;
  two.created.push_back(second);

  ReplicaOptions options;
  options.self = 0;
  options.region_count = 1;
  Replica region(options);
  for (const LogicalWrite* w : {&five, &two}) {
    Output out;
    auto reply = region.OnClientWrite(w->write, 1000, &out);
    ASSERT_TRUE(reply.ok());
    EXPECT_EQ(reply->dot, w->created.back().dot);
  }

  checker.CheckQuiescent({&region}, {five, two});
  EXPECT_TRUE(checker.lost(first));
  EXPECT_FALSE(checker.lost(retry));
  EXPECT_TRUE(checker.violations().empty()) << checker.violations().front();
}

// The region node's shell is exercised: both WAL modes, both kinds of crash, failed disks,
// reads of every kind, and kPeriodic's allowance (acknowledged writes a power loss took).
TEST(SimulationTest, RegionNodeShellIsExercised) {
  uint64_t always = 0, periodic = 0, process_crashes = 0, power_losses = 0, failures = 0;
  uint64_t reads = 0, answered = 0, acked_lost = 0;
  for (uint64_t seed = 1; seed <= 60; ++seed) {
    SimOptions o = SimOptions::ForSeed(seed, 3, Topology::kMesh);
    SimResult r = RunSimulation(o, nullptr);
    ASSERT_TRUE(r.violations.empty()) << "seed " << seed << ": " << r.violations.front();
    (o.wal_sync == WalSync::kEveryCommit ? always : periodic) += 1;
    if (o.wal_sync == WalSync::kEveryCommit) {
      EXPECT_EQ(r.acked_lost_allowed, 0u);
    }
    process_crashes += r.process_crashes;
    power_losses += r.power_losses;
    failures += r.storage_failures;
    reads += r.reads;
    answered += r.reads_answered;
    acked_lost += r.acked_lost_allowed;
  }
  EXPECT_GT(always, 10u);
  EXPECT_GT(periodic, 10u);
  EXPECT_GT(process_crashes, 0u);
  EXPECT_GT(power_losses, 0u);
  EXPECT_GT(failures, 0u);
  EXPECT_GT(answered * 2, reads);
  EXPECT_GT(acked_lost, 0u);
}

TEST(SimulationTest, EachWalModeWithASlowDisk) {
  for (WalSync mode : {WalSync::kEveryCommit, WalSync::kPeriodic}) {
    for (uint64_t seed = 1; seed <= 10; ++seed) {
      SimOptions o = SimOptions::ForSeed(seed, 3, Topology::kMesh);
      o.wal_sync = mode;
      o.slow_syncs = 0.3;
      SimResult r = RunSimulation(o, nullptr);
      ASSERT_TRUE(r.violations.empty())
          << WalSyncName(mode) << " seed " << seed << ": " << r.violations.front();
    }
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
  // The region node's bugs must be caught by the check written for them, not by a side effect.
  const std::map<std::string, std::string> node_checks = {
      {"ack-before-durable", "acknowledged write"},
      {"read-undurable", "a read had shown"},
      {"forget-storage-failure", "after its storage failed"},
      {"session-ignores-token", "a session read"},
      {"quorum-read-local", "a quorum read"},
      {"residency-ignored", "residency: "},
      {"snapshot-includes-pinned", "residency: a state-transfer chunk of pinned key"},
  };
  // 500, as `meridian sim --self-check`: round1-chosen-after-promise needs 312 since a fourth of
  // the handle requests go to a pinned handle (two acceptors).
  for (const auto& outcome : RunSelfCheck(3, Topology::kMesh, 500)) {
    EXPECT_TRUE(outcome.caught_by_seed.has_value()) << outcome.bug << " was not caught";
    const std::string id = outcome.bug.substr(0, outcome.bug.find(':'));
    if (auto check = node_checks.find(id); check != node_checks.end()) {
      // A bug may first show as a side effect (ack-before-durable also slows convergence past the
      // self-check's deadline in some seeds); its own check must still catch it in a later seed.
      bool own_check = outcome.first_violation.find(check->second) != std::string::npos;
      for (uint64_t seed = outcome.caught_by_seed.value_or(500) + 1; seed <= 500 && !own_check;
           ++seed) {
        SimOptions buggy = SimOptions::ForSeed(seed, 3, Topology::kMesh);
        buggy.quiesce_deadline_ms = 15000;
        for (const SeededBug& bug : KnownBugs()) {
          if (bug.id == id) bug.enable(buggy);
        }
        for (const std::string& violation : RunIsolated(buggy).violations)
          own_check = own_check || violation.find(check->second) != std::string::npos;
      }
      EXPECT_TRUE(own_check) << outcome.bug
                             << " was caught only by another check: " << outcome.first_violation;
    }
  }
}

// Residency (docs/residency.md, "In the simulator"): pinned keys are written and read from every
// region, outside their set answered Misdirected, and every delivered message, every disk and
// backup and every pinned group is checked: nothing found in a correct cluster.
TEST(SimulationTest, ResidencyIsExercisedAndChecked) {
  uint64_t pinned = 0, acknowledged = 0, misdirected = 0, messages = 0, pinned_messages = 0;
  uint64_t records = 0;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    SimOptions o = SimOptions::ForSeed(seed, 3, Topology::kMesh);
    ASSERT_EQ(o.residency.size(), 3u);  // gdpr: keys, gdpr: counters, gdpr. handles
    SimResult r = RunSimulation(o, nullptr);
    ASSERT_TRUE(r.violations.empty()) << "seed " << seed << ": " << r.violations.front();
    pinned += r.pinned_writes;
    acknowledged += r.pinned_acknowledged;
    misdirected += r.misdirected;
    messages += r.residency_messages;
    pinned_messages += r.pinned_group_messages;
    records += r.residency_records;
  }
  EXPECT_GE(pinned, 20u * 40u);              // a twin may follow the last
  EXPECT_GT(acknowledged * 10, pinned * 8);  // most pinned writes are acknowledged in their set
  EXPECT_GT(misdirected, 100u);              // a third of the homes are outside the set
  EXPECT_GT(pinned_messages, 1000u);
  EXPECT_GT(messages, pinned_messages);
  EXPECT_GT(records, 1000u);
}

TEST(SimulationTest, ResidencyRunsInFiveRegionsAndWithoutRules) {
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    SimOptions five = SimOptions::ForSeed(seed, 5, Topology::kMesh);
    ASSERT_EQ(five.residency.size(), 1u);  // the per-class group's slots would not fit
    SimResult r = RunSimulation(five, nullptr);
    ASSERT_TRUE(r.violations.empty()) << "seed " << seed << ": " << r.violations.front();
    EXPECT_GT(r.pinned_group_messages, 0u);
    SimOptions none = SimOptions::ForSeed(seed, 3, Topology::kMesh);
    none.residency.clear();
    r = RunSimulation(none, nullptr);
    ASSERT_TRUE(r.violations.empty()) << "seed " << seed << ": " << r.violations.front();
    EXPECT_EQ(r.pinned_writes + r.pinned_group_messages + r.misdirected, 0u);
  }
}

// Each seeded residency bug is reported by each residency check that can see it: the messages
// (R1), the disks (R2), and the clients (a region outside the set serving a pinned key).
TEST(SimulationTest, ResidencyBugsAreReportedByEachCheck) {
  auto found = [](const SimResult& r, const std::string& what) {
    for (const auto& v : r.violations) {
      if (v.find(what) != std::string::npos) return true;
    }
    return false;
  };
  // Each check reports the bug on one of the first seeds (message reports are capped at ten per
  // run, so which of them a seed shows depends on the order of its events).
  std::set<std::string> reported;
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    SimOptions o = SimOptions::ForSeed(seed, 3, Topology::kMesh);
    o.node_bugs.residency_ignored = true;
    const SimResult r = RunSimulation(o, nullptr);
    for (const char* what :
         {"was delivered to region", "outside the key's set, was served", "holds pinned key"}) {
      if (found(r, what)) reported.insert(what);
    }
  }
  EXPECT_EQ(reported.size(), 3u);
  SimOptions o;
  SimResult r;
  // Seed 3: region 2 merges a chunk of every region's group that carries pinned states.
  o = SimOptions::ForSeed(3, 3, Topology::kMesh);
  o.node_bugs.snapshot_includes_pinned = true;
  r = RunSimulation(o, nullptr);
  EXPECT_TRUE(found(r, "a state-transfer chunk of pinned key")) << r.violations.front();
  EXPECT_TRUE(found(r, "holds pinned key")) << r.violations.front();
}

}  // namespace
}  // namespace meridian
