// Simulation: one deterministic run of a whole cluster in one process.
//
// Regions are real Replica objects with MemoryStorage disks; the network, the clients, the
// clocks and the faults are simulated from one seeded Random and one event queue ordered by
// (time, insertion sequence), so a seed replays exactly. Every message is serialized and parsed
// on its way, as on the wire.
//
// A run: clients issue writes during the workload window while faults happen (loss,
// duplication, reordering by jitter, reconnects that drop in-flight messages, partitions,
// crashes with restart from disk, clock skew, lost replies that make clients retry elsewhere
// with their idempotency key); then every fault is healed and the cluster runs until it is
// quiescent, and the Checker judges the result.
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
  std::vector<std::string> violations;
};

SimResult RunSimulation(const SimOptions& options, std::ostream* trace);

}  // namespace meridian
