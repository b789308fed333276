#include "net/replication_outbound.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <spdlog/spdlog.h>

#include <algorithm>

#include "net/replication_grpc_args.h"
#include "tls/peer_identity.h"

namespace meridian::net_internal {

namespace {

// Contract 7 of replication_transport.h: the server must prove it is region `peer` of this
// cluster's CA; the name checked is the peer's, whatever address (a WAN proxy) is dialled.
std::shared_ptr<grpc::Channel> NewChannel(const TransportState& state, RegionId peer,
                                          const std::string& address) {
  grpc::ChannelArguments args = ClientArguments(state.options);
  if (!state.options.tls) {
    return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
  }
  const ReplicationTls& tls = *state.options.tls;
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = tls.ca_pem;
  ssl.pem_cert_chain = tls.cert_pem;
  ssl.pem_private_key = tls.key_pem;
  args.SetSslTargetNameOverride(IdentityDnsName({PeerRole::kRegion, tls.region_names.at(peer)}));
  return grpc::CreateCustomChannel(address, grpc::SslCredentials(ssl), args);
}

const char* ChannelStateName(grpc_connectivity_state state) {
  switch (state) {
    case GRPC_CHANNEL_IDLE:
      return "idle";
    case GRPC_CHANNEL_CONNECTING:
      return "connecting (no answer)";
    case GRPC_CHANNEL_READY:
      return "ready";
    case GRPC_CHANNEL_TRANSIENT_FAILURE:
      return "failing (connection refused or reset)";
    case GRPC_CHANNEL_SHUTDOWN:
      return "shut down";
  }
  return "unknown";
}

}  // namespace

struct OutboundLink::Call {
  enum class Phase { kStarting, kSendingHello, kAwaitingReply, kOpen };

  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientAsyncReaderWriter<pb::PeerEnvelope, pb::PeerEnvelope>> stream;
  grpc::Alarm handshake_alarm;
  pb::PeerEnvelope outgoing;  // the envelope being written (invariant 3)
  pb::PeerEnvelope incoming;  // the envelope being read
  grpc::Status final_status;
  Phase phase = Phase::kStarting;
  // Messages may be written: the handshake is done, or (a trusted link) the hello is sent.
  bool sending = false;
  int ops_in_flight = 0;
  bool write_in_flight = false;
  bool alarm_in_flight = false;
  bool finishing = false;
  bool failed = false;
  std::string failure;
  size_t writing_bytes = 0;  // serialized size of the PeerMessage being written
};

OutboundLink::OutboundLink(TransportState& state, RegionId peer, const std::string& address)
    : state_(state),
      peer_(peer),
      address_(address),
      channel_(NewChannel(state, peer, address)),
      stub_(pb::Replication::NewStub(channel_)),
      start_tag_([this](bool ok) { OnOpDone(Op::kStart, ok); }),
      write_tag_([this](bool ok) { OnOpDone(Op::kWrite, ok); }),
      read_tag_([this](bool ok) { OnOpDone(Op::kRead, ok); }),
      handshake_tag_([this](bool ok) { OnOpDone(Op::kHandshakeAlarm, ok); }),
      finish_tag_([this](bool ok) { OnOpDone(Op::kFinish, ok); }),
      backoff_tag_([this](bool) { OnBackoffDone(); }),
      backoff_(state.options.reconnect_backoff_ms_min, state.options.reconnect_backoff_ms_max,
               state.options.reconnect_backoff_ms_max_after_connected,
               state.self * kMaxRegions + peer + 1) {}

OutboundLink::~OutboundLink() = default;

void OutboundLink::Dial() {
  MERIDIAN_ASSERT(!call_ && !backoff_pending_ && !state_.stop_seen);
  call_ = std::make_unique<Call>();
  Call& call = *call_;
  dial_started_ = SteadyClock::now();
  ++dials_since_down_;
  // Queue the stream until the channel is connected (gRPC redials TCP with the backoff of
  // ClientArguments); the handshake alarm bounds the whole attempt.
  call.context.set_wait_for_ready(true);
  call.stream = stub_->PrepareAsyncStream(&call.context, state_.cq.get());
  call.ops_in_flight += 2;
  call.alarm_in_flight = true;
  call.handshake_alarm.Set(state_.cq.get(), DeadlineAfterMs(state_.options.handshake_timeout_ms),
                           &handshake_tag_);
  call.stream->StartCall(&start_tag_);
}

void OutboundLink::OnOpDone(Op op, bool ok) {
  MERIDIAN_ASSERT(call_ && call_->ops_in_flight > 0);
  Call& call = *call_;
  --call.ops_in_flight;
  if (op == Op::kWrite) call.write_in_flight = false;
  if (op == Op::kHandshakeAlarm) call.alarm_in_flight = false;
  if (op == Op::kFinish) {
    OnFinished();
    return;
  }
  if (!call.failed) {
    switch (op) {
      case Op::kStart:
        OnStarted(ok);
        break;
      case Op::kWrite:
        OnWritten(ok);
        break;
      case Op::kRead:
        OnRead(ok);
        break;
      case Op::kHandshakeAlarm:
        OnHandshakeAlarm(ok);
        break;
      case Op::kFinish:
        break;
    }
  }
  MaybeFinish();
}

void OutboundLink::OnStarted(bool ok) {
  if (!ok) return Fail("stream did not start");
  stream_started_ = SteadyClock::now();
  pb::PeerEnvelope envelope;
  pb::Hello& hello = *envelope.mutable_hello();
  hello.set_cluster(state_.cluster);
  hello.set_region(state_.self);
  hello.set_expected_region(peer_);
  hello.set_protocol_version(kReplicationProtocolVersion);
  call_->phase = Call::Phase::kSendingHello;
  BeginWrite(std::move(envelope), 0);
}

void OutboundLink::OnWritten(bool ok) {
  Call& call = *call_;
  if (!ok) return Fail("write failed: stream broken");
  if (call.phase == Call::Phase::kSendingHello) {
    call.phase = Call::Phase::kAwaitingReply;
    BeginRead();
    // A link whose last handshake succeeded sends right behind its hello, a round trip before
    // the reply: the acceptor checks the hello before it reads anything else, so nothing
    // reaches a region that refuses it (contract 3 of replication_transport.h).
    if (trusted_) OpenForSending(/*early=*/true);
    return;
  }
  state_.CountSent(peer_, call.writing_bytes);
  Pump();
}

void OutboundLink::OnRead(bool ok) {
  Call& call = *call_;
  if (!ok) {
    // The stream is over and its status is on the way: cancelling would replace the acceptor's
    // reason (say, a refused handshake) with CANCELLED. Only a write still in flight needs it.
    const bool handshaking = call.phase != Call::Phase::kOpen;
    return Fail(handshaking ? "stream ended during the handshake" : "stream ended",
                /*cancel=*/call.write_in_flight);
  }
  // The acceptor sends nothing after its reply: the open stream's read ends only with it.
  if (call.phase != Call::Phase::kAwaitingReply) return Fail("peer sent an unexpected envelope");
  const Status reply = CheckReply(call.incoming);
  if (!reply.ok()) return Fail(reply.ToString());
  Established();
}

void OutboundLink::OnHandshakeAlarm(bool ok) {
  // ok = false: cancelled because the handshake completed (or the call failed).
  if (!ok || call_->phase == Call::Phase::kOpen) return;
  // The channel's state tells a peer that refuses connections from one that never answers.
  Fail(std::string("handshake timed out, channel ") +
       ChannelStateName(channel_->GetState(/*try_to_connect=*/false)));
}

Status OutboundLink::CheckReply(const pb::PeerEnvelope& reply) const {
  if (!reply.has_hello_reply()) return PermissionDenied("peer did not answer the hello");
  const pb::HelloReply& hello = reply.hello_reply();
  if (hello.cluster() != state_.cluster || hello.region() != peer_) {
    return PermissionDenied("dialled region " + std::to_string(peer_) + " of cluster '" +
                            state_.cluster + "' at " + address_ + " but reached region " +
                            std::to_string(hello.region()) + " of cluster '" + hello.cluster() +
                            "'");
  }
  return Status::Ok();
}

void OutboundLink::Established() {
  Call& call = *call_;
  call.phase = Call::Phase::kOpen;
  if (call.alarm_in_flight) call.handshake_alarm.Cancel();
  backoff_.OnConnected();
  trusted_ = true;
  LogEstablished();
  BeginRead();  // invariant 2
  if (call.sending) {
    state_.MarkVerified(peer_);  // opened early, behind the hello: verified only now
  } else {
    OpenForSending(/*early=*/false);  // connected and verified at once
  }
}

void OutboundLink::OpenForSending(bool early) {
  MERIDIAN_ASSERT(!call_->sending);
  call_->sending = true;
  state_.MarkConnected(peer_, early);
  state_.NotifyConnected(peer_);
  Pump();
}

void OutboundLink::LogEstablished() {
  const auto now = SteadyClock::now();
  auto ms = [](SteadyClock::duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  };
  const int64_t channel_ms = ms(stream_started_ - dial_started_);
  const int64_t handshake_ms = ms(now - stream_started_);
  if (!down_since_) {
    spdlog::info("replication {}->{}: connected (channel ready {} ms, handshake {} ms)",
                 state_.self, peer_, channel_ms, handshake_ms);
    return;
  }
  spdlog::info(
      "replication {}->{}: reconnected {} ms after the link was lost, dial {} of the outage "
      "(channel ready {} ms, handshake {} ms)",
      state_.self, peer_, ms(now - *down_since_), dials_since_down_, channel_ms, handshake_ms);
  down_since_.reset();
}

void OutboundLink::Pump() {
  if (!call_ || call_->failed || !call_->sending || call_->write_in_flight) {
    return;
  }
  std::optional<QueuedMessage> next = state_.PopQueued(peer_);
  if (!next) return;
  pb::PeerEnvelope envelope;
  *envelope.mutable_message() = std::move(next->message);
  BeginWrite(std::move(envelope), next->bytes);
}

void OutboundLink::BeginWrite(pb::PeerEnvelope envelope, size_t message_bytes) {
  Call& call = *call_;
  MERIDIAN_ASSERT(!call.write_in_flight && !call.failed);
  call.outgoing = std::move(envelope);
  call.writing_bytes = message_bytes;
  call.write_in_flight = true;
  ++call.ops_in_flight;
  call.stream->Write(call.outgoing, &write_tag_);
}

void OutboundLink::BeginRead() {
  Call& call = *call_;
  call.incoming.Clear();
  ++call.ops_in_flight;
  call.stream->Read(&call.incoming, &read_tag_);
}

void OutboundLink::Fail(const std::string& why, bool cancel) {
  Call& call = *call_;
  if (call.alarm_in_flight) call.handshake_alarm.Cancel();
  if (cancel) call.context.TryCancel();  // completes whatever is in flight (invariant 4)
  if (call.failed) return;
  call.failed = true;
  call.failure = why;
  const bool was_open = call.phase == Call::Phase::kOpen;
  // A stream that got as far as its hello and then failed (refused, or ended, or no reply in
  // time) makes the next one wait for the reply again: a peer that now refuses us is not sent
  // the backlog on every redial.
  if (call.phase == Call::Phase::kAwaitingReply) trusted_ = false;
  if (was_open) {
    down_since_ = SteadyClock::now();
    dials_since_down_ = 0;
    if (!state_.stop_seen) {
      spdlog::warn("replication {}->{}: link lost: {}", state_.self, peer_, why);
    }
  }
  state_.MarkFailed(peer_, call.sending, why);
}

void OutboundLink::MaybeFinish() {
  Call& call = *call_;
  if (!call.failed || call.ops_in_flight > 0 || call.finishing || state_.stop_seen) return;
  // Finish only to learn the peer's reason (e.g. PERMISSION_DENIED from its handshake check).
  call.finishing = true;
  ++call.ops_in_flight;
  call.stream->Finish(&call.final_status, &finish_tag_);
}

void OutboundLink::OnFinished() {
  const grpc::Status& status = call_->final_status;
  if (!status.ok() && status.error_code() != grpc::StatusCode::CANCELLED) {
    state_.SetLastError(peer_, call_->failure + " (" + status.error_message() + ")");
  }
  call_.reset();
  ScheduleRedial();
}

void OutboundLink::ScheduleRedial() {
  if (state_.stop_seen) return;
  const auto attempt = SteadyClock::now() - dial_started_;
  const int delay_ms =
      backoff_.NextDelayMs(std::chrono::duration_cast<std::chrono::milliseconds>(attempt).count());
  backoff_pending_ = true;
  backoff_alarm_.Set(state_.cq.get(), DeadlineAfterMs(delay_ms), &backoff_tag_);
}

void OutboundLink::OnBackoffDone() {
  backoff_pending_ = false;
  if (!state_.stop_seen) Dial();
}

void OutboundLink::OnStop() {
  MERIDIAN_ASSERT(state_.stop_seen);
  if (backoff_pending_) backoff_alarm_.Cancel();
  if (call_) Fail("transport stopping");
}

}  // namespace meridian::net_internal
