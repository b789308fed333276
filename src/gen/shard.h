// Shard: one thread's part of a `meridian gen` run (internal to src/gen; see runner.h).
//
// Invariants:
//  1. A shard owns the clients with client % threads == index: it walks the whole seeded plan and
//     keeps only their ops, so the plan stays one sequence whatever the thread count.
//  2. Everything a shard owns (timer, pools, stats, session tokens, history buffer) is touched
//     only on its own thread, inside its io_context; Stop() is the one cross-thread entry.
//  3. Each op it takes from the plan is counted once in stats(): dropped at its intended time
//     when the in-flight bound is reached, else sent and later answered or failed.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/thread_annotations.h"
#include "gen/http_pool.h"
#include "gen/request.h"
#include "gen/resp_pool.h"
#include "gen/runner.h"
#include "gen/workload.h"

namespace meridian {

// State the shards share: progress counters and the history file.
struct RunShared {
  std::atomic<uint64_t> sent{0};
  std::atomic<uint64_t> completed{0};
  std::atomic<uint64_t> ok{0};
  std::atomic<uint64_t> failed{0};
  std::atomic<uint64_t> dropped{0};
  std::atomic<uint64_t> last_complete_ns{0};  // steady
  // Per rate step, for the ramp's early stop. Sized before the shards start, never resized.
  std::vector<std::atomic<uint64_t>> step_planned;
  std::vector<std::atomic<uint64_t>> step_dropped;
  // Set before the shards start and read-only while they run: whether `history` is open, read
  // without the lock on every op.
  bool history_enabled = false;
  Mutex history_mu;
  std::FILE* history MERIDIAN_GUARDED_BY(history_mu) = nullptr;
  Mutex done_mu;
  CondVar done_cv;
  int shards_done MERIDIAN_GUARDED_BY(done_mu) = 0;
  bool stop_requested MERIDIAN_GUARDED_BY(done_mu) = false;
};

// Wall-clock ns for history lines: steady differences added to one wall reading, so times are
// monotone within the run and comparable with other processes' epoch timestamps.
struct HistoryClock {
  uint64_t steady0 = SteadyNowNs();
  uint64_t wall0 = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count());
  uint64_t ToEpoch(uint64_t steady_ns) const { return wall0 + (steady_ns - steady0); }
};

class Shard {
 public:
  // `endpoints`/`hosts`: one pool each (every target, or the router alone). `start_ns` is the
  // steady time of intended time 0. Everything referenced must outlive the shard.
  // REQUIRES: ValidateGenOptions(options).ok(), options.workload.regions set.
  Shard(const GenOptions& options, const std::vector<boost::asio::ip::tcp::endpoint>& endpoints,
        const std::vector<std::string>& hosts, uint32_t index, uint64_t start_ns,
        const HistoryClock& clock, RunShared* shared);

  // Runs the schedule on the calling thread; returns when it is over and nothing is in flight.
  void Run();
  // From any thread: ends the schedule early; ops in flight still complete.
  void Stop();

  // REQUIRES: Run() has returned.
  const std::map<OpStatsKey, OpStats>& stats() const { return stats_; }

 private:
  void Advance();
  void Schedule();
  void FinishScheduling();
  OpStats& StatsFor(const PlannedOp& op);
  void Issue(PlannedOp op);
  void Drop(const PlannedOp& op, OpStats& stats);
  PoolRequest MakeRequest(const PlannedOp& op, std::string* token_sent) const;
  // Sends on the pool of endpoint `pool`, over the run's protocol.
  void Send(size_t pool, PoolRequest request, PoolCallback callback);
  void Complete(PlannedOp op, PoolResponse response, std::string token_sent);
  void RememberToken(uint32_t client, const std::string& body);
  void RecordHistory(const PlannedOp& op, const OpOutcome& outcome);
  void FlushHistory(bool force);

  const GenOptions& options_;
  const uint32_t index_;
  const uint64_t start_ns_;
  const HistoryClock& clock_;
  RunShared* shared_;
  boost::asio::io_context io_;
  boost::asio::steady_timer timer_;
  Planner planner_;
  std::optional<PlannedOp> next_;                      // this shard's next op, not yet due
  std::vector<std::unique_ptr<HttpPool>> pools_;       // over HTTP, one per endpoint
  std::vector<std::unique_ptr<RespPool>> resp_pools_;  // over RESP, one per endpoint
  std::map<uint32_t, std::string> tokens_;             // client -> its last session token
  size_t in_flight_ = 0;
  size_t in_flight_max_ = 1;
  bool done_scheduling_ = false;
  std::map<OpStatsKey, OpStats> stats_;
  std::string history_;  // lines not yet written to the file
};

}  // namespace meridian
