#include "tools/sim_command.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "sim/self_check.h"
#include "sim/simulation.h"

namespace meridian {
namespace {

struct SimFlags {
  uint64_t seeds = 1000;
  uint64_t first_seed = 1;
  std::optional<uint64_t> seed;
  uint32_t regions = 3;
  std::string topology = "mesh";
  std::string handles = "consensus";  // class D: consensus (CASPaxos) or owner
  unsigned threads = 2;
  bool trace = false;
  bool self_check = false;
  uint64_t self_check_seeds = 500;
  std::string bug;               // replay with this seeded bug built in
  bool handles_classic = false;  // handles without round 1 and hand-offs (to compare)
  bool no_faults = false;        // the busy workload alone: no loss, partitions, crashes, ...
  uint32_t read_lease_ms = StrongOptions{}.read_lease_ms;  // 0: every handle read is a round
  int32_t lease_clock_drift_ppm = 0;  // not 0: monotonic clocks run +-this fast (beyond bound)
  bool no_subjects = false;           // values stay unsealed (no subject patterns)
};

Topology ParseTopology(const std::string& name) {
  if (name == "hub") return Topology::kHub;
  if (name == "ring") return Topology::kRing;
  return Topology::kMesh;
}

SimOptions OptionsFor(const SimFlags& f, uint64_t seed) {
  SimOptions o = SimOptions::ForSeed(seed, f.regions, ParseTopology(f.topology));
  o.handle_mode = f.handles == "owner" ? HandleMode::kOwner : HandleMode::kConsensus;
  o.handles_classic = f.handles_classic;
  o.read_lease_ms = f.read_lease_ms;
  if (f.lease_clock_drift_ppm != 0) {
    // Region r's clock runs fast, slow, or true in turn: rates that differ by up to twice this.
    for (RegionId r = 0; r < o.regions; ++r)
      o.steady_drift_ppm[r] = f.lease_clock_drift_ppm * (r % 3 == 0 ? 1 : r % 3 == 1 ? -1 : 0);
  }
  if (f.no_subjects) {
    o.subject_patterns.clear();
    o.erasures = 0;
  }
  if (f.no_faults) {
    o.loss = o.duplication = o.reply_loss = o.slow_syncs = 0.0;
    o.partitions = o.crashes = o.reconnects = o.disk_losses = o.restores = 0;
    o.write_crashes = o.write_failures = o.sync_failures = 0;
  }
  return o;
}

void PrintSubjects(const SimResult& r) {
  std::printf(
      "  subjects: erasures %llu (acknowledged %llu, lost with the only disk holding them %llu), "
      "writes and reads answered Gone %llu\n",
      (unsigned long long)r.erasures, (unsigned long long)r.erasures_acknowledged,
      (unsigned long long)r.erasures_lost_with_disk, (unsigned long long)r.gone);
  std::printf("  write levels: w=majority / w=all writes acknowledged as held %llu\n",
              (unsigned long long)r.leveled_writes_acknowledged);
  std::printf(
      "  text: writes %llu (acknowledged %llu, refused for a position past the text %llu)\n",
      (unsigned long long)r.text_writes, (unsigned long long)r.text_acknowledged,
      (unsigned long long)r.text_edits_refused);
  std::printf(
      "  stock: writes %llu (acknowledged %llu, takes refused 409 %llu), units lent between "
      "regions %llu\n",
      (unsigned long long)r.stock_writes, (unsigned long long)r.stock_acknowledged,
      (unsigned long long)r.stock_takes_refused, (unsigned long long)r.rights_lent);
}

int ReplayOne(const SimFlags& f) {
  SimOptions o = OptionsFor(f, *f.seed);
  for (const SeededBug& bug : KnownBugs()) {
    if (bug.id == f.bug) bug.enable(o);
  }
  SimResult r = RunSimulation(o, f.trace ? &std::cout : nullptr);
  std::printf(
      "sim seed %llu: writes %llu (acknowledged %llu), ops %llu, retries %llu, faults %llu, "
      "messages %llu, conflicts %llu, clamped %llu, converged %llu ms after heal, violations %zu\n",
      (unsigned long long)r.seed, (unsigned long long)r.writes, (unsigned long long)r.acknowledged,
      (unsigned long long)r.ops, (unsigned long long)r.retries, (unsigned long long)r.faults,
      (unsigned long long)r.messages, (unsigned long long)r.conflicts,
      (unsigned long long)r.clamped, (unsigned long long)r.converge_ms, r.violations.size());
  std::printf(
      "  handles (%s): requests %llu, unavailable %llu, unanswered %llu, messages %llu, "
      "inconclusive checks %llu, checker states %llu\n",
      f.handles.c_str(), (unsigned long long)r.handle_requests,
      (unsigned long long)r.handle_unavailable, (unsigned long long)r.handle_unanswered,
      (unsigned long long)r.handle_messages, (unsigned long long)r.handle_inconclusive,
      (unsigned long long)r.checker_states);
  std::printf(
      "  region nodes (wal %s): process crashes %llu, power losses %llu, storage failures %llu, "
      "periodic-acknowledged writes lost with the unsynced tail %llu, reads %llu (answered %llu)\n",
      WalSyncName(o.wal_sync), (unsigned long long)r.process_crashes,
      (unsigned long long)r.power_losses, (unsigned long long)r.storage_failures,
      (unsigned long long)r.acked_lost_allowed, (unsigned long long)r.reads,
      (unsigned long long)r.reads_answered);
  PrintSubjects(r);
  for (const auto& v : r.violations)
    std::printf("  violation: %s\n", v.c_str());
  return r.violations.empty() ? 0 : 1;
}

int RunMany(const SimFlags& f) {
  const auto started = std::chrono::steady_clock::now();
  std::atomic<uint64_t> next{f.first_seed};
  const uint64_t end = f.first_seed + f.seeds;
  std::mutex mu;
  SimResult total;
  std::map<uint64_t, std::string> failures;  // seed -> first violation (ordered: stable output)
  auto worker = [&]() {
    for (uint64_t seed = next++; seed < end; seed = next++) {
      SimResult r = RunSimulation(OptionsFor(f, seed), nullptr);
      std::lock_guard<std::mutex> lock(mu);
      total.writes += r.writes;
      total.ops += r.ops;
      total.faults += r.faults;
      total.conflicts += r.conflicts;
      total.retries += r.retries;
      total.handle_requests += r.handle_requests;
      total.handle_unavailable += r.handle_unavailable;
      total.handle_unanswered += r.handle_unanswered;
      total.handle_inconclusive += r.handle_inconclusive;
      total.handle_answered += r.handle_answered;
      total.handle_latency_ms += r.handle_latency_ms;
      total.handle_fast_rounds += r.handle_fast_rounds;
      total.handle_slow_rounds += r.handle_slow_rounds;
      total.handle_lease_reads += r.handle_lease_reads;
      total.process_crashes += r.process_crashes;
      total.power_losses += r.power_losses;
      total.storage_failures += r.storage_failures;
      total.acked_lost_allowed += r.acked_lost_allowed;
      total.reads += r.reads;
      total.reads_answered += r.reads_answered;
      total.erasures += r.erasures;
      total.erasures_acknowledged += r.erasures_acknowledged;
      total.erasures_lost_with_disk += r.erasures_lost_with_disk;
      total.gone += r.gone;
      total.leveled_writes_acknowledged += r.leveled_writes_acknowledged;
      total.text_writes += r.text_writes;
      total.text_acknowledged += r.text_acknowledged;
      total.text_edits_refused += r.text_edits_refused;
      total.stock_writes += r.stock_writes;
      total.stock_acknowledged += r.stock_acknowledged;
      total.stock_takes_refused += r.stock_takes_refused;
      total.rights_lent += r.rights_lent;
      if (!r.violations.empty()) failures[seed] = r.violations.front();
    }
  };
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < std::max(1u, f.threads); ++i)
    threads.emplace_back(worker);
  for (auto& t : threads)
    t.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf(
      "sim: seeds %llu, writes %llu, ops %llu, retries %llu, faults %llu, conflicts %llu, "
      "violations %zu (%.1f s, %s, %u regions)\n",
      (unsigned long long)f.seeds, (unsigned long long)total.writes, (unsigned long long)total.ops,
      (unsigned long long)total.retries, (unsigned long long)total.faults,
      (unsigned long long)total.conflicts, failures.size(), seconds, f.topology.c_str(), f.regions);
  std::printf(
      "  handles (%s): requests %llu, answered %llu (mean %.0f ms), unavailable %llu, unanswered "
      "%llu, rounds 1-RTT %llu / 2-RTT %llu, lease reads %llu, inconclusive checks %llu\n",
      f.handles.c_str(), (unsigned long long)total.handle_requests,
      (unsigned long long)total.handle_answered,
      total.handle_answered ? double(total.handle_latency_ms) / double(total.handle_answered) : 0.0,
      (unsigned long long)total.handle_unavailable, (unsigned long long)total.handle_unanswered,
      (unsigned long long)total.handle_fast_rounds, (unsigned long long)total.handle_slow_rounds,
      (unsigned long long)total.handle_lease_reads, (unsigned long long)total.handle_inconclusive);
  std::printf(
      "  region nodes: process crashes %llu, power losses %llu, storage failures %llu, "
      "periodic-acknowledged writes lost with the unsynced tail %llu, reads %llu (answered %llu)\n",
      (unsigned long long)total.process_crashes, (unsigned long long)total.power_losses,
      (unsigned long long)total.storage_failures, (unsigned long long)total.acked_lost_allowed,
      (unsigned long long)total.reads, (unsigned long long)total.reads_answered);
  PrintSubjects(total);
  for (const auto& [seed, violation] : failures) {
    std::printf("  seed %llu: %s  (replay: meridian sim --seed %llu --handles %s --trace)\n",
                (unsigned long long)seed, violation.c_str(), (unsigned long long)seed,
                f.handles.c_str());
  }
  return failures.empty() ? 0 : 1;
}

int SelfCheck(const SimFlags& f) {
  int missed = 0;
  for (const auto& o : RunSelfCheck(f.regions, ParseTopology(f.topology), f.self_check_seeds)) {
    if (o.caught_by_seed) {
      std::printf("caught   %-56s seed %llu: %s\n", o.bug.c_str(),
                  (unsigned long long)*o.caught_by_seed, o.first_violation.c_str());
    } else {
      ++missed;
      std::printf("MISSED   %-56s (%llu seeds)\n", o.bug.c_str(), (unsigned long long)o.seeds_run);
    }
  }
  std::printf("self-check: %s\n", missed == 0 ? "every seeded bug was caught" : "bugs missed");
  return missed == 0 ? 0 : 1;
}

}  // namespace

void AddSimCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<SimFlags>();
  CLI::App* sim = app.add_subcommand("sim", "Run the deterministic cluster simulator");
  sim->add_option("--seeds", flags->seeds, "How many seeds to run")
      ->check(CLI::Range(1, 100000000));
  sim->add_option("--first-seed", flags->first_seed, "First seed of the range");
  sim->add_option("--seed", flags->seed, "Replay exactly this seed");
  sim->add_option("--regions", flags->regions, "Regions (2-5)")->check(CLI::Range(2, 5));
  sim->add_option("--topology", flags->topology, "mesh, hub or ring")
      ->check(CLI::IsMember({"mesh", "hub", "ring"}));
  sim->add_option("--handles", flags->handles,
                  "Handles (class D): consensus (CASPaxos) or owner (hash shard -> owner region)")
      ->check(CLI::IsMember({"consensus", "owner"}));
  sim->add_option("--threads", flags->threads, "Worker threads for --seeds")
      ->check(CLI::Range(1, 64));
  sim->add_flag("--trace", flags->trace, "With --seed: print the run's events");
  sim->add_flag("--handles-classic", flags->handles_classic,
                "Handles without round 1 and hand-offs (two round trips, duels), to compare");
  sim->add_option("--read-lease-ms", flags->read_lease_ms,
                  "Handle read leases' length (StrongOptions::read_lease_ms); 0 turns them off");
  sim->add_option("--lease-clock-drift-ppm", flags->lease_clock_drift_ppm,
                  "Monotonic clocks run this much fast / slow / true (ppm), overriding the drawn "
                  "drift: beyond 10000 the read leases' assumption is broken on purpose")
      ->check(CLI::Range(0, 500000));
  sim->add_flag("--no-faults", flags->no_faults,
                "No message loss, partitions, crashes or disk faults: the workload alone");
  sim->add_flag("--no-subjects", flags->no_subjects,
                "Leave values unsealed: no subject patterns, no keyrings, no erasures");
  std::vector<std::string> bug_ids;
  for (const SeededBug& bug : KnownBugs())
    bug_ids.push_back(bug.id);
  sim->add_option("--bug", flags->bug, "With --seed: build in this seeded bug")
      ->check(CLI::IsMember(bug_ids));
  sim->add_flag("--self-check", flags->self_check, "Build in known bugs; each must be caught");
  sim->add_option("--self-check-seeds", flags->self_check_seeds,
                  "Seeds to try per seeded bug before calling it missed");
  sim->callback([flags, exit_code]() {
    if (flags->self_check) {
      *exit_code = SelfCheck(*flags);
    } else if (flags->seed) {
      *exit_code = ReplayOne(*flags);
    } else {
      *exit_code = RunMany(*flags);
    }
  });
}

}  // namespace meridian
