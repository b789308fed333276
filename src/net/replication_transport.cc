#include "net/replication_transport.h"

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include <set>
#include <thread>

#include "net/cluster_chain_verifier.h"
#include "net/replication_grpc_args.h"
#include "net/replication_inbound.h"
#include "net/replication_outbound.h"
#include "net/replication_state.h"
#include "tls/peer_identity.h"

namespace meridian {

using net_internal::ChainRefusals;
using net_internal::ClusterChainVerifier;
using net_internal::DeadlineAfterMs;
using net_internal::InboundAcceptor;
using net_internal::OpTag;
using net_internal::OutboundLink;
using net_internal::PeerShared;
using net_internal::QueuedMessage;
using net_internal::TransportState;

namespace {

std::map<RegionId, PeerShared> NewPeerTable(const std::map<RegionId, std::string>& peers) {
  std::map<RegionId, PeerShared> table;
  for (const auto& [peer, address] : peers) {
    table[peer].stats.peer = peer;
  }
  return table;
}

// Contract 7: a client certificate is required and must chain to the cluster CA. gRPC is told
// to require one but not to verify it, and ClusterChainVerifier verifies it in the handshake,
// counting what it refuses in `refusals`.
std::shared_ptr<grpc::ServerCredentials> ServerCredentials(
    const ReplicationTransportOptions& o, const std::shared_ptr<ChainRefusals>& refusals) {
  if (!o.tls) return grpc::InsecureServerCredentials();
  auto provider = std::make_shared<grpc::experimental::StaticDataCertificateProvider>(
      o.tls->ca_pem,
      std::vector<grpc::experimental::IdentityKeyCertPair>{{o.tls->key_pem, o.tls->cert_pem}});
  grpc::experimental::TlsServerCredentialsOptions tls(provider);
  tls.watch_identity_key_cert_pairs();
  tls.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_BUT_DONT_VERIFY);
  tls.set_certificate_verifier(
      grpc::experimental::ExternalCertificateVerifier::Create<ClusterChainVerifier>(o.tls->ca_pem,
                                                                                    refusals));
  return grpc::experimental::TlsServerCredentials(tls);
}

Status ValidateOptions(const ReplicationTransportOptions& o) {
  if (o.max_queued_messages_per_peer == 0 || o.max_message_bytes == 0 ||
      o.max_queued_bytes_per_peer < o.max_message_bytes) {
    return InvalidArgument("replication transport: queue bounds must hold one largest message");
  }
  if (o.keepalive_interval_ms <= 0 || o.keepalive_timeout_ms <= 0 || o.handshake_timeout_ms <= 0) {
    return InvalidArgument("replication transport: keepalive and handshake times must be > 0");
  }
  if (o.reconnect_backoff_ms_min <= 0 ||
      o.reconnect_backoff_ms_max_after_connected < o.reconnect_backoff_ms_min ||
      o.reconnect_backoff_ms_max < o.reconnect_backoff_ms_max_after_connected) {
    return InvalidArgument(
        "replication transport: need 0 < backoff min <= max after connected <= backoff max");
  }
  if (o.tls && (o.tls->ca_pem.empty() || o.tls->cert_pem.empty() || o.tls->key_pem.empty())) {
    return InvalidArgument("replication transport: TLS needs a CA, a certificate and a key");
  }
  return Status::Ok();
}

// With TLS every region, this one and each peer, needs a valid certificate name (contract 7).
Status ValidateTlsNames(const ReplicationTransportOptions& o, RegionId self,
                        const std::map<RegionId, std::string>& peers) {
  if (!o.tls) return Status::Ok();
  std::vector<RegionId> regions = {self};
  for (const auto& [peer, address] : peers) {
    regions.push_back(peer);
  }
  for (RegionId region : regions) {
    if (region >= o.tls->region_names.size() ||
        !CheckIdentityName(o.tls->region_names[region]).ok()) {
      return InvalidArgument("replication transport: TLS needs a name for region " +
                             std::to_string(region));
    }
  }
  return Status::Ok();
}

}  // namespace

ReplicationTransportOptions ReplicationTransportOptions::ForTests() {
  ReplicationTransportOptions options;
  options.keepalive_interval_ms = 500;  // gRPC still spaces pings >= 1 s apart
  options.keepalive_timeout_ms = 500;
  options.handshake_timeout_ms = 1000;
  options.reconnect_backoff_ms_min = 20;
  options.reconnect_backoff_ms_max = 200;
  options.reconnect_backoff_ms_max_after_connected = 100;
  return options;
}

