#include "server/wal_syncer.h"

#include <chrono>
#include <utility>

namespace meridian {

WalSyncer::WalSyncer(Storage* storage, Done done, Histogram* sync_seconds)
    : storage_(storage),
      done_(std::move(done)),
      sync_seconds_(sync_seconds),
      thread_([this] { Run(); }) {}

Status TimedSync(Storage& storage, Histogram* sync_seconds) {
  const auto start = std::chrono::steady_clock::now();
  Status synced = storage.Sync();
  if (sync_seconds != nullptr) {
    sync_seconds->Observe(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return synced;
}

WalSyncer::~WalSyncer() {
  Stop();
}

void WalSyncer::Request(uint64_t step) {
  MutexLock lock(&mu_);
  if (step <= requested_) return;
  requested_ = step;
  wake_.Signal();
}

uint64_t WalSyncer::syncs() const {
  MutexLock lock(&mu_);
  return syncs_;
}

void WalSyncer::Stop() {
  {
    MutexLock lock(&mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    wake_.Signal();
  }
  if (thread_.joinable()) thread_.join();
}

void WalSyncer::Run() {
  MutexLock lock(&mu_);
  for (;;) {
    while (!stopping_ && (failed_ || requested_ <= covered_))
      wake_.Wait(&mu_);
    if (stopping_) return;
    // Everything requested so far was written before its request: one sync covers it all.
    const uint64_t target = requested_;
    mu_.Unlock();
    const Status synced = TimedSync(*storage_, sync_seconds_);
    mu_.Lock();
    ++syncs_;
    if (synced.ok()) {
      covered_ = target;
    } else {
      failed_ = true;
    }
    mu_.Unlock();
    done_(target, synced);
    mu_.Lock();
  }
}

}  // namespace meridian
