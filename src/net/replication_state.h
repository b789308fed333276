// Internal to ReplicationTransport: the state its outbound and inbound streams share, and the
// completion-queue tag they all use.
//
// Invariants:
//  1. Every gRPC operation is started on the completion-queue (CQ) thread, or before that thread
//     runs (Start), or under `mu` while `cq_open` (the wake alarm only). So no operation is ever
//     started on a queue that is shut down, which gRPC answers with an abort.
//  2. Once `stop_seen` is set (on the CQ thread) the CQ thread starts no operation at all; what
//     is in flight has been cancelled and completes, and the queue drains to empty.
//  3. A peer's queue holds messages only while the peer is connected: when its stream fails the
//     queue is emptied and counted as drops, because the core resends after on_connected.
//  4. Callbacks run on the CQ thread with `mu` released, so they may call Send().
#pragma once

#include <grpcpp/alarm.h>
#include <grpcpp/completion_queue.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "base/thread_annotations.h"
#include "meridian/transport.grpc.pb.h"
#include "net/replication_transport.h"

namespace meridian::net_internal {

// Both ends refuse a hello that names another version (transport.proto).
inline constexpr uint32_t kReplicationProtocolVersion = 1;

// A completion-queue tag: the CQ thread calls Run(ok) for each event. A tag is a member of the
// object whose operation it completes, and at most one operation per tag is in flight.
class OpTag {
 public:
  explicit OpTag(std::function<void(bool ok)> on_done) : on_done_(std::move(on_done)) {}
  void Run(bool ok) { on_done_(ok); }

 private:
  std::function<void(bool ok)> on_done_;
};

// A deadline `ms` from now on the monotonic clock (a wall-clock step cannot fire it early).
gpr_timespec DeadlineAfterMs(int ms);

struct QueuedMessage {
  pb::PeerMessage message;
  size_t bytes = 0;
};

struct PeerShared {
  std::deque<QueuedMessage> queue;
  PeerTransportStats stats;  // stats.connected: the outbound stream is handshaken
};

struct TransportState {
  TransportState(RegionId self_region, std::string cluster_name, std::map<RegionId, PeerShared> p,
                 ReplicationTransport::MessageHandler message_handler,
                 ReplicationTransport::ConnectedHandler connected_handler,
                 ReplicationTransportOptions transport_options);

  // Queues for `peer` and wakes the CQ thread; drops (counted) when the peer is unknown or not
  // connected, or a bound would be passed. Any thread; takes `mu`.
  void Enqueue(RegionId peer, QueuedMessage message) MERIDIAN_EXCLUDES(mu);

  // --- the rest is called on the CQ thread; each takes `mu` briefly ---
  std::optional<QueuedMessage> PopQueued(RegionId peer) MERIDIAN_EXCLUDES(mu);
  // `early`: open before the hello reply (a trusted link; PeerTransportStats::early_connects);
  // otherwise the reply came, and the link is verified too.
  void MarkConnected(RegionId peer, bool early) MERIDIAN_EXCLUDES(mu);
  // The peer answered the hello of the connected stream (PeerTransportStats::verified).
  void MarkVerified(RegionId peer) MERIDIAN_EXCLUDES(mu);
  // The outbound stream failed; `was_connected` says whether it had completed its handshake.
  void MarkFailed(RegionId peer, bool was_connected, const std::string& why) MERIDIAN_EXCLUDES(mu);
  void SetLastError(RegionId peer, std::string error) MERIDIAN_EXCLUDES(mu);
  void SetInboundConnected(RegionId peer, bool connected) MERIDIAN_EXCLUDES(mu);
  void CountSent(RegionId peer, size_t bytes) MERIDIAN_EXCLUDES(mu);
  void CountReceived(RegionId peer, size_t bytes) MERIDIAN_EXCLUDES(mu);
  void CountRefusedHandshake(const std::string& reason) MERIDIAN_EXCLUDES(mu);
  // An inbound stream refused by its certificate (contract 7); `label` is the metric's reason.
  // Returns how many have been refused for that reason, this one included.
  uint64_t CountAuthRefused(const std::string& label, const std::string& reason)
      MERIDIAN_EXCLUDES(mu);
  void CountMisrouted() MERIDIAN_EXCLUDES(mu);
  // Runs a callback, `mu` released; an exception it throws is logged and counted.
  void Deliver(RegionId from, pb::PeerMessage message) MERIDIAN_EXCLUDES(mu);
  void NotifyConnected(RegionId peer) MERIDIAN_EXCLUDES(mu);
  // Posts a wake-up to the CQ thread unless one is pending. REQUIRES: `mu` held.
  void WakeLocked() MERIDIAN_REQUIRES(mu);

  // Immutable after construction.
  const RegionId self;
  const std::string cluster;
  const ReplicationTransport::MessageHandler on_message;
  const ReplicationTransport::ConnectedHandler on_connected;
  const ReplicationTransportOptions options;

  // Set by Start() before the CQ thread runs; immutable until that thread has been joined.
  std::unique_ptr<grpc::ServerCompletionQueue> cq;
  pb::Replication::AsyncService service;

  bool stop_seen = false;  // CQ thread only (invariant 2)

  mutable Mutex mu;
  CondVar stop_seen_changed;  // signalled when stop_acknowledged is set
  std::map<RegionId, PeerShared> peers MERIDIAN_GUARDED_BY(mu);  // keys fixed at construction
  TransportStats totals MERIDIAN_GUARDED_BY(mu);                 // totals.peers unused
  bool stopping MERIDIAN_GUARDED_BY(mu) = false;
  bool stop_acknowledged MERIDIAN_GUARDED_BY(mu) = false;  // the CQ thread set stop_seen
  bool cq_open MERIDIAN_GUARDED_BY(mu) = false;
  bool wake_pending MERIDIAN_GUARDED_BY(mu) = false;
  grpc::Alarm wake_alarm MERIDIAN_GUARDED_BY(mu);  // Set only under mu (invariant 1)
  OpTag* wake_tag = nullptr;                       // set by the owner before Start
};

}  // namespace meridian::net_internal
