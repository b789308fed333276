#include "net/replication_inbound.h"

#include <grpc/grpc_security_constants.h>
#include <spdlog/spdlog.h>

#include <string>

#include "tls/peer_identity.h"

namespace meridian::net_internal {

InboundStream::InboundStream(TransportState& state, InboundAcceptor& acceptor)
    : state_(state),
      acceptor_(acceptor),
      stream_(&context_),
      accept_tag_([this](bool ok) { OnOpDone(Op::kAccept, ok); }),
      read_tag_([this](bool ok) { OnOpDone(Op::kRead, ok); }),
      write_tag_([this](bool ok) { OnOpDone(Op::kWrite, ok); }),
      finish_tag_([this](bool ok) { OnOpDone(Op::kFinish, ok); }),
      alarm_tag_([this](bool ok) { OnOpDone(Op::kHelloAlarm, ok); }) {}

void InboundStream::Accept() {
  ++ops_in_flight_;
  state_.service.RequestStream(&context_, &stream_, state_.cq.get(), state_.cq.get(), &accept_tag_);
}

void InboundStream::Abort() {
  if (done_) return;
  done_ = true;
  // A context not yet bound to a call cannot be cancelled; server shutdown completes the accept.
  if (phase_ != Phase::kAccepting) context_.TryCancel();
  if (alarm_in_flight_) hello_alarm_.Cancel();
}

void InboundStream::OnOpDone(Op op, bool ok) {
  MERIDIAN_ASSERT(ops_in_flight_ > 0);
  --ops_in_flight_;
  if (op == Op::kHelloAlarm) alarm_in_flight_ = false;
  if (!done_) {
    switch (op) {
      case Op::kAccept:
        OnAccepted(ok);
        break;
      case Op::kRead:
        OnRead(ok);
        break;
      case Op::kWrite:
        OnReplyWritten(ok);
        break;
      case Op::kFinish:  // the refusal has been sent
        Abort();
        break;
      case Op::kHelloAlarm:
        if (ok && phase_ == Phase::kAwaitingHello) Abort();  // the dialer never said hello
        break;
    }
  }
  if (done_ && ops_in_flight_ == 0) acceptor_.Release(this);
}

void InboundStream::OnAccepted(bool ok) {
  if (!ok) return Abort();  // the server is shutting down
  acceptor_.Listen();
  phase_ = Phase::kAwaitingHello;
  ++ops_in_flight_;
  alarm_in_flight_ = true;
  hello_alarm_.Set(state_.cq.get(), DeadlineAfterMs(state_.options.handshake_timeout_ms),
                   &alarm_tag_);
  BeginRead();
}

void InboundStream::OnRead(bool ok) {
  if (!ok) return Abort();  // the dialer cancelled, or its link died (keepalive)
  if (phase_ == Phase::kAwaitingHello) return OnHello();
  if (!incoming_.has_message()) return Abort();  // only messages follow the hello
  OnMessage();
}

void InboundStream::OnHello() {
  if (alarm_in_flight_) hello_alarm_.Cancel();
  const Status check = acceptor_.CheckHello(incoming_);
  const auto refusal =
      check.ok() ? acceptor_.CheckCertificate(context_, incoming_.hello().region()) : std::nullopt;
  if (!check.ok() || refusal) {
    if (refusal) {
      // A refused dialer redials several times a second: log the 1st, 2nd, 4th, 8th... refusal
      // of each reason, so the log shows it without being flooded (the metric counts them all).
      const uint64_t n = state_.CountAuthRefused(refusal->first, refusal->second);
      if ((n & (n - 1)) == 0) {
        spdlog::warn("replication: refused a peer from {} ({} so far for {}): {}", context_.peer(),
                     n, refusal->first, refusal->second);
      }
    } else {
      state_.CountRefusedHandshake(check.message());
    }
    const std::string why = refusal ? refusal->second : check.message();
    phase_ = Phase::kRefusing;
    ++ops_in_flight_;
    stream_.Finish(grpc::Status(grpc::StatusCode::PERMISSION_DENIED, why), &finish_tag_);
    return;
  }
  peer_ = incoming_.hello().region();
  acceptor_.Adopt(this, peer_);
  phase_ = Phase::kReplying;
  outgoing_.Clear();
  outgoing_.mutable_hello_reply()->set_cluster(state_.cluster);
  outgoing_.mutable_hello_reply()->set_region(state_.self);
  ++ops_in_flight_;
  stream_.Write(outgoing_, &write_tag_);
}

void InboundStream::OnReplyWritten(bool ok) {
  if (!ok) return Abort();
  phase_ = Phase::kOpen;
  BeginRead();
}

void InboundStream::OnMessage() {
  pb::PeerMessage& message = *incoming_.mutable_message();
  if (message.from() != peer_) {
    state_.CountMisrouted();  // invariant 1
  } else {
    state_.CountReceived(peer_, message.ByteSizeLong());
    state_.Deliver(peer_, std::move(message));
  }
  BeginRead();
}

void InboundStream::BeginRead() {
  incoming_.Clear();
  ++ops_in_flight_;
  stream_.Read(&incoming_, &read_tag_);
}

InboundAcceptor::InboundAcceptor(TransportState& state, std::set<RegionId> known_peers)
    : state_(state), known_peers_(std::move(known_peers)) {}

void InboundAcceptor::Listen() {
  if (state_.stop_seen) return;
  auto stream = std::make_unique<InboundStream>(state_, *this);
  InboundStream* raw = stream.get();
  streams_.emplace(raw, std::move(stream));
  raw->Accept();
}

void InboundAcceptor::OnStop() {
  for (auto& [raw, stream] : streams_) {
    stream->Abort();
  }
}

Status InboundAcceptor::CheckHello(const pb::PeerEnvelope& envelope) const {
  if (!envelope.has_hello()) return PermissionDenied("the first envelope is not a hello");
  const pb::Hello& hello = envelope.hello();
  const std::string self = std::to_string(state_.self);
  if (hello.protocol_version() != kReplicationProtocolVersion) {
    return PermissionDenied("protocol version " + std::to_string(hello.protocol_version()) +
                            " is not " + std::to_string(kReplicationProtocolVersion));
  }
  if (hello.cluster() != state_.cluster) {
    return PermissionDenied("cluster '" + hello.cluster() + "' dialled region " + self +
                            " of cluster '" + state_.cluster + "'");
  }
  if (known_peers_.count(hello.region()) == 0) {
    return PermissionDenied("region " + std::to_string(hello.region()) +
                            " is not a peer of region " + self);
  }
  if (hello.expected_region() != state_.self) {
    return PermissionDenied("region " + std::to_string(hello.region()) + " meant to reach region " +
                            std::to_string(hello.expected_region()) + " but reached region " +
                            self + " (misrouted)");
  }
  return Status::Ok();
}

std::optional<std::pair<std::string, std::string>> InboundAcceptor::CheckCertificate(
    const grpc::ServerContext& context, RegionId region) const {
  if (!state_.options.tls) return std::nullopt;
  const std::vector<std::string>& names = state_.options.tls->region_names;
  const std::string claimed = "region " + std::to_string(region) + " (" +
                              (region < names.size() ? names[region] : std::string("?")) + ")";
  const std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  const std::vector<grpc::string_ref> pems =
      auth ? auth->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME)
           : std::vector<grpc::string_ref>{};
  if (pems.empty()) {
    return std::pair{"no_certificate", "a peer claiming " + claimed + " presented no certificate"};
  }
  Result<PeerIdentity> identity =
      PeerIdentityFromPem(std::string_view(pems[0].data(), pems[0].size()));
  if (!identity.ok()) {
    return std::pair{"no_identity", "a peer claiming " + claimed + " presented a certificate " +
                                        "without an identity: " + identity.status().message()};
  }
  const std::string named = IdentityUri(*identity);
  if (identity->role != PeerRole::kRegion) {
    return std::pair{"not_a_region",
                     "a peer claiming " + claimed + " presented the certificate of " + named};
  }
  bool known = false;
  for (const std::string& name : names) {
    known = known || name == identity->name;
  }
  if (!known) {
    return std::pair{"unknown_region", "a peer claiming " + claimed +
                                           " presented the certificate of " + named +
                                           ", not a region of this cluster"};
  }
  if (region >= names.size() || names[region] != identity->name) {
    return std::pair{"region_mismatch",
                     "a peer claiming " + claimed + " presented the certificate of " + named};
  }
  return std::nullopt;
}

void InboundAcceptor::Adopt(InboundStream* stream, RegionId peer) {
  auto [it, inserted] = current_.try_emplace(peer, stream);
  if (!inserted) {
    it->second->Abort();
    it->second = stream;
  }
  state_.SetInboundConnected(peer, true);
}

void InboundAcceptor::Release(InboundStream* stream) {
  auto current = current_.find(stream->peer());
  if (current != current_.end() && current->second == stream) {
    current_.erase(current);
    state_.SetInboundConnected(stream->peer(), false);
  }
  auto owned = streams_.find(stream);
  MERIDIAN_ASSERT(owned != streams_.end());
  released_ = std::move(owned->second);  // destroys the stream released before this one
  streams_.erase(owned);
}

}  // namespace meridian::net_internal
