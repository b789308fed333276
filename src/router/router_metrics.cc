#include "router/router_metrics.h"

namespace meridian::router {

namespace {

// Detection times from a few tens of ms (a refused connection) to several seconds (a forward
// timeout), doubling: 50 ms .. 6.4 s.
std::vector<double> DetectionBucketsSeconds() {
  return ExponentialBuckets(0.05, 2, 8);
}

}  // namespace

RouterMetrics::RouterMetrics()
    : requests(registry.AddCounter("meridian_router_requests_total",
                                   "Client requests, by serving region and delivered status code",
                                   {"region", "code"})),
      resp_commands(registry.AddCounter("meridian_router_resp_commands_total",
                                        "RESP commands answered, by the region that served them",
                                        {"region"})),
      reroutes(registry
                   .AddCounter("meridian_router_reroutes_total",
                               "Attempts sent to a further region after a failure")
                   .Get()),
      stale_answers(registry
                        .AddCounter("meridian_router_stale_answers_total",
                                    "Answers from a catching-up region, no caught-up region "
                                    "having answered")
                        .Get()),
      region_healthy(registry.AddGauge("meridian_router_region_healthy",
                                       "1 if the region is healthy from the router's location",
                                       {"region"})),
      path_healthy(registry.AddGauge("meridian_router_path_healthy",
                                     "1 if the region is healthy from the client location",
                                     {"location", "region"})),
      failure_detection(registry
                            .AddHistogram("meridian_router_failure_detection_seconds",
                                          "Time from a path's last good probe to marking it down",
                                          {}, DetectionBucketsSeconds())
                            .Get()),
      upstream_latency(registry.AddHistogram("meridian_router_upstream_latency_seconds",
                                             "Round trip of forwarded requests, by region",
                                             {"region"}, LatencyBucketsSeconds())),
      resp_connections_timed_out(
          registry.AddCounter("meridian_router_resp_connections_timed_out_total",
                              "RESP client connections closed by a timeout, by reason "
                              "(handshake, command, idle)",
                              {"reason"})),
      resp_tls_handshakes_failed(registry
                                     .AddCounter("meridian_router_resp_tls_handshakes_failed_total",
                                                 "TLS handshakes of RESP clients that failed or "
                                                 "timed out")
                                     .Get()),
      client_tls_handshake_failures(registry.AddCounter(
          "meridian_router_client_tls_handshake_failures_total",
          "TLS handshakes on the router's client listeners that failed or timed out, by "
          "listener and reason",
          {"listener", "reason"})) {}

void RouterMetrics::CountRespTlsFailure(TlsHandshakeFailure reason) {
  resp_tls_handshakes_failed.Increment();
  client_tls_handshake_failures.WithLabels({"resp", std::string(TlsHandshakeFailureName(reason))})
      .Increment();
}

void RouterMetrics::ExportHttpTlsFailures(const TlsHandshakeFailures& failures) const {
  for (size_t i = 0; i < kTlsHandshakeFailureCount; ++i) {
    const auto reason = static_cast<TlsHandshakeFailure>(i);
    Counter& counter = client_tls_handshake_failures.WithLabels(
        {"http", std::string(TlsHandshakeFailureName(reason))});
    // The server's count only grows; the counter follows it.
    const double total = static_cast<double>(failures.Get(reason));
    if (total > counter.Value()) counter.Increment(total - counter.Value());
  }
}

ForwardMetrics::ForwardMetrics(RouterMetrics& metrics, const std::vector<std::string>& region_names)
    : requests_(metrics.requests),
      names_(region_names),
      answered_(std::make_unique<std::atomic<Counter*>[]>((region_names.size() + 1) * kCodes)) {
  names_.push_back("none");
  for (const std::string& name : region_names)
    latency_.push_back(&metrics.upstream_latency.WithLabels({name}));
}

Counter& ForwardMetrics::Answered(std::optional<RegionId> region, int status) {
  const size_t name = region ? *region : names_.size() - 1;
  auto lookup = [&] { return &requests_.WithLabels({names_[name], std::to_string(status)}); };
  if (status < kFirstCode || status >= kFirstCode + kCodes) return *lookup();
  std::atomic<Counter*>& slot = answered_[name * kCodes + (status - kFirstCode)];
  Counter* counter = slot.load(std::memory_order_acquire);
  if (counter == nullptr) {
    counter = lookup();
    slot.store(counter, std::memory_order_release);
  }
  return *counter;
}

}  // namespace meridian::router
