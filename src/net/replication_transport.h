// ReplicationTransport: carries the replica core's pb::PeerMessages between regions over gRPC
// (proto/meridian/transport.proto). It is the I/O edge under Replica::OnMessage and
// Replica::OnPeerConnected; the core tolerates loss, duplication and reordering, so this layer
// drops rather than blocks, and reports every (re)connection so the core can resend.
//
// Shape: two streams per pair of regions, one per direction. Each region dials every peer in
// `peers` and SENDS on that outbound stream; it RECEIVES on the streams its peers dialed into
// its own server. Every stream opens with a handshake (transport.proto): the dialer names its
// cluster, its region and the region it means to reach; the acceptor checks all three and
// answers with its own cluster and region, which the dialer checks in turn.
//
// Contract:
//  1. A message is delivered only to the region it was sent to, and reported with `from` = the
//     region that completed the handshake of the stream it came on; a message whose own `from`
//     field names another region is dropped and counted (never delivered under a wrong name).
//  2. Messages from one sender arrive in the order they were sent (one stream per direction,
//     written one at a time). Any message may be lost: when the peer is not connected, when its
//     queue is at its bound, or when the stream fails with messages queued or in flight.
//  3. on_connected(peer) fires each time the outbound stream to `peer` opens for sending, after
//     Connected(peer) has become true, so a resend it triggers is accepted. A stream opens when
//     its handshake completes, or, on a link whose last handshake succeeded (it is most likely
//     the same peer coming back after a cut), as soon as its hello is sent: that saves a round
//     trip on every reconnection (issue 19, item 10), and is safe because the acceptor checks
//     the hello before it reads anything after it, so nothing is delivered to a region that
//     refuses it (contract 1). If the reply then refuses us or does not come, the stream fails,
//     what was sent on it is lost like anything else in flight, and the next stream of that link
//     waits for the reply again.
//  4. A dead link (peer gone, or a proxy that holds bytes) is noticed by HTTP/2 keepalive within
//     about keepalive_interval_ms + keepalive_timeout_ms, a stalled handshake within
//     handshake_timeout_ms; the stream is then re-dialled with capped exponential backoff,
//     forever, until Stop(). A link that has been up redials at most
//     reconnect_backoff_ms_max_after_connected after an attempt fails, so when a cut heals (the
//     WAN emulator resets the connections it held) the link is back within that plus a
//     handshake (two round trips).
//  5. Send() never blocks on the network; every queue has a bound (options below).
//  6. Stop() is bounded whatever the peers do: it cancels every stream at once and joins the
//     thread. A stream whose bytes a stalled link holds finishes its cancellation only when
//     keepalive finds the link dead (contract 4), so then Stop() takes up to about
//     keepalive_interval_ms + keepalive_timeout_ms. Nothing is delivered after Stop() returns.
//  7. With options.tls every link is mutual TLS (gRPC's SSL credentials over OpenSSL): the
//     server requires a client certificate that chains to tls.ca_pem, and a dialer requires the
//     server's certificate to chain to it and to carry the DNS name of the region it dialled
//     (tls/peer_identity.h; set as the target name override, because the address dialled may be
//     the WAN proxy's). On top of that, an inbound stream is accepted only when its client
//     certificate names a region (meridian://region/NAME) and its hello claims that same region;
//     otherwise it is refused, logged and counted in TransportStats::peer_auth_refused by
//     reason. (Contract 1 then ties every message to that region.) The client certificate's
//     chain is checked inside the TLS handshake by our verifier (cluster_chain_verifier.h, in
//     place of gRPC's check, which offers no hook to count): a connection whose chain does not
//     lead to tls.ca_pem fails the handshake, never reaches this code, and is counted in
//     TransportStats::peer_auth_refused["untrusted_certificate"].
//
// Threading: one thread of our own, the completion-queue (CQ) thread, runs every gRPC
// operation (asynchronous API, one completion queue for the server and all dials) and both
// callbacks; gRPC adds a few mostly idle threads of its own (timers, resolver). There is no
// thread-count option on purpose: the CQ thread only moves already-serialized messages between
// gRPC and the callbacks, and the machine's 2 cores are shared by 3 regions. Nothing busy-waits:
// the thread sleeps in the completion queue, timeouts and backoff are gRPC alarms on it, and
// Send() wakes it with an alarm due at once. Send/Connected/Stats may be called from any
// thread, including from inside the callbacks. Callbacks must return quickly (they hold up all
// replication traffic of this region) and must not call Stop(); an exception they throw is
// caught, logged and counted, and costs only that message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/ids.h"
#include "base/status.h"
#include "meridian/replica.pb.h"

