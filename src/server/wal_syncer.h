// WalSyncer: fsyncs the storage's WAL off the event loop.
//
// The loop writes each pass's records unsynced (the kernel has them: a process crash cannot lose
// them) and asks the syncer for "everything written up to step N". The syncer runs one
// Storage::Sync() for every request that arrived before the sync began (group commit: while one
// fsync runs, the loop keeps serving and the next sync covers all it wrote meanwhile), then
// reports the highest step covered, or the error, through `done` (on the syncer's thread: the
// owner posts it back to its loop).
//
// Contract:
//  1. done(step, OK) only after a Sync() that began after every write of steps <= step returned.
//  2. A failed Sync() is reported once, as done(step, error), and the syncer then reports nothing
//     more (the region's storage is failed; a restart recovers).
//  3. Stop() finishes a sync in progress, runs none more, and joins. Never busy-waits.
//  4. With `sync_seconds` given, every Sync()'s duration (failed ones too) is observed in it.
#pragma once

#include <cstdint>
#include <functional>
#include <thread>

#include "base/status.h"
#include "base/storage.h"
#include "base/thread_annotations.h"
#include "obs/metrics.h"

namespace meridian {

class WalSyncer {
 public:
  using Done = std::function<void(uint64_t step, const Status& synced)>;

  // `storage` (and `sync_seconds`, when given) must outlive the syncer. Starts its thread.
  WalSyncer(Storage* storage, Done done, Histogram* sync_seconds = nullptr);
  ~WalSyncer();  // Stop()s
  WalSyncer(const WalSyncer&) = delete;
  WalSyncer& operator=(const WalSyncer&) = delete;

  // Any thread: every write of steps <= `step` has returned; sync them.
  void Request(uint64_t step) MERIDIAN_EXCLUDES(mu_);
  uint64_t syncs() const MERIDIAN_EXCLUDES(mu_);
  void Stop() MERIDIAN_EXCLUDES(mu_);

 private:
  void Run() MERIDIAN_EXCLUDES(mu_);

  Storage* const storage_;
  const Done done_;
  Histogram* const sync_seconds_;
  mutable Mutex mu_;
  CondVar wake_;
  uint64_t requested_ MERIDIAN_GUARDED_BY(mu_) = 0;
  uint64_t covered_ MERIDIAN_GUARDED_BY(mu_) = 0;  // the highest step a finished sync covered
  uint64_t syncs_ MERIDIAN_GUARDED_BY(mu_) = 0;
  bool failed_ MERIDIAN_GUARDED_BY(mu_) = false;
  bool stopping_ MERIDIAN_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

// storage.Sync(), its duration observed in `sync_seconds` when given: the syncer's and the
// loop's own syncs (when it runs them) share one histogram.
Status TimedSync(Storage& storage, Histogram* sync_seconds);

}  // namespace meridian
