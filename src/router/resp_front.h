// RespFront: the router's Redis-protocol listener (router.resp; docs/resp.md, "Through the
// router"). Clients speak RESP2/RESP3 to it as to a region; each command goes to the nearest
// healthy region for the client's location over a shared upstream connection to that region's
// resp listener (resp_upstream.h), and the region's reply comes back byte for byte.
//
// Contract:
//  1. Replies leave in the order the commands arrived, one per command (pipelining works).
//  2. A connection's commands also run in the order they arrived: all its commands in flight are
//     on one upstream connection, and a command bound for another region (or protocol) waits
//     until they are answered. A command retried after a region's retryable error reply may run
//     after commands pipelined behind it had run, as with Redis Cluster's TRYAGAIN.
//  3. Writes carry a router-drawn idempotency key (resp_route.h rule 1). After a transport
//     failure (reset, refused, no reply within forward_timeout_ms) the path is marked down in the
//     router's health table and every command in flight on that connection is retried on the
//     next healthy region, each region at most once per command, unless the router does not know
//     the command (it may have taken effect: the client gets -TRYAGAIN saying so).
//  4. With no healthy region left for a command, the client gets the last retryable reply a
//     region gave, else -TRYAGAIN naming what each region said, else (none was tried)
//     -CLUSTERDOWN; the connection stays open.
//  5. A framing error is answered with its RESP error and closes that connection only.
//  6. Bounded: a connection stops reading while it has max_pending_commands unanswered, or
//     max_output_bytes of replies unsent, or max_request_bytes of commands not yet answered; at
//     most max_clients connections are served at once (more get -ERR max number of clients
//     reached and are closed).
//  8. With keys set, a client authenticates (AUTH / HELLO ... AUTH) before anything but AUTH,
//     HELLO, PING and QUIT, and a command its key's grants do not cover is answered -NOPERM here
//     and never forwarded (auth/resp_gate.h).
//  7. Everything runs on one strand of the router's io_context: no locks of its own; the health
//     table is read through the hooks, under the router's mutex. Stop() is asynchronous and
//     idempotent; AbortRegion may be called from any thread.
//  9. With listener_tls every client connection is TLS (handshake first; a failed one closes
//     that connection only; past max_clients a TLS client is closed unanswered); with
//     upstream_tls every upstream connection is TLS and verifies the region's certificate
//     against the cluster CA and the host it dials (resp_upstream.h contract 6).
// 10. Slow and idle clients do not hold a slot of max_clients forever: a TLS handshake not
//     finished within handshake_timeout_ms, a command whose first byte arrived but which is
//     still incomplete command_timeout_ms later (slowloris: a command trickled a byte at a time
//     is closed however steadily the bytes come), and a connection with nothing read or
//     written for idle_timeout_ms while none of its commands is unanswered (one waiting on a
//     region is not idle), are closed without a reply and counted in
//     meridian_router_resp_connections_timed_out_total{reason="handshake"|"command"|"idle"}. A
//     sweep checks them at most every kRespSweepIntervalMsMax, so a close comes up to that late.
//     Failed handshakes (timed out or not) are counted in
//     meridian_router_resp_tls_handshakes_failed_total, and by reason
//     (net/tls_handshake_failure.h) in
//     meridian_router_client_tls_handshake_failures_total{listener="resp"}.
// 11. Residency: a command naming a key pinned by a residency rule goes only to the regions of
//     the key's set (resp_route.h rule 6), nearest healthy first, and fails over within the set
//     only; with none of them left the client gets -CLUSTERDOWN (none was healthy) or -TRYAGAIN
//     (each one tried failed) naming the allowed regions, never a region outside the set. A
//     command whose keys share no allowed region is answered -ERR and sent nowhere.
// 12. Sessions (resp_route.h rules 7, 8): each client connection has its own session token and
//     last write, kept here, never on the shared upstream connections. Its writes, and its data
//     reads once the token is not zero, carry the token in MERIDIAN.SESSIONED (the same bytes
//     on every attempt of contract 3), and the client gets exactly the reply it would get
//     without the wrapper. A read that fails over to a region that has not applied the token
//     waits there and, if it never arrives, gets that region's -TRYAGAIN: never an older value.
//     WAIT runs after the client's earlier commands are answered, on the region that made its
//     last write only.
#pragma once

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "auth/key_store.h"
#include "base/ids.h"
#include "base/status.h"
#include "replica/residency.h"
#include "router/router_metrics.h"

namespace boost::asio::ssl {
class context;
}

