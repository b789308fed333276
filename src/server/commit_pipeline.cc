#include "server/commit_pipeline.h"

#include <algorithm>
#include <utility>

namespace meridian {

CommitPipeline::CommitPipeline(Storage* storage) : storage_(storage) {
  thread_ = std::thread([this] { Run(); });
}

CommitPipeline::~CommitPipeline() {
  Stop();
}

void CommitPipeline::Submit(RecordBatch records, Release release) {
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
      durable = FailedPrecondition("an earlier storage write failed (" + failure.ToString() +
                                   "); restart the region to recover from disk");
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
    if (failure_.ok() && !durable.ok()) {
      failure_ = durable;
      ++stats_.write_errors;
    }
    unreleased_ -= group.size();
    stats_.steps += group.size();
    ++stats_.groups;
    stats_.max_group = std::max<uint64_t>(stats_.max_group, group.size());
  }
  stopped_ = true;
}

}  // namespace meridian