namespace meridian {

// Mutual TLS for every link (contract 7), in PEM (tls/cert_files.h reads them from files).
struct ReplicationTls {
  std::string ca_pem;    // the cluster CA: the only issuer trusted, both ways
  std::string cert_pem;  // this region's certificate, presented as server and as client
  std::string key_pem;
  // The name each region's certificate must carry, by RegionId (the cluster config's order).
  std::vector<std::string> region_names;
};

struct ReplicationTransportOptions {
  // Messages waiting for one peer's stream. The core emits per 10 ms tick about one op batch, an
  // ack and now and then an anti-entropy or snapshot message per peer, and a live stream drains
  // them within the tick; 1024 is seconds of that traffic backed up, so reaching it means the
  // link is stalled, and dropping is right: the core resends from the peer's acknowledged point.
  size_t max_queued_messages_per_peer = 1024;
  // Bytes waiting for one peer: bounds memory when large messages (snapshot chunks, repairs)
  // back up, which the message count alone does not. Two of the largest messages fit.
  size_t max_queued_bytes_per_peer = size_t{64} << 20;
  // Largest message either way (gRPC's default of 4 MiB is smaller than a snapshot chunk of
  // large values). A larger message is dropped and counted at Send(): gRPC would fail the whole
  // stream on it, and then fail again on every resend.
  size_t max_message_bytes = size_t{32} << 20;
  // HTTP/2 keepalive: a ping every interval, the link declared dead when one is not answered
  // within the timeout. The demo's worst WAN round trip is a few hundred ms, so 1 s + 1 s finds
  // a cut link within ~2 s without mistaking a slow link for a dead one. gRPC spaces pings at
  // least 1 s apart whatever this says.
  int keepalive_interval_ms = 1000;
  int keepalive_timeout_ms = 1000;
  // A dial that has not completed its handshake by then is abandoned and retried; several WAN
  // round trips (TCP, HTTP/2 settings, hello and reply) fit in it. gRPC also gives each TCP
  // connection attempt this long.
  int handshake_timeout_ms = 3000;
  // Pause before re-dialling a peer (net/reconnect_backoff.h): doubles from min after each
  // failure, +-20 % jitter, back to min after a handshake succeeds, and counted from when the
  // failed attempt began (an attempt that waited out the handshake timeout is redialled at once).
  // Capped at max_after_connected once the link has been up in this process (issue 19, item 10:
  // a cut link must resume within a few hundred ms of the heal; a pause of 100 ms costs at most
  // ten quick dials a second to a peer that refuses, a few microseconds of CPU each; measured:
  // gRPC's attempts through a cut restart every 2 s (keepalive), and a heal that comes right
  // after one waited out the whole cap), at max for a link that never came up
  // (more likely misconfigured or down for good). gRPC's own TCP redial backoff gets min and
  // max_after_connected (replication_grpc_args.cc). 20 ms: a stream that broke is redialled
  // almost at once, and a fast-failing one still backs off.
  int reconnect_backoff_ms_min = 20;
  int reconnect_backoff_ms_max = 2000;
  int reconnect_backoff_ms_max_after_connected = 100;

  // Absent: plaintext links (tests in one process; a deployment must ask for it explicitly:
  // `meridian region --plaintext`).
  std::optional<ReplicationTls> tls;

