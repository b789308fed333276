// RouterMetrics: the router's Prometheus families (GET /router/metrics). Thread-safe, like the
// registry underneath.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/ids.h"

#include "net/tls_handshake_failure.h"
#include "obs/metrics.h"

namespace meridian::router {

struct RouterMetrics {
  RouterMetrics();

  MetricsRegistry registry;
  // Forwardable requests by the region that served them ("none": the router refused it or
  // found no region; its own /router/ endpoints are not counted) and
  // the status code delivered.
  CounterFamily& requests;
  // RESP commands answered, by the region whose reply was relayed ("router": answered by the
  // router itself; "none": no region served it).
  CounterFamily& resp_commands;
  // Attempts (HTTP requests and RESP commands) sent to another region after the first choice
  // failed or could not serve.
  Counter& reroutes;
  // Answers delivered from a catching-up region because no caught-up one answered (marked
  // X-Meridian-Stale).
  Counter& stale_answers;
  // 1 while the path from the router's own location to the region is healthy.
  GaugeFamily& region_healthy;
  // The same per (location, region) path: clients in other locations route over their own.
  GaugeFamily& path_healthy;
  // From a path's last good probe to marking it down after a failure.
  Histogram& failure_detection;
  // Round trip of each answered forward, by region.
  HistogramFamily& upstream_latency;
  // RESP client connections closed by a timeout (resp_front.h contract 10), by reason:
  // "handshake" (TLS not finished in time) or "idle".
  CounterFamily& resp_connections_timed_out;
  // TLS handshakes of RESP clients that failed or timed out (every reason below, "resp").
  Counter& resp_tls_handshakes_failed;
  // Failed TLS handshakes on the router's client listeners by listener ("http" | "resp") and
  // reason (net/tls_handshake_failure.h: "timeout", "not_tls", "version", "cert_rejected",
  // "closed", "other"), the regions' meridian_client_tls_handshake_failures_total for the router.
  // "resp" is counted as it happens; "http" is the router's HTTP server's count, brought up to
  // date by ExportHttpTlsFailures when the metrics are read.
  CounterFamily& client_tls_handshake_failures;

  void CountRespTlsFailure(TlsHandshakeFailure reason);
  void ExportHttpTlsFailures(const TlsHandshakeFailures& failures) const;
};

// The HTTP forward path's children of `requests` and `upstream_latency`, found without building
// a label vector or taking a family's lock per request. Any thread: the latency children are
// fixed at construction; a (region, status) counter is resolved on its first use into an atomic
// slot (two threads racing store the same child: the family returns one child per labels), so
// no series appears before its first request. Codes outside 100-599 take the family's lookup.
class ForwardMetrics {
 public:
  // `metrics` outlives this.
  ForwardMetrics(RouterMetrics& metrics, const std::vector<std::string>& region_names);

  Histogram& Latency(RegionId region) const { return *latency_[region]; }
  // `region` nullopt: the router answered itself ("none").
  Counter& Answered(std::optional<RegionId> region, int status);

 private:
  static constexpr int kFirstCode = 100;
  static constexpr int kCodes = 500;

  CounterFamily& requests_;
  std::vector<std::string> names_;  // by RegionId, then "none"
  std::vector<Histogram*> latency_;
  std::unique_ptr<std::atomic<Counter*>[]> answered_;  // [name][code - kFirstCode]
};

}  // namespace meridian::router
