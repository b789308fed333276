#include "server/commit_pipeline.h"

#include <algorithm>
#include <chrono>
#include <utility>

namespace meridian {

const char* WalSyncName(WalSync mode) {
  return mode == WalSync::kPeriodic ? "periodic" : "always";
}

CommitPipeline::CommitPipeline(Storage* storage, CommitPipelineOptions options)
    : storage_(storage), options_(options) {
  thread_ = std::thread([this] {
    if (options_.wal_sync == WalSync::kPeriodic) {
      RunSyncLoop();
    } else {
      RunGroupCommits();
    }
  });
}

CommitPipeline::~CommitPipeline() {
  Stop();
}

Status CommitPipeline::StickyError(const Status& first) {
  return FailedPrecondition("an earlier storage write failed (" + first.ToString() +
                            "); restart the region to recover from disk");
}

void CommitPipeline::NoteOutcomeLocked(const Status& outcome) {
  if (failure_.ok() && !outcome.ok()) {
    failure_ = outcome;
    ++stats_.write_errors;
  }
}

void CommitPipeline::Submit(RecordBatch records, Release release) {
  Status written;
  {
    // Held across the write: it orders the writes with the committer's view of them (a sync
    // that begins after a write returned covers it), and Stop's final sync after every write.
    std::lock_guard lock(mu_);
    if (stopped_) {
      written = Status(StatusCode::kCancelled, "the region is stopping");
    } else {
      if (!failure_.ok()) {
        written = StickyError(failure_);
      } else if (!records.empty()) {
        written = storage_->Write(records, WriteOptions{.sync = false});
        NoteOutcomeLocked(written);
        unsynced_ = unsynced_ || written.ok();
        ++stats_.writes;
      }
      if (options_.wal_sync == WalSync::kEveryCommit) {
        queue_.push_back({std::move(written), std::move(release)});
        ++unreleased_;
        wake_.notify_one();
        return;
      }
      ++stats_.steps;
    }
  }
  if (release) release(written);
}

bool CommitPipeline::Quiescent() const {
  std::lock_guard lock(mu_);
  return unreleased_ == 0;
}

Status CommitPipeline::failure() const {
  std::lock_guard lock(mu_);
  return failure_;
}

CommitPipelineStats CommitPipeline::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void CommitPipeline::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    wake_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

void CommitPipeline::RunGroupCommits() {
  std::unique_lock lock(mu_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) break;  // stopping, and everything submitted has been released
    // Every queued step's write has returned, so one sync begun now covers them all.
    std::deque<Step> group;
    group.swap(queue_);
    const bool sync = unsynced_ && failure_.ok();
    unsynced_ = false;
    // After a failed write or sync, nothing later may be acknowledged: it could be durable
    // while an earlier step is not.
    const Status prior = failure_;
    lock.unlock();

    const Status synced = !prior.ok() ? StickyError(prior) : sync ? storage_->Sync() : Status::Ok();
    for (Step& step : group) {
      if (step.release) step.release(step.written.ok() ? synced : step.written);
    }

    lock.lock();
    if (prior.ok()) NoteOutcomeLocked(synced);
    unreleased_ -= group.size();
    stats_.steps += group.size();
    stats_.syncs += sync ? 1 : 0;
    stats_.max_group = std::max<uint64_t>(stats_.max_group, group.size());
  }
  stopped_ = true;
}

void CommitPipeline::RunSyncLoop() {
  const auto interval = std::chrono::milliseconds(options_.sync_interval_ms);
  std::unique_lock lock(mu_);
  while (true) {
    const bool stopping = wake_.wait_for(lock, interval, [this] { return stopping_; });
    // At Stop, refuse further writes first, so the final sync covers every acknowledged one.
    if (stopping) stopped_ = true;
    if (unsynced_ && failure_.ok()) {
      unsynced_ = false;
      lock.unlock();
      // Not under mu_: writers keep appending while the WAL is fsynced.
      const Status synced = storage_->Sync();
      lock.lock();
      NoteOutcomeLocked(synced);
      ++stats_.syncs;
    }
    if (stopping) break;
  }
}

}  // namespace meridian