  // Short timeouts for tests on loopback, where a round trip is microseconds.
  static ReplicationTransportOptions ForTests();
};

struct PeerTransportStats {
  RegionId peer = 0;
  bool connected = false;  // our outbound stream to the peer is open (contract 3)
  bool verified = false;   // ...and the peer answered its hello: it is alive and who we dialled
                           // (an early-opened stream is connected before it is verified)
  bool inbound_connected = false;  // the peer's stream into us has completed its handshake
  uint64_t messages_sent = 0;      // written to the outbound stream
  uint64_t bytes_sent = 0;         // serialized PeerMessage bytes, framing excluded
  uint64_t messages_received = 0;  // delivered to on_message
  uint64_t bytes_received = 0;
  uint64_t drops_disconnected = 0;  // Send() while not connected, or queued when the stream failed
  uint64_t drops_queue_full = 0;    // Send() while the queue was at one of its bounds
  uint64_t drops_oversized = 0;     // Send() of a message over max_message_bytes
  uint64_t connects = 0;            // outbound streams opened for sending (= on_connected calls;
                                    // reconnects are connects - 1)
  uint64_t early_connects = 0;      // of those, opened on the hello, before the reply (contract 3)
  uint64_t disconnects = 0;         // connected outbound streams that then failed
  uint64_t dial_failures = 0;       // dials that failed or timed out before the handshake
  size_t queued_messages = 0;
  size_t queued_bytes = 0;
  std::string last_error;  // why the last outbound stream ended ("" if none has)
};

struct TransportStats {
  std::vector<PeerTransportStats> peers;  // ascending region id
  uint64_t handshakes_refused = 0;   // inbound streams refused: wrong cluster, region or version
  uint64_t messages_misrouted = 0;   // inbound messages whose `from` is not the stream's peer
  uint64_t drops_unknown_peer = 0;   // Send() to a region that is not in `peers`
  uint64_t callback_exceptions = 0;  // exceptions thrown by callbacks (caught, logged, counted)
  std::string last_refusal;          // why the last inbound handshake was refused
  // Inbound streams refused by their certificate (contract 7), by reason: no_certificate,
  // no_identity, not_a_region, unknown_region, region_mismatch, untrusted_certificate (refused
  // in the TLS handshake). Also in handshakes_refused.
  std::map<std::string, uint64_t> peer_auth_refused;
};

class ReplicationTransport {
 public:
  using MessageHandler = std::function<void(RegionId from, pb::PeerMessage message)>;
  using ConnectedHandler = std::function<void(RegionId peer)>;

  // `listen_address` is "host:port"; port 0 picks a free port (see port()). `peers` maps each
  // peer to the address to dial for it (in the demo, the WAN proxy's). Nothing happens until
  // Start(). REQUIRES: `peers` does not contain `self`; both handlers are set.
  ReplicationTransport(RegionId self, std::string cluster, std::string listen_address,
                       std::map<RegionId, std::string> peers, MessageHandler on_message,
                       ConnectedHandler on_connected, ReplicationTransportOptions options = {});
  ~ReplicationTransport();  // Stop()s
  ReplicationTransport(const ReplicationTransport&) = delete;
  ReplicationTransport& operator=(const ReplicationTransport&) = delete;

  // Listens, starts dialling every peer and starts the thread. Unavailable when the address
  // cannot be bound; InvalidArgument for bad options. REQUIRES: not started before.
  Status Start();
  // Idempotent; see contract 6. REQUIRES: not called from a callback.
  void Stop();

  // The bound port (the real one when listening on port 0). REQUIRES: Start() succeeded.
  uint16_t port() const;

  // Queues `message` for `to` and returns at once; drops it (counted) when `to` is not
  // connected, its queue is full or the message is too large (contract 2).
  void Send(RegionId to, pb::PeerMessage message);

  // True while the outbound stream to `peer` is open (contract 3) and not known to have failed.
  bool Connected(RegionId peer) const;
  // Connected and the peer has answered this stream's hello. A trusted redial opens for sending
  // before the reply (contract 3), so Connected() alone says nothing about whether the peer is
  // alive: a dead peer's redial looks connected until its handshake times out. Whoever counts
  // reachable regions (quorums, write levels) must count only verified links.
  bool Verified(RegionId peer) const;

  TransportStats Stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace meridian
