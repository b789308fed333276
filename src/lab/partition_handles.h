// Handle operations during a partition, for the `partition` experiment: issue 18's claims that the
// regions on a majority's side go on claiming and reading handles without a stall, and that a
// region cut off from every majority answers 503 within a second.
//
// Contract:
//  1. One probe thread per region, started by Start and joined by Stop (the destructor stops
//     too). Each thread, every kProbeInterval until Stop, sends one handle op to its region:
//     in turn a claim of a name never used before and a read of one shared name claimed before
//     the probe began. Every op is bounded by LabCall's timeout.
//  2. Summaries are per region, over the ops sent between Start and Stop; latency is the op's
//     HTTP round trip on loopback to the region (the region's WAN rounds included).
//  3. A region is on the minority side when the cut leaves it connected to fewer than a majority
//     of regions (itself included); MinoritySide says which, from the cut pairs alone.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "lab/lab_context.h"

namespace meridian {

// One op's outcome: HTTP status (0: no reply) and latency.
struct HandleProbeOp {
  bool claim = false;  // false: a read of the shared name
  int status = 0;
  double latency_ms = 0;
};

struct HandleProbeSummary {
  int ops = 0;
  int ok = 0;           // claims answered 201, reads 200
  int unavailable = 0;  // answered 503
  int other = 0;        // any other status, or no reply
  int claims_acknowledged = 0;
  double latency_ms_p50 = 0;
  double latency_ms_p99 = 0;
  double latency_ms_max = 0;
  double latency_ms_max_unavailable = 0;  // the slowest 503
  int slower_than_stall = 0;              // ops slower than kHandleStallMs
};

// A majority-side op slower than this is a stall. A healthy op costs at most a round trip to the
// nearest majority still connected (150 ms here), plus waiting out another region's read lease
// (L + M = 320 ms, docs/strong.md) and one more round: ~600 ms. Slower than a second is waiting
// for a timeout or an election (etcd's 2-3 s), the stall issue 18 rules out; also the bound the
// issue sets on the minority's 503.
constexpr double kHandleStallMs = 1000;

// Which regions (by index) the cut `pairs` leaves without a majority of regions reachable.
std::vector<bool> MinoritySide(const LabContext& context,
                               const std::vector<std::pair<std::string, std::string>>& pairs);

class HandleProbe {
 public:
  // `prefix` makes every claimed name unique to this probe (one path segment, no spaces).
  HandleProbe(const LabContext& context, std::string prefix);
  ~HandleProbe();
  HandleProbe(const HandleProbe&) = delete;
  HandleProbe& operator=(const HandleProbe&) = delete;

  // Claims the shared name at region 0 (waits up to 10 s for a 201); returns false when it could
  // not. Call before the cut.
  bool ClaimShared();
  // Starts the probe threads (contract 1). REQUIRES: not started.
  void Start();
  // Stops and joins them; idempotent.
  void Stop();
  // The summary of region `r`'s ops. REQUIRES: stopped.
  HandleProbeSummary Summary(size_t r) const;

 private:
  void Probe(size_t r);

  const LabContext& context_;
  std::string prefix_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
  std::vector<std::vector<HandleProbeOp>> ops_;  // one vector per region, owned by its thread
};

}  // namespace meridian
