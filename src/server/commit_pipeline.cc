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

void CommitPipeline::Submit(RecordBatch records, Release release, Release publish,
                            Durability durability) {
  Status written;
  bool publish_now = false;
  {
    std::lock_guard lock(mu_);
    if (stopped_) {
      written = Status(StatusCode::kCancelled, "the region is stopping");
      publish_now = true;  // with the error: nothing is sent
    } else if (options_.wal_sync == WalSync::kEveryCommit) {
      // A step with nothing to write waits only for the steps before it; when there are none,
      // it is done at once, without a trip through the committer.
      if (!records.empty() || unreleased_ > 0) {
        // The committer writes the whole group as one synced batch.
        Enqueue({std::move(records), Status::Ok(), false, std::move(release), std::move(publish)});
        return;
      }
      ++stats_.steps;
      publish_now = true;
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
      if (durability == Durability::kSynced || unreleased_ > 0) {
        Enqueue({RecordBatch{}, std::move(written), false, std::move(release), std::move(publish)});
        return;
      }
      ++stats_.steps;
      // What the step publishes may carry anything written so far: it leaves after the fsync
      // that covers it (the committer starts one at once), in order behind earlier publishes.
      if (publish && (unsynced_ || sync_in_flight_ || unpublished_ > 0)) {
        Enqueue({RecordBatch{}, written, true, nullptr, std::move(publish)});
      } else {
        publish_now = true;
      }
    }
  }
  if (release) release(written);
  if (publish_now && publish) publish(written);
}

void CommitPipeline::Enqueue(Step step) {
  unreleased_ += step.released ? 0 : 1;
  unpublished_ += step.publish ? 1 : 0;
  queue_.push_back(std::move(step));
  wake_.notify_one();
}

bool CommitPipeline::Quiescent() const {
  std::lock_guard lock(mu_);
  return unreleased_ == 0;
}

bool CommitPipeline::Idle() const {
  std::lock_guard lock(mu_);
  return queue_.empty() && !unsynced_ && !sync_in_flight_ && unpublished_ == 0;
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
    sync_in_flight_ = sync;
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
    uint64_t released = 0, published = 0;
    for (Step& step : group) {
      const Status& outcome = step.written.ok() ? synced : step.written;
      if (!step.released) {
        if (step.release) step.release(outcome);
        ++released;
      }
      if (step.publish) {
        step.publish(outcome);
        ++published;
      }
    }

    lock.lock();
    sync_in_flight_ = false;
    unreleased_ -= released;
    unpublished_ -= published;
    stats_.steps += released;
    const bool wrote = prior.ok() && !batch.empty();
    stats_.writes += wrote ? 1 : 0;
    stats_.syncs += wrote || sync ? 1 : 0;
    stats_.max_group = std::max<uint64_t>(stats_.max_group, group.size());
    interval_ends = Clock::now() + interval;  // any sync starts a new interval
    if (stopped_) break;  // nothing was queued since: Submit refuses once stopped_ is set
  }
}

}  // namespace meridian
