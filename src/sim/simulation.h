// Simulation: one deterministic run of a whole cluster in one process.
//
// Regions are real RegionNode objects (the replica and the handle node inside) with MemoryStorage
// disks, driven by a simulated shell with the server's rules: each pass's records written as one
// unsynced batch, then OnWritten; fsyncs (sometimes slow) then OnSynced; replies and messages
// leave only when the node releases them. The WAL mode (always / periodic) is drawn per seed.
// The network, the clients, the clocks and the faults are simulated from seeded generators and
// one event queue ordered by (time, insertion sequence), so a seed replays exactly. Every message
// is serialized and parsed on its way, as on the wire.
//
// A run: clients issue writes, counter reads (local, session, quorum) and handle requests during
// the workload window while faults happen (loss, duplication, reordering by jitter, reconnects
// that drop in-flight messages, partitions, process crashes and power losses, crashes aimed at a
// write's way to disk, failed writes and fsyncs, lost and restored disks, clock skew, lost
// replies that make clients retry elsewhere with their idempotency key); then every fault is
// healed and the cluster runs until it is quiescent, and the Checker judges the result.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "sim/sim_options.h"

namespace meridian {

struct SimResult {
  uint64_t seed = 0;
  uint64_t writes = 0;        // logical client writes
  uint64_t acknowledged = 0;  // writes whose client got a reply
  uint64_t ops = 0;           // ops applied across all regions
  uint64_t retries = 0;       // client attempts after the first
  uint64_t faults = 0;        // injected faults of every kind
  uint64_t messages = 0;      // messages sent
  uint64_t conflicts = 0;     // conflicts the regions recorded
  uint64_t clamped = 0;       // remote HLC readings clamped for skew
  uint64_t repairs = 0;       // anti-entropy repairs (0 unless something diverged)
  uint64_t converge_ms = 0;   // time from healing to quiescence
  // The region node's shell and its clients' reads.
  uint64_t process_crashes = 0;   // crashes that keep what was written
  uint64_t power_losses = 0;      // crashes that lose the unsynced tail (not counting the restarts
                                  // after a failed disk or on a lost one)
  uint64_t storage_failures = 0;  // failed Writes and fsyncs (each then refused until restarted)
  uint64_t acked_lost_allowed = 0;  // kPeriodic acknowledged writes a tail loss took (allowed)
  uint64_t reads = 0;               // client reads issued (local, session, quorum)
  uint64_t reads_answered = 0;      // with a state (the rest: timed out, refused, or crashed)
  // Class D (handles).
  uint64_t handle_requests = 0;     // operations in the history (retries are operations)
  uint64_t handle_unavailable = 0;  // answered "unavailable"
  uint64_t handle_unanswered = 0;   // in flight when their region crashed
  uint64_t handle_messages = 0;
  uint64_t handle_inconclusive = 0;  // handles whose check ran out of budget
  uint64_t checker_states = 0;       // linearizability search states explored
  uint64_t handle_answered = 0;      // answered with a result (not "unavailable")
  uint64_t handle_latency_ms = 0;    // summed over the answered ones (simulated time)
  uint64_t handle_fast_rounds = 0;   // consensus rounds that skipped Prepare (1-RTT path)
  uint64_t handle_slow_rounds = 0;   // consensus rounds that began with Prepare
  // Residency (pinned keys; ResidencyChecker).
  uint64_t pinned_writes = 0;                // logical client writes of pinned keys
  uint64_t pinned_acknowledged = 0;          // ... whose client got a reply
  uint64_t leveled_writes_acknowledged = 0;  // w=majority / w=all writes answered as held
  uint64_t misdirected = 0;            // answers Misdirected (writes and reads outside the set)
  uint64_t residency_messages = 0;     // delivered messages inspected
  uint64_t pinned_group_messages = 0;  // ... of them, of pinned groups
  uint64_t residency_records = 0;      // stored records scanned (disks and backups)
  uint64_t handle_lease_reads = 0;     // reads answered locally under a read lease
  // Subjects (SimOptions::erasures).
  uint64_t erasures = 0;                 // erasure requests sent (retries included)
  uint64_t erasures_acknowledged = 0;    // ... answered done
  uint64_t erasures_lost_with_disk = 0;  // acknowledged, lost with the only disk holding them
  uint64_t gone = 0;                     // writes and reads answered Gone (an erased subject)
  // Class text (checker invariant 11).
  uint64_t text_writes = 0;         // logical writes of text keys
  uint64_t text_acknowledged = 0;   // ... whose client got a reply naming an op
  uint64_t text_edits_refused = 0;  // refused for a position past the text where they arrived
  // Class stock (checker invariant 12).
  uint64_t stock_writes = 0;         // logical writes (adds and takes) of stocks
  uint64_t stock_acknowledged = 0;   // ... whose client got a reply naming an op
  uint64_t stock_takes_refused = 0;  // takes answered 409 (not enough stock or rights in time)
  uint64_t rights_lent = 0;          // units lent between regions, summed over regions
  std::vector<std::string> violations;
};

SimResult RunSimulation(const SimOptions& options, std::ostream* trace);

}  // namespace meridian
