// RouterOptions: every tunable of `meridian router`, each with its reason, and the topology it
// routes over (where a client in each location dials each region).
//
// Invariants of a RouterTopology (checked by Router's constructor):
//  1. 1 <= region_names.size() <= kMaxRegions; dial and link_rtt_ms are square matrices of that
//     size, indexed [location][region] by RegionId.
//  2. link_rtt_ms[l][l] == 0: a client in a region reaches its own region without a WAN hop.
#pragma once

#include <memory>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>
#include "auth/key_store.h"

#include "base/ids.h"
#include "config/cluster_config.h"
#include "replica/residency.h"

namespace boost::asio::ssl {
class context;
}

namespace meridian::router {

struct RouterTopology {
  std::vector<std::string> region_names;       // by RegionId
  std::vector<std::vector<std::string>> dial;  // [location][region] -> "host:port"
  std::vector<std::vector<int64_t>>
      link_rtt_ms;  // [location][region], configured; 0 on the diagonal
  // Each region's resp listener, by RegionId; empty when the regions have none. The router's
  // RESP front end dials them directly: the WAN emulator proxies only HTTP client paths.
  std::vector<std::string> resp_dial;
  // The regions' slices (docs/slices.md): the RESP front end sends each command to its keys'
  // slice, at the region's resp port + the slice. HTTP goes to slice 0 (not routed by slot).
  uint32_t slices = 1;
  // Which regions may hold a key (src/replica/residency.h): a request for a pinned key goes only
  // to the nearest healthy region of its set, never elsewhere (docs/residency.md).
  Residency residency;
  // The config's subject patterns: `DELETE /subjects/{id}` goes only to the subject's regions
  // (Residency::SubjectRegions), as the regions outside them answer 421.
  std::vector<SubjectPattern> subject_patterns;
};

// Dials through ClientDialAddress, so a client in `location` sees its continent's RTTs.
// InvalidArgument when the residency rules do not fit (ResidencyFromConfig).
Result<RouterTopology> RouterTopologyFromConfig(const ClusterConfig& config);

struct UpstreamPoolOptions {
  // Concurrent connections to one upstream: enough for a lab's concurrent clients on one path;
  // beyond it requests queue instead of opening sockets without end.
  size_t connections_max = 64;
  // Requests waiting for a connection; a full queue refuses at once (ResourceExhausted) rather
  // than letting latency grow without bound.
  size_t waiters_max = 1024;
  // Idle keep-alive connections kept per upstream; the rest are closed when released.
  size_t idle_max = 16;
  // An idle connection is reused only if younger than this: well under the region server's
  // 30 s idle timeout, so we rarely write into a connection the server is closing.
  int64_t idle_ms_max = 10'000;
  // Largest response body accepted from a region (the same cap as HttpFetch): a profile may
  // hold many values of up to 1 MiB each.
  size_t response_body_bytes_max = 64 << 20;
  // Client TLS towards the upstream (net/tls_context.h MakeClientTlsContext: the cluster CA);
  // each connection verifies that the certificate names the host of the pool's address. Null:
  // plaintext.
  std::shared_ptr<boost::asio::ssl::context> tls;
};

struct RouterOptions {
  std::string http_address = "127.0.0.1:7000";  // where clients reach the router
  // Where Redis-protocol clients reach the router; empty: no RESP listener. REQUIRES, when set:
  // the topology's resp_dial names every region's.
  std::string resp_address;
  RegionId location = 0;  // the router's own location (no X-Client-Region)
  // I/O threads of the listening side, and as many for the upstream side. Handlers never block,
  // so one of each serves a lab's load; more only help when many cores are free.
  int threads = 1;
  // /healthz probe period for every (location, region) path.
  int64_t health_interval_ms = 500;
  // A probe without an answer for this long fails. 0 derives it (ProbeTimeoutMs): one interval,
  // so a cut path is down at most two intervals (1 s at the committed 500 ms) after its last
  // good probe, but never under twice the path's RTT plus slack, so far regions are not flapped.
  int64_t probe_timeout_ms = 0;
  // A forwarded request without an answer for this long fails and goes to the next region. It
  // must exceed a region's bounded session-token wait; a cut path is usually detected sooner by
  // its probes, which abort the requests in flight on it.
  int64_t forward_timeout_ms = 5'000;
  // A client request answered after this long is logged as one JSON line with its request id
  // (api/request_log.h); 0 logs every request, -1 none. A second is well past a quorum read
  // across the widest link (~150 ms) and a handle claim (~270 ms p99), so it marks real trouble.
  int64_t slow_request_ms = 1'000;
  // Weight of a new RTT sample in the smoothed RTT: 0.3 follows a real change within a few
  // probes while one jittered sample moves the estimate little.
  double rtt_ewma_alpha = 0.3;
  UpstreamPoolOptions pool;
  // Prometheus' HTTP address ("host:port"), which /dashboard queries through the router; empty:
  // the dashboard reads the regions' /metrics instead.
  std::string prometheus_address;
  // Client authentication on the RESP listener (HTTP passes Authorization through to the
  // regions, which check it): the cluster's keys, null when auth is off; the router's own key,
  // which its upstream RESP connections AUTH with.
  std::shared_ptr<const auth::KeyStore> keys;
  std::string upstream_key;
  // Client connections per listener (HTTP and RESP each), as a region's (Redis's maxclients):
  // past it a new connection gets 503 / "-ERR max number of clients reached" and is closed.
  size_t max_connections = 10'000;
  // The RESP listener's TLS handshake, command and idle timeouts (resp_front.h contract 10: the
  // regions' own defaults, 10 s, 10 s and 300 s); 0 disables any of them.
  int64_t resp_handshake_timeout_ms = 10'000;
  int64_t resp_command_timeout_ms = 10'000;
  int64_t resp_idle_timeout_ms = 300'000;
  // Client TLS (docs/security.md): the server context of the HTTP and RESP listeners
  // (net/tls_context.h), null: plaintext. Towards the regions: pool.tls (HTTP) and this for RESP.
  std::shared_ptr<boost::asio::ssl::context> listener_tls;
  std::shared_ptr<boost::asio::ssl::context> upstream_tls;
};

// The production options for `config`: its router address and probe interval.
RouterOptions RouterOptionsFromConfig(const ClusterConfig& config, RegionId location);

// Small and fast for in-process tests: short intervals and timeouts.
RouterOptions TestRouterOptions();

// The probe timeout for a path with configured RTT `link_rtt_ms` (see probe_timeout_ms).
int64_t ProbeTimeoutMs(const RouterOptions& options, int64_t link_rtt_ms);

// Slack added to twice a path's RTT for the probe timeout floor: a loaded machine's scheduling
// delay, which loopback paths (RTT 0) would otherwise have no room for.
inline constexpr int64_t kProbeTimeoutSlackMs = 100;

}  // namespace meridian::router
