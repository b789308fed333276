// The load the lag experiments (lag, sustain) drive, and their correctness check. The load is
// open-loop counter increments from the gen library, clients pinned round-robin to every region
// (Zipfian keys). After it, every region must converge on the same value for every key, and no
// value may exceed what was planned (nothing applied twice) or fall short of it by more than the
// unacknowledged ops could carry (nothing acknowledged lost).
//
// The gen library reports counts, not which op failed, so the bound is exact only when every op
// was acknowledged: then every region must hold exactly the planned sum of every key. With u ops
// unacknowledged (failed, timed out or dropped), the summed shortfall over keys may be at most
// u * kCounterByMaxForCheck, since such an op may or may not have been applied.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "gen/runner.h"
#include "gen/workload.h"
#include "lab/lab_context.h"
#include "lab/ledger.h"

namespace meridian {

// The gen options of one constant-rate stretch of the counter load.
struct CounterLoad {
  std::string key_prefix;  // "lag-1-"
  uint64_t seed = 1;
  uint64_t keyspace = 2'000;
  double ops_per_s = 1'000;
  uint64_t duration_ns = 1'000'000'000;
};
// Over context.load_protocol: "resp" sends INCRBY to each region's resp listener, "http" POSTs
// to its HTTP API.
GenOptions CounterLoadOptions(const LabContext& context, const CounterLoad& load);
// The `meridian gen` command line that sends the same ops (CLUSTER: the lab's cluster config;
// over RESP, REGION_RESP: that region's resp address in it).
std::string CounterLoadCommand(const LabContext& context, const CounterLoad& load);
// Ops of the report not answered 2xx: planned - ok over every (step, class, op).
uint64_t UnacknowledgedOps(const GenReport& report);

// The largest increment the gen Planner draws (gen/workload.cc draws 1..kCounterByMax).
inline constexpr int64_t kCounterByMaxForCheck = 9;

// Adds the counter writes `spec` plans (every step) to `sums`, per key. Pure: replays the
// Planner. Returns the number of counter writes planned.
uint64_t AddPlannedCounterSums(const WorkloadSpec& spec, std::map<std::string, int64_t>& sums);

struct CounterCheck {
  bool converged = false;  // every key equal in every region and within the bounds
  size_t keys = 0;
  size_t keys_settled = 0;   // keys equal in every region (within the bounds) when it returned
  int64_t shortfall = 0;     // summed over keys: planned - value (largest over regions)
  int64_t excess = 0;        // largest value - planned over unsettled keys and regions, or 0
  uint64_t unacked_ops = 0;  // as given
  double seconds = 0;        // until settled, or the timeout
  std::string detail;        // the first unsettled key and its values, when not converged
};

// Polls every region's counters until each key in `planned` reads the same everywhere, is at
// most its planned sum, and the summed shortfall is within the bound for `unacked_ops`; or until
// `timeout`.
CounterCheck WaitForCounters(const LabContext& context,
                             const std::map<std::string, int64_t>& planned, uint64_t unacked_ops,
                             std::chrono::milliseconds timeout);

// The experiment's assertion on `check`: converged, with what was seen as its detail.
void AssertCounters(const CounterCheck& check, ExperimentResult& result);

}  // namespace meridian