struct ReplicationTransport::Impl {
  Impl(RegionId self, std::string cluster, std::string address,
       std::map<RegionId, std::string> peers, MessageHandler on_message,
       ConnectedHandler on_connected, ReplicationTransportOptions options)
      : state(self, std::move(cluster), NewPeerTable(peers), std::move(on_message),
              std::move(on_connected), options),
        listen_address(std::move(address)),
        peer_addresses(std::move(peers)) {
    state.wake_tag = &wake_tag;
  }

  Status Listen();
  void StartStreams();
  void RunCompletionQueue();
  void OnWake();
  void Teardown();

  TransportState state;
  // Client chains refused in the TLS handshake (contract 7); shared with the verifier.
  std::shared_ptr<ChainRefusals> chain_refusals = std::make_shared<ChainRefusals>();
  OpTag wake_tag{[this](bool) { OnWake(); }};
  const std::string listen_address;
  const std::map<RegionId, std::string> peer_addresses;

  // Owned by the thread calling Start/Stop; used by the CQ thread between the two.
  std::unique_ptr<grpc::Server> server;
  std::unique_ptr<InboundAcceptor> acceptor;
  std::map<RegionId, std::unique_ptr<OutboundLink>> links;
  std::thread cq_thread;
  int bound_port = 0;
  bool started = false;
  bool stopped = false;
};

Status ReplicationTransport::Impl::Listen() {
  grpc::ServerBuilder builder;
  builder.AddListeningPort(listen_address, ServerCredentials(state.options, chain_refusals),
                           &bound_port);
  builder.RegisterService(&state.service);
  net_internal::ApplyServerArguments(state.options, &builder);
  state.cq = builder.AddCompletionQueue();
  server = builder.BuildAndStart();
  if (server && bound_port != 0) {
    MutexLock lock(&state.mu);
    state.cq_open = true;
    return Status::Ok();
  }
  server.reset();
  state.cq.reset();  // nothing was started on it; destroying it shuts it down
  return Unavailable("replication transport: cannot listen on " + listen_address);
}

void ReplicationTransport::Impl::StartStreams() {
  std::set<RegionId> known;
  for (const auto& [peer, address] : peer_addresses) {
    known.insert(peer);
  }
  acceptor = std::make_unique<InboundAcceptor>(state, std::move(known));
  acceptor->Listen();
  for (const auto& [peer, address] : peer_addresses) {
    auto link = std::make_unique<OutboundLink>(state, peer, address);
    link->Dial();
    links.emplace(peer, std::move(link));
  }
}

void ReplicationTransport::Impl::RunCompletionQueue() {
  void* tag = nullptr;
  bool ok = false;
  while (state.cq->Next(&tag, &ok)) {
    try {
      static_cast<OpTag*>(tag)->Run(ok);
    } catch (const std::exception& e) {
      // Only allocation can throw here (callbacks are guarded): a state machine interrupted
      // half-way cannot be trusted, so stop loudly.
      MERIDIAN_ASSERT_MSG(false, e.what());
    }
  }
}

void ReplicationTransport::Impl::OnWake() {
  bool stopping = false;
  {
    MutexLock lock(&state.mu);
    state.wake_pending = false;
    stopping = state.stopping;
  }
  if (!stopping) {
    for (auto& [peer, link] : links) {
      link->Pump();
    }
    return;
  }
  if (state.stop_seen) return;
  state.stop_seen = true;  // from here on this thread starts nothing (state invariant 2)
  for (auto& [peer, link] : links) {
    link->OnStop();
  }
  acceptor->OnStop();
  {
    MutexLock lock(&state.mu);
    state.stop_acknowledged = true;
  }
  state.stop_seen_changed.SignalAll();
}

void ReplicationTransport::Impl::Teardown() {
  // Deadline now: inbound streams never end by themselves, so waiting for them only delays.
  server->Shutdown(DeadlineAfterMs(0));
  {
    MutexLock lock(&state.mu);
    state.cq_open = false;
  }
  state.cq->Shutdown();  // everything in flight was cancelled: the queue drains promptly
  if (cq_thread.joinable()) {
    cq_thread.join();
  } else {
    RunCompletionQueue();  // the thread never started: drain here
  }
  links.clear();
  acceptor.reset();
  server.reset();
  state.cq.reset();
}

