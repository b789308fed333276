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
  thread_ = std::thread([this] { Run(); });
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

void CommitPipeline::Submit(RecordBatch records, Release release, Durability durability) {
  Status written;
  {
    std::lock_guard lock(mu_);
    if (stopped_) {
      written = Status(StatusCode::kCancelled, "the region is stopping");
    } else if (options_.wal_sync == WalSync::kEveryCommit) {
      // The committer writes the whole group as one synced batch.
      queue_.push_back({std::move(records), Status::Ok(), std::move(release)});
      ++unreleased_;
      wake_.notify_one();
      return;
    } else {
      // kPeriodic. Held across the write: it orders the writes with the committer's view of
      // them (a sync that begins after a write returned covers it), and Stop's final sync after
      // every write.
      if (!failure_.ok()) {
        written = StickyError(failure_);
      } else if (!records.empty()) {
        written = storage_->Write(records, WriteOptions{.sync = false});
        NoteOutcomeLocked(written);
        unsynced_ = unsynced_ || written.ok();
        ++stats_.writes;
      }
      // A step that must wait for the fsync, and every step after it (releases keep their
      // order), goes to the committer, which syncs as soon as it has one.
      if (durability == Durability::kSynced || !queue_.empty()) {
        queue_.push_back({RecordBatch{}, std::move(written), std::move(release)});
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

void CommitPipeline::Run() {
  using Clock = std::chrono::steady_clock;
  const bool periodic = options_.wal_sync == WalSync::kPeriodic;
  const auto interval = std::chrono::milliseconds(options_.sync_interval_ms);
  auto interval_ends = Clock::now() + interval;
  std::unique_lock lock(mu_);
  while (true) {
    auto ready = [this] { return stopping_ || !queue_.empty(); };
    if (periodic) {
      wake_.wait_until(lock, interval_ends, ready);
    } else {
      wake_.wait(lock, ready);
    }
    // At Stop, refuse further writes first, so the last sync covers every acknowledged one.
    if (stopping_) stopped_ = true;
    if (queue_.empty() && !stopped_ && !(periodic && Clock::now() >= interval_ends)) continue;

    std::deque<Step> group;
    group.swap(queue_);
    // kPeriodic: every queued step's write has returned, so one sync begun now covers them all.
    const bool sync = unsynced_ && failure_.ok();
    unsynced_ = false;
    // After a failed write or sync, nothing later may be acknowledged: it could be durable
    // while an earlier step is not.
    const Status prior = failure_;
    lock.unlock();

    // kEveryCommit: the group's records, still unwritten, as one batch.
    RecordBatch batch;
    for (Step& step : group)
      batch.Append(std::move(step.records));
    // Not under mu_: Submit keeps queueing (kPeriodic: writing) while the WAL is fsynced.
    Status synced;
    if (!prior.ok()) {
      synced = StickyError(prior);
    } else if (!batch.empty()) {
      synced = storage_->Write(batch, WriteOptions{.sync = true});
    } else if (sync) {
      synced = storage_->Sync();
    }
    if (!synced.ok() && prior.ok()) {
      lock.lock();
      NoteOutcomeLocked(synced);  // before the releases: what is submitted from now on fails
      lock.unlock();
    }
    for (Step& step : group) {
      if (step.release) step.release(step.written.ok() ? synced : step.written);
    }

    lock.lock();
    unreleased_ -= group.size();
    stats_.steps += group.size();
    const bool wrote = prior.ok() && !batch.empty();
    stats_.writes += wrote ? 1 : 0;
    stats_.syncs += wrote || sync ? 1 : 0;
    stats_.max_group = std::max<uint64_t>(stats_.max_group, group.size());
    interval_ends = Clock::now() + interval;  // any sync starts a new interval
    if (stopped_) break;  // nothing was queued since: Submit refuses once stopped_ is set
  }
}

}  // namespace meridian
