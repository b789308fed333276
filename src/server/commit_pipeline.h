// CommitPipeline: makes the replica's steps durable in the order they happened, many per fsync.
//
// The region server runs every step of the core (a client write, a peer message, a tick) under one
// mutex and Submit()s its Output::records with a `release` callback that sends the step's messages
// and answers its client. One committer thread takes everything submitted so far, writes it as ONE
// synced Storage::Write (one RocksDB WriteBatch, one WAL fsync: group commit), then calls each
// release in submission order.
//
// Why a pipeline of our own rather than RocksDB's write grouping alone: steps must reach disk in
// step order. If step N+1's batch could be synced before step N's (two threads racing into
// RocksDB after leaving the replica's mutex), a crash between them would leave op N+1 durable
// and op N lost, a hole in the region's own sequence that peers would wait on forever.
//
// Contract:
//  1. Releases run in Submit order, on the committer thread, each exactly once, and only after
//     every record submitted before or with it is durable (status OK), or with the error that
//     kept them from being durable.
//  2. A failed write is sticky: the region's memory is then ahead of its disk, so every later
//     step fails too (FAILED_PRECONDITION naming the first error) and nothing more is written.
//     The server turns this into 503s; a restart recovers from what is on disk.
//  3. Quiescent() is true when every submitted step has been released, so a reader that holds
//     the submitters' mutex and sees it true knows the state it reads is durable.
//  4. Stop() commits and releases what was submitted, then joins; Submit after Stop releases at
//     once with CANCELLED. Never busy-waits.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "base/status.h"
#include "base/storage.h"

namespace meridian {

struct CommitPipelineStats {
  uint64_t steps = 0;      // released steps
  uint64_t groups = 0;     // commit rounds (at most one synced write each)
  uint64_t max_group = 0;  // most steps in one write
  uint64_t write_errors = 0;
};

class CommitPipeline {
 public:
  using Release = std::function<void(const Status& durable)>;

  // `storage` must outlive the pipeline. Starts the committer thread.
  explicit CommitPipeline(Storage* storage);
  ~CommitPipeline();  // Stop()s
  CommitPipeline(const CommitPipeline&) = delete;
  CommitPipeline& operator=(const CommitPipeline&) = delete;

  // Queues one step. Callers serialize Submit in step order (they hold the replica's mutex).
  void Submit(RecordBatch records, Release release);

  bool Quiescent() const;
  // The first write error, or OK.
  Status failure() const;
  CommitPipelineStats stats() const;

  void Stop();

 private:
  struct Step {
    RecordBatch records;
    Release release;
  };
  void Run();

  Storage* const storage_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Step> queue_;     // GUARDED_BY(mu_)
  uint64_t unreleased_ = 0;    // GUARDED_BY(mu_): queued or being committed
  bool stopping_ = false;      // GUARDED_BY(mu_)
  bool stopped_ = false;       // GUARDED_BY(mu_): the committer has exited
  Status failure_;             // GUARDED_BY(mu_)
  CommitPipelineStats stats_;  // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace meridian
