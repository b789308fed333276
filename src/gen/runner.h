// RunGen: `meridian gen`'s engine. Sends a Planner's ops to the targets open-loop, at their
// intended times, and measures each op from its intended send time, so a server that falls
// behind shows as latency instead of a slower schedule (no coordinated omission).
//
// Contract:
//  1. Each of the `threads` shards (shard.h) owns an io_context, a timer, one HttpPool per target
//     and the clients with client % threads == shard; a client's ops, session token and history
//     lines stay on one thread. Shards share only atomic counters and the history file. The ops
//     sent do not depend on the thread count: the same seed sends the same ops either way.
//  2. Every planned op is accounted for exactly once: dropped (the shard's in-flight bound was
//     reached at its intended time; never sent), or sent and then answered or failed. With a
//     history path, each of them is one line (see FormatHistoryLine), in completion order.
//  3. Pacing uses timers; nothing busy-waits. RunGen returns after the schedule ends (or is
//     stopped: GenStop, or a ramp step that dropped too much) and every sent op has completed or
//     timed out. The history's op lines then cover exactly the ops the report counts.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <ostream>
#include <string>
#include <tuple>
#include <vector>

#include "base/status.h"
#include "base/thread_annotations.h"
#include "gen/histogram.h"
#include "gen/workload.h"

namespace meridian {

struct GenTarget {
  std::string name;     // region name: "us"
  std::string address;  // its HTTP API: "127.0.0.1:7101" (its resp listener, over RESP)
};

// Ends a run early from another thread (Ctrl-C): the schedule stops, sent ops finish or time out,
// and the report covers the ops issued so far. Thread-safe.
class GenStop {
 public:
  void Request();
  bool requested() const;
  // RunGen's hook, called once by Request() (or at once if already requested); not for callers.
  void OnRequest(std::function<void()> callback);

 private:
  mutable Mutex mu_;
  bool requested_ MERIDIAN_GUARDED_BY(mu_) = false;
  std::function<void()> callback_ MERIDIAN_GUARDED_BY(mu_);
};

// What the generator speaks: HTTP to the regions' APIs, or RESP2 to any Redis-protocol server
// (a region's or the router's resp listener, redis-server), commands as gen/resp_request.h maps
// the classes.
enum class GenProtocol { kHttp, kResp };

struct GenOptions {
  WorkloadSpec workload;
  GenProtocol protocol =
      GenProtocol::kHttp;  // RunGen sets workload.regions to the number of targets
  std::vector<GenTarget> targets;
  // Non-empty: every request goes to this router address with X-Client-Region naming the region
  // the op was planned for; the targets then only name the regions. Over RESP the router is told
  // nothing (RESP has no headers): it picks the region itself.
  std::string router;
  // Sent as `Authorization: Bearer api_key` on every request when set (docs/security.md); over
  // RESP, as `AUTH api_key` first on every connection.
  std::string api_key;
  bool session = false;           // reads carry the client's last session token
  bool idempotency_keys = false;  // writes carry Idempotency-Key: gen-<seed>-<index>
  int threads = 1;
  size_t connections_per_target = 16;  // split over the threads
  // Ops sent and not yet answered, over all threads. At the bound an op is dropped, not delayed:
  // delaying it would slow the schedule and hide the overload.
  size_t in_flight_max = 1024;
  int timeout_ms = 5'000;
  std::string history_path;
  // Ops sent at the first step's rate before the schedule, to warm the server's caches and
  // connections; they go to the history like any op but are left out of the report. 0: none.
  uint64_t warmup_ns = 0;
  // A ramp ends after the first finished step that dropped more than this share of its ops: past
  // the ceiling, more steps only pile onto a saturated server. 1 runs every step.
  double ramp_stop_drop_share = 1.0;
  std::ostream* progress = nullptr;  // one line per second while running, when set
  GenStop* stop = nullptr;           // optional; must outlive RunGen
};

// Status of the options, before anything is sent.
Status ValidateGenOptions(const GenOptions& options);

// The workload RunGen plans from: options.workload with regions set to the target count and the
// warm-up, if any, as an extra first step. `meridian gen --plan-only` prints its ops.
WorkloadSpec PlannedWorkload(const GenOptions& options);

// What happened to the ops of one (step, class, op).
struct OpStats {
  uint64_t planned = 0;
  uint64_t sent = 0;
  uint64_t ok = 0;                           // answered 2xx
  uint64_t dropped = 0;                      // in-flight bound reached; never sent
  std::map<std::string, uint64_t> failures;  // "503", "timeout", "connect: ..." -> count
  LatencyHistogram latency;                  // ok ops: intended send time -> response, ns

  void Merge(const OpStats& other);
  uint64_t failed() const;
};

using OpStatsKey = std::tuple<uint32_t, OpClass, OpKind>;  // step, class, op

struct GenReport {
  uint64_t seed = 0;
  std::vector<RateStep> steps;
  bool conflict_mode = false;
  bool stopped_early = false;   // a GenStop ended the schedule
  std::string history_error;    // non-empty when the history file could not be written whole
  int ramp_stopped_after = -1;  // the step whose drops ended the ramp early, or -1
  double elapsed_s = 0;         // start of the schedule to the last completion
  std::map<OpStatsKey, OpStats> ops;
};

// Runs the whole schedule. Fails (before sending) when a target does not resolve or the history
// file cannot be opened.
Result<GenReport> RunGen(GenOptions options);

}  // namespace meridian
