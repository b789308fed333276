// RegionServer's stop and its event loop: node events, the end-of-pass write, syncs, ticks.
// (Start, step by step, is in region_start.cc.)
#include "server/region_server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include <malloc.h>

#include <future>
#include <utility>

#include "server/region_server_impl.h"

// jemalloc's control call when the binary links jemalloc (MERIDIAN_JEMALLOC), else null: a weak
// reference, so the server library builds and runs with either allocator.
extern "C" int mallctl(const char* name, void* old_value, size_t* old_size, void* new_value,
                       size_t new_size) __attribute__((weak));

namespace meridian {

namespace asio = boost::asio;

RegionServer::RegionServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RegionServer::~RegionServer() {
  Stop();
}

void RegionServer::Stop() {
  Impl& s = *impl_;
  if (s.stopped) return;
  s.stopped = true;
  s.RunOnLoop([&s] { s.node->BeginDrain(); });
  // Requests in flight are answered (the HTTP server waits for them, up to its grace period)
  // while ticks and peers still drive the node, so session waits and quorum reads can finish.
  s.http->Stop();
  if (s.admin_http) s.admin_http->Stop();
  if (s.resp) s.RunOnLoop([&s] { s.resp->Stop(); });
  s.transport->Stop();  // no more peer messages; what the loop sends now is dropped
  s.RunOnLoop([&s] {
    s.tick_timer.cancel();
    s.Flush();
    // Whatever was acknowledged in periodic mode reaches the disk before the process ends.
    if (s.node->written_step() > s.node->synced_step()) {
      ++s.loop_syncs;
      s.OnSynced(s.node->written_step(), TimedSync(*s.storage, &s.metrics.wal_sync_seconds.Get()));
    }
  });
  s.syncer->Stop();
  if (s.backup_thread.joinable()) s.backup_thread.join();  // its answer is dropped with the loop
  s.work.reset();
  s.loop.stop();
  s.loop_thread.join();
  // What this run appended to the WAL: scripts/bench-vs-redis divides it by the writes it sent.
  const RocksDbWalBytes wal = s.storage->WalBytes();
  spdlog::info("region {}: wrote {} bytes to the WAL in {} batches", name(), wal.bytes,
               wal.batches);
  if (Status closed = s.storage->Close(); !closed.ok()) {
    spdlog::error("region {}: closing storage: {}", name(), closed.message());
  }
  if (s.vault) {
    if (Status closed = s.vault->Close(); !closed.ok()) {
      spdlog::error("region {}: closing the vault: {}", name(), closed.message());
    }
  }
  spdlog::info("region {}: stopped", name());
}

uint16_t RegionServer::http_port() const {
  return impl_->http->port();
}
uint16_t RegionServer::admin_port() const {
  return impl_->admin_http ? impl_->admin_http->port() : 0;
}
uint16_t RegionServer::resp_port() const {
  return impl_->resp ? impl_->resp->port() : 0;
}
uint16_t RegionServer::replication_port() const {
  return impl_->transport->port();
}
const std::string& RegionServer::name() const {
  return impl_->region_names[impl_->options.self];
}

void RegionServer::Impl::RunOnLoop(const std::function<void()>& fn) {
  std::promise<void> done;
  asio::post(loop, [&] {
    fn();
    done.set_value();
  });
  done.get_future().wait();
}

uint64_t RegionServer::Impl::NowMs() const {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  const int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count();
  return static_cast<uint64_t>(ms + clock_skew_ms.load(std::memory_order_relaxed));
}

NodeTime RegionServer::Impl::Now() const {
  const auto steady = std::chrono::steady_clock::now() - started;
  return {NowMs(), static_cast<uint64_t>(
                       std::chrono::duration_cast<std::chrono::milliseconds>(steady).count())};
}

void RegionServer::Impl::Process(NodeOutput out) {
  if (!out.applied.empty()) ObserveApplied(out.applied, NowMs());
  vault_purge = vault_purge || out.vault_erased;
  if (!out.records.empty()) {
    pass_records.Append(std::move(out.records));
    if (!flush_posted) {
      // Runs after every handler already queued: the rest of this pass.
      flush_posted = true;
      asio::post(loop, [this] { Flush(); });
    }
  }
  for (auto& [to, message] : out.messages)
    transport->Send(to, std::move(message));
  // Held: a connection with several replies in this pass sends them in one write.
  if (resp) resp->HoldWrites();
  for (NodeReply& reply : out.replies)
    Answer(std::move(reply));
  if (resp) resp->ReleaseWrites();
  // Messages held for a sync while nothing was written in this pass (an ack, a vote resent):
  // the flush asks for the sync, so they do not wait for the periodic one.
  if (!flush_posted && node->wants_sync() && sync_requested < node->written_step()) {
    flush_posted = true;
    asio::post(loop, [this] { Flush(); });
  }
}

void RegionServer::Impl::Flush() {
  flush_posted = false;
  NodeOutput out;
  if (!pass_records.empty()) {
    // Subjects' keys first, synced: durable before any value sealed under them (vault_store.h).
    Status written;
    if (RecordBatch vault_part = SplitVaultRecords(pass_records); !vault_part.empty()) {
      written = vault ? vault->Write(vault_part, WriteOptions{.sync = true})
                      : Internal("a subject's key record without a vault store");
      if (written.ok() && vault_purge) {
        vault_purge = false;
        if (Status purged = vault->Purge(); !purged.ok()) {
          spdlog::error("region {}: rewriting the vault after an erasure: {}",
                        region_names[options.self], purged.message());
        }
      }
    }
    if (written.ok() && !pass_records.empty()) {
      written = storage->Write(pass_records, WriteOptions{.sync = false});
    }
    pass_records = {};
    if (written.ok()) {
      node->OnWritten(node->last_step(), &out);
    } else {
      node->OnStorageFailed(written, &out);
    }
  }
  Process(std::move(out));
  if (node->wants_sync()) RequestSync();
}

void RegionServer::Impl::RequestSync() {
  const uint64_t step = node->written_step();
  last_sync_request = std::chrono::steady_clock::now();
  if (step <= sync_requested) return;  // a sync asked for already covers it
  sync_requested = step;
  if (options.commit.sync_on_loop) {
    ++loop_syncs;
    OnSynced(step, TimedSync(*storage, &metrics.wal_sync_seconds.Get()));
    return;
  }
  syncer->Request(step);
}

void RegionServer::Impl::OnSynced(uint64_t step, const Status& synced) {
  NodeOutput out;
  if (synced.ok()) {
    node->OnSynced(step, &out);
  } else {
    node->OnStorageFailed(synced, &out);
  }
  Process(std::move(out));
  // What waited for this sync may have let more wait for the next one.
  if (node->wants_sync()) RequestSync();
}

void RegionServer::Impl::OnPeerMessage(RegionId from, pb::PeerMessage message) {
  asio::post(loop, [this, from, message = std::move(message)] {
    NodeOutput out;
    node->OnPeerMessage(from, message, Now(), &out);
    Process(std::move(out));
  });
}

void RegionServer::Impl::OnPeerConnected(RegionId peer) {
  asio::post(loop, [this, peer] {
    NodeOutput out;
    if (transport->Connected(peer)) {
      link_seen[peer] = true;
      node->OnLinkChanged(peer, true, Now(), &out);  // a new connection, even if it was up
      node->OnLinkVerified(peer, transport->Verified(peer));
    } else {
      RefreshLinks(Now(), &out);  // stale: that connection already died
    }
    Process(std::move(out));
  });
}

void RegionServer::Impl::RefreshLinks(NodeTime now, NodeOutput* out) {
  for (RegionId peer = 0; peer < link_seen.size(); ++peer) {
    if (peer == options.self) continue;
    const bool up = transport->Connected(peer);
    if (up != link_seen[peer]) {
      link_seen[peer] = up;
      node->OnLinkChanged(peer, up, now, out);
    }
    node->OnLinkVerified(peer, transport->Verified(peer));
  }
}

void RegionServer::Impl::ScheduleTick() {
  tick_timer.expires_after(std::chrono::milliseconds(options.tick_ms));
  tick_timer.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled: stopping
    OnTick();
    ScheduleTick();
  });
}