namespace meridian::router {

// The timeout sweep's longest period (contract 10): it runs every min(timeouts) / 2, at most
// this, so a timeout fires at most this much late, and an idle front end wakes once a second.
inline constexpr int64_t kRespSweepIntervalMsMax = 1'000;

struct RespFrontOptions {
  std::string address;                    // where clients connect ("127.0.0.1:6400")
  std::vector<std::string> region_names;  // by RegionId
  std::vector<std::string> resp_dial;     // each region's resp listener, by RegionId
  // The regions' slices (docs/slices.md): slice i of a region listens on its resp port + i, and
  // commands go to their keys' slice (resp_route.h rule 9).
  uint32_t slices = 1;
  RegionId default_location = 0;  // a client's location until MERIDIAN.REGION
  // An attempt without a reply for this long fails and goes to the next region (the router's
  // forward_timeout_ms: above a region's bounded waits).
  int64_t forward_timeout_ms = 5'000;
  // Upstream connections per region and protocol; a client's commands for a region all use
  // the same one (contract 2). Four spread the head-of-line blocking of a slow command (a
  // handle claim waiting for a quorum) without many sockets.
  size_t connections_per_region = 4;
  // As the region's RESP server (resp_server.cc): a client that pipelines without reading
  // cannot grow the router's memory.
  size_t max_pending_commands = 1024;
  size_t max_output_bytes = size_t{4} << 20;
  // Bytes of commands kept for retry until answered: a few of the largest commands (a 1 MiB
  // value) or thousands of small ones.
  size_t max_request_bytes = size_t{16} << 20;
  // Redis's maxclients default.
  size_t max_clients = 10'000;
  // Contract 10. As a region's RESP listener: its handshake limit is its request timeout
  // (`region --request-timeout-ms`, 10 s), plenty for a handshake across the widest WAN link;
  // its idle limit is `--resp-idle-timeout-ms` (300 s, where Redis never closes), long enough
  // for a pooled client between bursts, short enough that abandoned connections go.
  // Its command limit is the region's too (`region --request-timeout-ms`, 10 s): a region
  // would drop a command that took longer to arrive anyway, and 10 s carries the largest
  // value (1 MiB) over a link of 1 Mbit/s. Between commands only the idle limit applies.
  // 0 disables any of them.
  int64_t handshake_timeout_ms = 10'000;
  int64_t command_timeout_ms = 10'000;
  int64_t idle_timeout_ms = 300'000;
  // Client authentication (auth/resp_gate.h): the cluster's API keys, owned by the router and
  // outliving the front end; nullptr: off. The router enforces a client's grants itself, since
  // its upstream connections are shared and authenticated as the router.
  const auth::KeyStore* keys = nullptr;
  // The router's own key, sent as AUTH on every upstream connection; empty: none.
  std::string upstream_key;
  // The regions' handle keyspace (RespOptions::strong_prefix), for the grant check.
  std::string strong_prefix = "handle:";
  // Client TLS (net/tls_context.h; null: plaintext): what the listener serves, and what the
  // upstream connections verify the regions with (contract 9).
  std::shared_ptr<boost::asio::ssl::context> listener_tls;
  std::shared_ptr<boost::asio::ssl::context> upstream_tls;
  // Which regions may hold a key (contract 11; router_options.h); empty: every region.
  Residency residency;
};

// What the front end needs from the router: routing decisions and idempotency keys.
struct RespFrontHooks {
  // The nearest healthy region for a client in `location` not in `tried`, or nullopt.
  std::function<std::optional<RegionId>(RegionId location, const std::vector<RegionId>& tried)>
      choose;
  // A forward from `location` to `region` failed in transport (`what`): mark the path down.
  std::function<void(RegionId location, RegionId region, const std::string& what)> forward_failed;
  // A fresh idempotency key.
  std::function<std::string()> new_key;
};

class RespFront {
 public:
  // REQUIRES: region_names and resp_dial have the same size >= 1; default_location is valid.
  RespFront(boost::asio::io_context& ioc, RespFrontOptions options, RespFrontHooks hooks,
            RouterMetrics& metrics);
  ~RespFront();
  RespFront(const RespFront&) = delete;
  RespFront& operator=(const RespFront&) = delete;

  // Resolves every region's resp address, binds and listens. InvalidArgument / Unavailable with
  // the reason. REQUIRES: called once, before the io_context serves the front end.
  Status Start();
  // Closes the listener, every client connection and every upstream connection (contract 7).
  void Stop();
  // Fails every command in flight to `region`, to be retried elsewhere: the router marked a path
  // to it down.
  void AbortRegion(RegionId region, const std::string& reason);
  // "host:port" listened on (the real port when asked for port 0). REQUIRES: Start() succeeded.
  std::string address() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace meridian::router
