// CommitPipeline: makes the replica's steps durable in the order they happened.
//
// The region server runs every step of the core (a client write, a peer message, a tick) under one
// mutex and Submit()s its Output::records with a `release` callback that sends the step's messages
// and answers its client. What "durable" means, and so when `release` runs, is the WalSync mode:
//
//  kEveryCommit (the default): one committer thread takes everything submitted so far, writes it
//    as ONE synced Storage::Write (one RocksDB WriteBatch, one WAL fsync: group commit), then calls
//    each release in submission order. An acknowledged step survives a power loss.
//  kPeriodic: Submit writes the step at once, on the caller's thread, as an unsynced Storage::Write
//    (the WAL append reaches the kernel before Write returns), and releases it right there; the
//    committer thread fsyncs the WAL every `sync_interval_ms`. An acknowledged step survives the
//    process's death (kill -9: the kernel still holds it); a power loss of the machine may lose
//    the last interval. It takes the fsync and two thread hand-offs off every client's wait
//    (Cassandra's commitlog_sync: periodic, Redis' appendfsync everysec make the same trade).
//    A step's `publish` (its messages to peers) still waits for an fsync, which the committer
//    starts at once, so no peer holds a step a power loss could take from its origin. A step
//    submitted with Durability::kSynced (a handle acceptor's vote, which must not be forgotten
//    once sent) is released that way too, and so is every step submitted after it until that
//    fsync is done.
//
// Why a pipeline of our own rather than RocksDB's write grouping alone: steps must reach disk in
// step order. If step N+1's batch could be synced before step N's (two threads racing into
// RocksDB after leaving the replica's mutex), a crash between them would leave op N+1 durable
// and op N lost, a hole in the region's own sequence that peers would wait on forever. In
// kPeriodic mode the callers' mutex orders the writes, one WAL keeps them in that order, and a
// sync covers every write that returned before it began.
//
// Contract:
//  1. Releases run in Submit order, each exactly once, and only after every record submitted
//     before or with it is durable in the mode's sense (status OK), or with the error that kept
//     them from being so. The committer thread releases what waits for an fsync; kPeriodic
//     releases the rest inside Submit, on the caller's thread (which holds the caller's mutex:
//     releases must not take it). Publishes likewise, in Submit order, each after its step's
//     release and after an fsync covering every record submitted before or with it (or at once
//     when nothing is unsynced), with OK or the error; a failed step's publish gets the error.
//  2. A failed write or sync is sticky: the region's memory is then ahead of its disk, so every
//     later step fails too (FAILED_PRECONDITION naming the first error) and nothing more is
//     written. The server turns this into 503s; a restart recovers from what is on disk.
//  3. Quiescent() is true when every submitted step has been released, so a reader that holds
//     the submitters' mutex and sees it true knows the state it reads is durable.
//  4. Stop() commits (kPeriodic: syncs) and releases what was submitted, then joins; Submit after
//     Stop releases at once with CANCELLED. Never busy-waits.
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

enum class WalSync {
  kEveryCommit,  // ack after the step's group is fsynced
  kPeriodic,     // ack after the step is in the kernel; fsync every sync_interval_ms
};

// "always" / "periodic", as `meridian region --wal-sync` spells them.
const char* WalSyncName(WalSync mode);

// What one step needs before its release, whatever the mode.
enum class Durability {
  kPerMode,  // what the WalSync mode says
  kSynced,   // fsynced even in kPeriodic: state whose loss would break a promise made to others
             // (a consensus acceptor's vote), not merely lose the step
};

struct CommitPipelineOptions {
  WalSync wal_sync = WalSync::kEveryCommit;
  // kPeriodic: how often the WAL is fsynced, which bounds what a power loss can take.
  int sync_interval_ms = 100;
};

struct CommitPipelineStats {
  uint64_t steps = 0;      // released steps
  uint64_t writes = 0;     // storage writes: one per group (kEveryCommit), per step (kPeriodic)
  uint64_t syncs = 0;      // WAL fsyncs: per group (kEveryCommit), per interval or kSynced group
  uint64_t max_group = 0;  // most steps released by one fsync
  uint64_t write_errors = 0;
};

class CommitPipeline {
 public:
  using Release = std::function<void(const Status& durable)>;

  // `storage` must outlive the pipeline. Starts the committer thread.
  explicit CommitPipeline(Storage* storage, CommitPipelineOptions options = {});
  ~CommitPipeline();  // Stop()s
  CommitPipeline(const CommitPipeline&) = delete;
  CommitPipeline& operator=(const CommitPipeline&) = delete;

  // Queues (kPeriodic: writes) one step. `release` runs once the step is durable in the mode's
  // sense, `publish` once it is fsynced (both modes): what goes to other processes that may act
  // on the step, so that no peer holds an op or an acknowledgement its origin can lose to a power
  // loss. Either may be null. Callers serialize Submit in step order (they hold the replica's
  // mutex).
  void Submit(RecordBatch records, Release release, Release publish = nullptr,
              Durability durability = Durability::kPerMode);

  bool Quiescent() const;
  // True when nothing is queued, written but unsynced, being synced or waiting to be published:
  // a publish submitted now goes out at once.
  bool Idle() const;
  // The first write error, or OK.
  Status failure() const;
  CommitPipelineStats stats() const;

  void Stop();

 private:
  struct Step {
    RecordBatch records;  // kEveryCommit: not yet written (the committer writes the group)
    Status written;       // kPeriodic: the outcome of Submit's write (OK when it had no records)
    bool released;        // kPeriodic: released in Submit, queued only to publish
    Release release;
    Release publish;
  };
  void Enqueue(Step step);  // REQUIRES: mu_ held
  // The committer: syncs and releases what is queued, at once; kPeriodic also every interval.
  void Run();
  // Records the outcome of one storage write or sync; the first failure sticks.
  void NoteOutcomeLocked(const Status& outcome);
  static Status StickyError(const Status& first);

  Storage* const storage_;
  const CommitPipelineOptions options_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Step> queue_;       // GUARDED_BY(mu_): waiting for the committer
  uint64_t unreleased_ = 0;      // GUARDED_BY(mu_): steps not yet released, queued or syncing
  uint64_t unpublished_ = 0;     // GUARDED_BY(mu_): publishes queued or being synced
  bool stopping_ = false;        // GUARDED_BY(mu_)
  bool stopped_ = false;         // GUARDED_BY(mu_): Submit refuses; set by the committer at Stop
  bool unsynced_ = false;        // GUARDED_BY(mu_): kPeriodic wrote since the last sync began
  bool sync_in_flight_ = false;  // GUARDED_BY(mu_): the committer is syncing kPeriodic writes
  Status failure_;               // GUARDED_BY(mu_)
  CommitPipelineStats stats_;    // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace meridian
