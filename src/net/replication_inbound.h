// Internal to ReplicationTransport: the streams peers dial into this region's server. The
// acceptor keeps one call waiting for the next stream; each accepted stream checks the dialer's
// hello, answers it, then reads messages and hands them to on_message in arrival order.
//
// Invariants (all on the CQ thread):
//  1. A stream is delivered from only after its hello passed CheckHello, and only as the region
//     that hello named; a message whose own `from` differs is dropped and counted.
//  2. At most one stream per peer is current: a newer handshake from the same region cancels
//     the older stream (its dialer has given up on it), so one sender is read from one stream.
//  3. A stream object is destroyed only when none of its operations is in flight; a done stream
//     starts no operation (and none at all after stop_seen).
//  4. With TLS, a stream is delivered from only when its client certificate names the region its
//     hello claims (CheckCertificate; contract 7 of replication_transport.h).
#pragma once

#include <grpcpp/alarm.h>
#include <grpcpp/server_context.h>

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "net/replication_state.h"

namespace meridian::net_internal {

class InboundAcceptor;

class InboundStream {
 public:
  InboundStream(TransportState& state, InboundAcceptor& acceptor);
  InboundStream(const InboundStream&) = delete;
  InboundStream& operator=(const InboundStream&) = delete;

  // Waits for the next stream a peer opens.
  void Accept();
  // Cancels the stream; it is destroyed once what is in flight has completed.
  void Abort();
  RegionId peer() const { return peer_; }

 private:
  enum class Phase { kAccepting, kAwaitingHello, kReplying, kOpen, kRefusing };
  enum class Op { kAccept, kRead, kWrite, kFinish, kHelloAlarm };

  void OnOpDone(Op op, bool ok);
  void OnAccepted(bool ok);
  void OnRead(bool ok);
  void OnHello();
  void OnReplyWritten(bool ok);
  void OnMessage();
  void BeginRead();

  TransportState& state_;
  InboundAcceptor& acceptor_;
  grpc::ServerContext context_;
  grpc::ServerAsyncReaderWriter<pb::PeerEnvelope, pb::PeerEnvelope> stream_;
  grpc::Alarm hello_alarm_;
  pb::PeerEnvelope incoming_;
  pb::PeerEnvelope outgoing_;
  OpTag accept_tag_, read_tag_, write_tag_, finish_tag_, alarm_tag_;
  Phase phase_ = Phase::kAccepting;
  RegionId peer_ = 0;  // valid from kReplying on
  int ops_in_flight_ = 0;
  bool alarm_in_flight_ = false;
  bool done_ = false;
};

class InboundAcceptor {
 public:
  InboundAcceptor(TransportState& state, std::set<RegionId> known_peers);

  // Posts one call that waits for the next stream (none after stop_seen).
  void Listen();
  // Aborts every stream.
  void OnStop();

  // For InboundStream. OK when `envelope` is a hello from a peer of this cluster meant for us.
  Status CheckHello(const pb::PeerEnvelope& envelope) const;
  // Why `context`'s client certificate may not speak for `region`, or nullopt when it may (or
  // links are plaintext). first: the metric label; second: the message.
  std::optional<std::pair<std::string, std::string>> CheckCertificate(
      const grpc::ServerContext& context, RegionId region) const;
  // `stream` handshook as `peer`: it becomes the peer's current stream (invariant 2).
  void Adopt(InboundStream* stream, RegionId peer);
  // `stream` is done and idle. It is destroyed on the next Release or with the acceptor, not
  // now: its own completion handler is still on the stack.
  void Release(InboundStream* stream);

 private:
  TransportState& state_;
  const std::set<RegionId> known_peers_;
  std::map<InboundStream*, std::unique_ptr<InboundStream>> streams_;
  std::map<RegionId, InboundStream*> current_;
  std::unique_ptr<InboundStream> released_;
};

}  // namespace meridian::net_internal