void RegionServer::Impl::OnTick() {
  const NodeTime now = Now();
  NodeOutput out;
  RefreshLinks(now, &out);
  node->OnTick(now, &out);
  Process(std::move(out));
  if (resp) resp->OnTick();
  // A merged state transfer has freed its staged chunks and written its batch: hand those pages
  // back to the kernel, or the allocator keeps them and the region's RSS stays at the transfer's
  // peak (glibc for good, jemalloc until its decay returns them, seconds later).
  if (const uint64_t merged = node->replica().stats().snapshots_applied;
      merged != transfers_merged) {
    transfers_merged = merged;
    malloc_trim(0);
    // "arena.<MALLCTL_ARENAS_ALL>.purge": every arena's unused pages, now.
    if (mallctl != nullptr) mallctl("arena.4096.purge", nullptr, nullptr, nullptr, 0);
  }
  // kPeriodic: acknowledged writes reach the disk within the interval even when nothing waits.
  const auto interval = std::chrono::milliseconds(options.commit.sync_interval_ms);
  if (node->written_step() > node->synced_step() &&
      std::chrono::steady_clock::now() - last_sync_request >= interval) {
    RequestSync();
  }
  const RegionHealth health = node->health();
  if (health == reported_health) return;
  reported_health = health;
  const std::string& me = region_names[options.self];
  if (health == RegionHealth::kOk) {
    spdlog::info("region {}: caught up with its peers (applied {})", me,
                 node->replica().applied().ToString());
  } else if (health == RegionHealth::kFailed) {
    spdlog::error("region {}: storage failed, refusing requests until restarted: {}", me,
                  node->storage_failure().ToString());
  }
}

}  // namespace meridian
