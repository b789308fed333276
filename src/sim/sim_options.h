// SimOptions: one simulated run: the cluster, the network, the faults and the workload.
// Everything a run does follows from these and the seed; the same pair replays byte for byte.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "base/ids.h"
#include "node/region_node.h"
#include "replica/options.h"
#include "strong/options.h"

namespace meridian {

struct SimOptions {
  uint64_t seed = 1;
  RegionId regions = 3;
  Topology topology = Topology::kMesh;

  // Round-trip times in ms between regions i and j (symmetric); the defaults are the committed
  // matrix: us-eu 80, us-ap 150, eu-ap 120; regions 3 and 4 (when asked for) get 100-200.
  std::array<std::array<uint32_t, kMaxRegions>, kMaxRegions> rtt_ms{};
  uint32_t jitter_ms = 10;

  uint32_t tick_ms = 10;         // how often each region's Tick runs
  uint32_t workload_ms = 3000;   // client writes are issued in [0, workload_ms)
  uint32_t client_writes = 150;  // logical client writes per run
  uint32_t keys_per_class = 6;   // few keys: conflicts are the point
  // Logical writes of class text, beside client_writes, from a generator of their own (so the
  // other classes' draws stay as they were): edits by position and deletes of text keys.
  uint32_t text_writes = 30;
  // Logical writes of class stock (adds and takes of two stocks), likewise on their own
  // generator; takes outnumber adds so that rights run short and move between regions.
  uint32_t stock_writes = 30;
  uint32_t quiesce_deadline_ms = 60000;  // after healing, convergence must come before this

  // Class D (handles): a StrongNode per region beside the replica.
  HandleMode handle_mode = HandleMode::kConsensus;
  uint32_t handle_ops = 30;   // client claims, releases and reads per run (bursts included)
  uint32_t handle_names = 4;  // few names: contention is the point
  // Series of kReadsPerSeries reads of one name at one region (workload.cc), to use and outlive
  // read leases (StrongNode invariant 11).
  uint32_t handle_read_series = 3;
  // The classic protocol (Prepare and Accept for a first claim, duels settled by backoff), to
  // measure round 1 and hand-offs against it (StrongOptions::round1, hand_off).
  bool handles_classic = false;
  // StrongOptions::read_lease_ms (invariant 11), to measure leases against none (0).
  uint32_t read_lease_ms = StrongOptions{}.read_lease_ms;

  // Fault rates; Randomize() draws them per seed.
  double loss = 0.0;
  double duplication = 0.0;
  double reply_loss = 0.0;  // a write applied but its reply lost: the client retries
  uint32_t partitions = 0;
  uint32_t crashes = 0;
  uint32_t reconnects = 0;
  // A region's disk is lost while it is down: it restarts on an empty disk (a replaced disk, a
  // wiped data directory), or on a copy of its disk taken earlier in the run (a restored backup,
  // with the incarnation removed as the restore procedure does). Its ops that no other region
  // had are gone with it; nothing else may be.
  uint32_t disk_losses = 0;
  uint32_t restores = 0;
  std::array<int64_t, kMaxRegions> skew_ms{};
  // How fast each region's monotonic clock runs, in parts per million off the true rate (the
  // read leases of StrongNode invariant 11 rest on it; skew_ms, the wall clock's offset, does not
  // touch them). ForSeed draws within +-kSteadyDriftPpmMax; the lease margin covers a relative
  // rate difference of 2 % (read_lease_margin_ms / read_lease_ms), so tests go beyond on purpose.
  std::array<int32_t, kMaxRegions> steady_drift_ppm{};
  static constexpr int32_t kSteadyDriftPpmMax = 2000;

