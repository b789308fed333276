#include "server/wal_syncer.h"

#include <utility>

namespace meridian {

WalSyncer::WalSyncer(Storage* storage, Done done)
    : storage_(storage), done_(std::move(done)), thread_([this] { Run(); }) {}

WalSyncer::~WalSyncer() {
  Stop();
}

void WalSyncer::Request(uint64_t step) {
  std::lock_guard lock(mu_);
  if (step <= requested_) return;
  requested_ = step;
  wake_.notify_one();
}

uint64_t WalSyncer::syncs() const {
  std::lock_guard lock(mu_);
  return syncs_;
}

void WalSyncer::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    wake_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

void WalSyncer::Run() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || (!failed_ && requested_ > covered_); });
    if (stopping_) return;
    // Everything requested so far was written before its request: one sync covers it all.
    const uint64_t target = requested_;
    lock.unlock();
    const Status synced = storage_->Sync();
    lock.lock();
    ++syncs_;
    if (synced.ok()) {
      covered_ = target;
    } else {
      failed_ = true;
    }
    lock.unlock();
    done_(target, synced);
    lock.lock();
  }
}

}  // namespace meridian
