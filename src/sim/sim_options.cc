#include "sim/sim_options.h"

#include "base/random.h"

namespace meridian {

SimOptions SimOptions::ForSeed(uint64_t seed, RegionId regions, Topology topology) {
  SimOptions o;
  o.seed = seed;
  o.regions = regions;
  o.topology = topology;
  Random random(seed ^ 0x5eed5eed5eedULL);
  const uint32_t matrix[3][3] = {{0, 80, 150}, {80, 0, 120}, {150, 120, 0}};
  for (RegionId i = 0; i < kMaxRegions; ++i) {
    for (RegionId j = 0; j < kMaxRegions; ++j) {
      if (i == j) continue;
      o.rtt_ms[i][j] = (i < 3 && j < 3) ? matrix[i][j] : 100 + 25 * ((i + j) % 5);
    }
  }
  o.loss = random.Chance(0.5) ? random.UnitDouble() * 0.1 : 0.0;
  o.duplication = random.Chance(0.5) ? random.UnitDouble() * 0.05 : 0.0;
  o.reply_loss = random.UnitDouble() * 0.05;
  o.partitions = static_cast<uint32_t>(random.Uniform(3));
  o.crashes = static_cast<uint32_t>(random.Uniform(3));
  o.reconnects = static_cast<uint32_t>(random.Uniform(3));
  // A fifth of the seeds have perfectly synchronised clocks: then twins written in the same
  // millisecond get equal HLC times in two regions, and only the region tiebreak orders them.
  const bool synchronised = random.Chance(0.2);
  for (RegionId r = 0; r < regions; ++r)
    o.skew_ms[r] = synchronised ? 0 : random.Range(-200, 200);
  // Now and then one region's clock is far ahead: beyond the HLC's bound, so it is clamped.
  if (random.Chance(0.1)) o.skew_ms[random.Uniform(regions)] += 2000;
  // Monotonic clocks running fast or slow, from a generator of their own (so every other draw of
  // a seed, and so what a seed replays, is unchanged): up to 0.2 % each, 20 times a plain
  // crystal's error and within what the read leases' margin covers.
  Random rates(seed ^ 0x5'7ead'd41fULL);
  for (RegionId r = 0; r < regions; ++r) {
    o.steady_drift_ppm[r] = static_cast<int32_t>(
        rates.Range(-SimOptions::kSteadyDriftPpmMax, SimOptions::kSteadyDriftPpmMax));
  }
  // Disk faults draw from their own generator, so adding them left every other draw of a seed
  // (and so what a seed replayed with --seed exercises) as it was.
  Random disks(seed ^ 0xd15c'1055ULL);
  o.disk_losses = disks.Chance(0.3) ? 1 : 0;
  o.restores = disks.Chance(0.3) ? 1 : 0;
  // The region node's shell, again from a generator of its own.
  Random shell(seed ^ 0x5e11'd15cULL);
  o.wal_sync = shell.Chance(0.5) ? WalSync::kPeriodic : WalSync::kEveryCommit;
  o.sync_ms_max = 1 + static_cast<uint32_t>(shell.Uniform(8));
  o.slow_syncs = shell.Chance(0.3) ? shell.UnitDouble() * 0.2 : 0.0;
  o.power_loss_share = shell.UnitDouble();
  o.write_crashes = static_cast<uint32_t>(shell.Uniform(3));
  o.write_failures = shell.Chance(0.2) ? 1 : 0;
  o.sync_failures = shell.Chance(0.2) ? 1 : 0;
  // Residency draws nothing here: the rules are fixed, the pinned workload has its own generator.
  o.residency = DefaultResidencyRules(regions);
  if (!o.residency.empty()) {
    o.pinned_writes = 40;
    o.pinned_reads = 20;
  }
  // Subjects draw nothing either: every unpinned workload key is a subject's (sealed values,
  // keyrings on the wire, opened for the checks).
  o.subject_patterns = {kSimSubjectPattern};
  o.erasures = 1;
  return o;
}

std::string PinnedKey(DataClass c, uint64_t n) {
  return std::string(kPinnedPrefix) + std::string(DataClassName(c)) + std::to_string(n);
}

std::string HandleName(const SimOptions& o, uint64_t n) {
  std::string name = "h" + std::to_string(n);
  if (n == 1 && !o.residency.empty()) name = kPinnedHandlePrefix + name;
  return name;
}

std::vector<std::string> PinnedHandleNames(const SimOptions& o) {
  if (o.residency.empty() || o.handle_names < 2) return {};
  return {HandleName(o, 1)};
}

std::vector<ResidencyRule> DefaultResidencyRules(RegionId regions) {
  if (regions < 2) return {};
  std::vector<ResidencyRule> rules;
  rules.push_back({kPinnedPrefix, std::nullopt, {0}});
  if (regions >= 3) rules.back().regions.push_back(1);
  rules.push_back({kPinnedPrefix, DataClass::kCounter, {1}});
  if (regions >= 3) rules.back().regions.push_back(2);
  rules.push_back({kPinnedHandlePrefix, std::nullopt, {0}, /*handle=*/true});
  if (regions >= 3) rules.back().regions.push_back(1);
  while (!rules.empty() && !Residency::Make(rules, regions).ok())
    rules.pop_back();
  return rules;
}

}  // namespace meridian
