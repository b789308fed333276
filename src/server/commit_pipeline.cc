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
      Run();
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
  if (options_.wal_sync == WalSync::kPeriodic) {
    Status durable;
    {
      // Held across the write so the sync loop's final sync (at Stop) comes after every write.
      std::lock_guard lock(mu_);
      if (stopped_) {
        durable = Status(StatusCode::kCancelled, "the region is stopping");
      } else if (!failure_.ok()) {
        durable = StickyError(failure_);
      } else if (!records.empty()) {
        durable = storage_->Write(records, WriteOptions{.sync = false});
        NoteOutcomeLocked(durable);
        unsynced_ = unsynced_ || durable.ok();
        ++stats_.groups;
        stats_.max_group = 1;  // one step per write in this mode
      }
      ++stats_.steps;
    }
    if (release) release(durable);
    return;
  }
  {
    std::lock_guard lock(mu_);
    if (!stopped_) {
      queue_.push_back({std::move(records), std::move(release)});
      ++unreleased_;
      wake_.notify_one();
      return;
    }
  }
  if (release) release(Status(StatusCode::kCancelled, "the region is stopping"));
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

void CommitPipeline::Run() {
  std::unique_lock lock(mu_);
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) break;  // stopping, and everything submitted has been released
    std::deque<Step> group;
    group.swap(queue_);
    Status failure = failure_;
    lock.unlock();

    Status durable;
    if (!failure.ok()) {
      durable = StickyError(failure);
    } else {
      RecordBatch batch;
      for (Step& step : group)
        batch.Append(std::move(step.records));
      if (!batch.empty()) durable = storage_->Write(batch, WriteOptions{.sync = true});
    }
    for (Step& step : group) {
      if (step.release) step.release(durable);
    }

    lock.lock();
    NoteOutcomeLocked(durable);
    unreleased_ -= group.size();
    stats_.steps += group.size();
    ++stats_.groups;
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
