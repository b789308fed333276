#include "net/replication_state.h"

#include <cstdio>
#include <exception>

namespace meridian::net_internal {

namespace {

// Callbacks belong to the shell; one that throws loses its message (the core resends) but must
// not take the CQ thread, and with it all replication of this region, down.
template <typename Fn>
bool RunCallback(const char* name, RegionId self, Fn&& fn) {
  try {
    fn();
    return true;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "replication transport (region %u): %s threw: %s\n", self, name, e.what());
  } catch (...) {
    std::fprintf(stderr, "replication transport (region %u): %s threw\n", self, name);
  }
  return false;
}

}  // namespace

gpr_timespec DeadlineAfterMs(int ms) {
  return gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(ms, GPR_TIMESPAN));
}

TransportState::TransportState(RegionId self_region, std::string cluster_name,
                               std::map<RegionId, PeerShared> p,
                               ReplicationTransport::MessageHandler message_handler,
                               ReplicationTransport::ConnectedHandler connected_handler,
                               ReplicationTransportOptions transport_options)
    : self(self_region),
      cluster(std::move(cluster_name)),
      on_message(std::move(message_handler)),
      on_connected(std::move(connected_handler)),
      options(transport_options),
      peers(std::move(p)) {}

void TransportState::Enqueue(RegionId peer, QueuedMessage message) {
  MutexLock lock(&mu);
  auto it = peers.find(peer);
  if (it == peers.end()) {
    ++totals.drops_unknown_peer;
    return;
  }
  PeerShared& shared = it->second;
  PeerTransportStats& stats = shared.stats;
  if (!stats.connected || stopping) {
    ++stats.drops_disconnected;
    return;
  }
  if (message.bytes > options.max_message_bytes) {
    ++stats.drops_oversized;
    return;
  }
  if (shared.queue.size() >= options.max_queued_messages_per_peer ||
      stats.queued_bytes + message.bytes > options.max_queued_bytes_per_peer) {
    ++stats.drops_queue_full;
    return;
  }
  stats.queued_bytes += message.bytes;
  shared.queue.push_back(std::move(message));
  stats.queued_messages = shared.queue.size();
  WakeLocked();
}

std::optional<QueuedMessage> TransportState::PopQueued(RegionId peer) {
  MutexLock lock(&mu);
  PeerShared& shared = peers.at(peer);
  if (shared.queue.empty()) return std::nullopt;
  QueuedMessage next = std::move(shared.queue.front());
  shared.queue.pop_front();
  shared.stats.queued_bytes -= next.bytes;
  shared.stats.queued_messages = shared.queue.size();
  return next;
}

void TransportState::MarkConnected(RegionId peer, bool early) {
  MutexLock lock(&mu);
  PeerTransportStats& stats = peers.at(peer).stats;
  MERIDIAN_ASSERT(!stats.connected);
  stats.connected = true;
  stats.verified = !early;
  ++stats.connects;
  if (early) ++stats.early_connects;
}

void TransportState::MarkVerified(RegionId peer) {
  MutexLock lock(&mu);
  PeerTransportStats& stats = peers.at(peer).stats;
  MERIDIAN_ASSERT(stats.connected);
  stats.verified = true;
}

void TransportState::MarkFailed(RegionId peer, bool was_connected, const std::string& why) {
  MutexLock lock(&mu);
  PeerShared& shared = peers.at(peer);
  PeerTransportStats& stats = shared.stats;
  MERIDIAN_ASSERT(stats.connected == was_connected);
  if (was_connected) {
    ++stats.disconnects;
  } else {
    ++stats.dial_failures;
  }
  stats.connected = false;
  stats.verified = false;
  stats.drops_disconnected += shared.queue.size();
  shared.queue.clear();
  stats.queued_messages = 0;
  stats.queued_bytes = 0;
  stats.last_error = why;
}

void TransportState::SetLastError(RegionId peer, std::string error) {
  MutexLock lock(&mu);
  peers.at(peer).stats.last_error = std::move(error);
}

void TransportState::SetInboundConnected(RegionId peer, bool connected) {
  MutexLock lock(&mu);
  peers.at(peer).stats.inbound_connected = connected;
}

void TransportState::CountSent(RegionId peer, size_t bytes) {
  MutexLock lock(&mu);
  PeerTransportStats& stats = peers.at(peer).stats;
  ++stats.messages_sent;
  stats.bytes_sent += bytes;
}

void TransportState::CountReceived(RegionId peer, size_t bytes) {
  MutexLock lock(&mu);
  PeerTransportStats& stats = peers.at(peer).stats;
  ++stats.messages_received;
  stats.bytes_received += bytes;
}

void TransportState::CountRefusedHandshake(const std::string& reason) {
  MutexLock lock(&mu);
  ++totals.handshakes_refused;
  totals.last_refusal = reason;
}

uint64_t TransportState::CountAuthRefused(const std::string& label, const std::string& reason) {
  MutexLock lock(&mu);
  ++totals.handshakes_refused;
  totals.last_refusal = reason;
  return ++totals.peer_auth_refused[label];
}

void TransportState::CountMisrouted() {
  MutexLock lock(&mu);
  ++totals.messages_misrouted;
}

void TransportState::Deliver(RegionId from, pb::PeerMessage message) {
  if (!RunCallback("on_message", self, [&] { on_message(from, std::move(message)); })) {
    MutexLock lock(&mu);
    ++totals.callback_exceptions;
  }
}

void TransportState::NotifyConnected(RegionId peer) {
  if (!RunCallback("on_connected", self, [&] { on_connected(peer); })) {
    MutexLock lock(&mu);
    ++totals.callback_exceptions;
  }
}

void TransportState::WakeLocked() {
  if (wake_pending || !cq_open) return;
  wake_pending = true;
  wake_alarm.Set(cq.get(), gpr_time_0(GPR_CLOCK_MONOTONIC), wake_tag);
}

}  // namespace meridian::net_internal