  // The region node's shell and its disk (simulation.h): the WAL mode, the fsync latency and
  // the disk's faults. Drawn from their own generator, like the disk losses.
  WalSync wal_sync = WalSync::kEveryCommit;
  uint32_t sync_interval_ms = 100;  // kPeriodic: an fsync at least this often (the server's)
  uint32_t sync_ms_max = 4;         // an ordinary fsync takes 1..sync_ms_max ms
  double slow_syncs = 0.0;          // the share of fsyncs that take 30..150 ms (a slow disk)
  // Of the `crashes`, the share that are power losses (the unsynced tail is lost); the rest are
  // process crashes (what was written survives).
  double power_loss_share = 0.5;
  // A crash aimed at a durability window: right after a client write (sometimes before its pass
  // is written, sometimes during the fsync), with a read of the key at the same instant.
  uint32_t write_crashes = 0;
  uint32_t write_failures = 0;  // a storage Write that fails: the region refuses until restarted
  uint32_t sync_failures = 0;   // an fsync that fails: the same
  // Client reads of counters: local reads, quorum reads, and the share of acknowledged counter
  // writes that the client reads back in another region with its session token.
  uint32_t local_reads = 40;
  // Percent of the (unpinned) client writes that ask for ?w=majority, and for ?w=all: each is
  // acknowledged only once that many regions hold it (checked when its reply arrives), and an
  // acknowledged one survives the loss of any one disk (checked when a disk is lost).
  uint32_t majority_writes_percent = 8;
  uint32_t all_writes_percent = 2;
  uint32_t quorum_reads = 15;
  double session_reads = 0.3;

  // Residency (docs/residency.md): rules pinning keys to subsets of the regions, and the client
  // writes and reads of pinned keys (PinnedKey below), drawn from generators of their own so that
  // every other draw of a seed stays as it was. Empty rules: nothing pinned.
  std::vector<ResidencyRule> residency;
  uint32_t pinned_writes = 0;  // logical client writes of pinned keys, from every region
  uint32_t pinned_reads = 0;   // local and quorum reads of pinned keys, from every region

  // Subjects (docs/residency.md, erasure): key patterns whose values the nodes seal under
  // per-subject data keys. kSimSubjectPattern makes every unpinned workload key a subject's, so
  // the quiescence checks compare opened values with the reference models.
  std::vector<std::string> subject_patterns;
  // Erasures of subjects (DELETE /subjects/{id}) during the workload, each at a drawn region and
  // time (and sometimes a second, concurrent one of the same subject elsewhere), drawn from a
  // generator of their own. Needs subject_patterns.
  uint32_t erasures = 0;

  ReplicaBugs bugs;
  StrongBugs strong_bugs;
  NodeBugs node_bugs;
  bool trace = false;

  // Fills the fault rates and schedule sizes from `seed` (a different mix every seed), with the
  // default residency rules and pinned workload.
  static SimOptions ForSeed(uint64_t seed, RegionId regions, Topology topology);
};

inline constexpr const char* kSimSubjectPattern = "k{subject}";

// The pinned keyspace of the simulator's workload.
inline constexpr const char* kPinnedPrefix = "gdpr:";
// Pinned key n of class c: "gdpr:<class><n>", one name per class, so that a raw scan for it is
// unambiguous about which rule (and so which regions) it belongs to.
std::string PinnedKey(DataClass c, uint64_t n);

// The pinned handles: names starting "gdpr." (handle names have no ':'). The workload's handle
// "h1" is "gdpr.h1" when rules are set (HandleName), so a quarter of the default four names'
// requests go to a pinned group's handle node.
inline constexpr const char* kPinnedHandlePrefix = "gdpr.";
std::string HandleName(const SimOptions& o, uint64_t n);
// The names of the workload's pinned handles (their case-folded form).
std::vector<std::string> PinnedHandleNames(const SimOptions& o);

// The default rules: `gdpr:` keys of every class pinned to regions {0, 1}, and (a per-class rule
// over the same prefix, which wins for its class) `gdpr:` counters pinned to {1, 2}: two groups
// of two regions out of three, overlapping in region 1; and handles named `gdpr.` pinned to
// {0, 1} too, decided by a majority of those two. Rules that do not fit are left out
// (fewer than two regions: none; the slots of all groups must fit in kMaxRegions).
std::vector<ResidencyRule> DefaultResidencyRules(RegionId regions);

}  // namespace meridian