ReplicationTransport::ReplicationTransport(RegionId self, std::string cluster,
                                           std::string listen_address,
                                           std::map<RegionId, std::string> peers,
                                           MessageHandler on_message, ConnectedHandler on_connected,
                                           ReplicationTransportOptions options) {
  MERIDIAN_ASSERT(peers.count(self) == 0);
  MERIDIAN_ASSERT(on_message && on_connected);
  impl_ =
      std::make_unique<Impl>(self, std::move(cluster), std::move(listen_address), std::move(peers),
                             std::move(on_message), std::move(on_connected), options);
}

ReplicationTransport::~ReplicationTransport() {
  Stop();
}

Status ReplicationTransport::Start() {
  Impl& impl = *impl_;
  MERIDIAN_ASSERT(!impl.started);
  impl.started = true;
  MERIDIAN_RETURN_IF_ERROR(ValidateOptions(impl.state.options));
  MERIDIAN_RETURN_IF_ERROR(
      ValidateTlsNames(impl.state.options, impl.state.self, impl.peer_addresses));
  MERIDIAN_RETURN_IF_ERROR(impl.Listen());
  impl.StartStreams();
  try {
    impl.cq_thread = std::thread([&impl] { impl.RunCompletionQueue(); });
  } catch (const std::system_error& e) {
    impl.state.stop_seen = true;  // no CQ thread: this thread cancels and drains instead
    for (auto& [peer, link] : impl.links) {
      link->OnStop();
    }
    impl.acceptor->OnStop();
    impl.Teardown();
    impl.stopped = true;
    return Internal(std::string("replication transport: cannot start thread: ") + e.what());
  }
  return Status::Ok();
}

void ReplicationTransport::Stop() {
  Impl& impl = *impl_;
  if (impl.stopped || !impl.server) return;  // never started, start failed, or stopped
  MERIDIAN_ASSERT_MSG(std::this_thread::get_id() != impl.cq_thread.get_id(),
                      "Stop() called from a transport callback");
  impl.stopped = true;
  TransportState& state = impl.state;
  {
    // The CQ thread acknowledges once it has cancelled everything and will start nothing more;
    // only then may the queue be shut down (state invariant 1). Callbacks are short, so this
    // wait is too.
    MutexLock lock(&state.mu);
    state.stopping = true;
    state.WakeLocked();
    while (!state.stop_acknowledged) {
      state.stop_seen_changed.Wait(&state.mu);
    }
  }
  impl.Teardown();
}

uint16_t ReplicationTransport::port() const {
  MERIDIAN_ASSERT(impl_->bound_port > 0);
  return static_cast<uint16_t>(impl_->bound_port);
}

void ReplicationTransport::Send(RegionId to, pb::PeerMessage message) {
  const size_t bytes = message.ByteSizeLong();  // outside the lock: it walks the whole message
  impl_->state.Enqueue(to, QueuedMessage{std::move(message), bytes});
}

bool ReplicationTransport::Connected(RegionId peer) const {
  MutexLock lock(&impl_->state.mu);
  auto it = impl_->state.peers.find(peer);
  return it != impl_->state.peers.end() && it->second.stats.connected;
}

bool ReplicationTransport::Verified(RegionId peer) const {
  MutexLock lock(&impl_->state.mu);
  auto it = impl_->state.peers.find(peer);
  return it != impl_->state.peers.end() && it->second.stats.verified;
}

TransportStats ReplicationTransport::Stats() const {
  const TransportState& state = impl_->state;
  MutexLock lock(&state.mu);
  TransportStats stats = state.totals;
  for (const auto& [peer, shared] : state.peers) {
    stats.peers.push_back(shared.stats);
  }
  MutexLock refused_lock(&impl_->chain_refusals->mu);
  if (impl_->chain_refusals->count > 0) {
    stats.peer_auth_refused["untrusted_certificate"] = impl_->chain_refusals->count;
    stats.handshakes_refused += impl_->chain_refusals->count;
    if (stats.last_refusal.empty()) stats.last_refusal = impl_->chain_refusals->last_reason;
  }
  return stats;
}

}  // namespace meridian
