// Router::Impl's own endpoints: GET /router/status and GET /router/metrics.
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>

#include "router/forward_policy.h"
#include "router/router_impl.h"

namespace meridian::router {

namespace {

nlohmann::json PathJson(const std::string& region, const PathHealth& path) {
  nlohmann::json out = {{"region", region},
                        {"healthy", path.healthy},
                        {"status", path.status},
                        {"rtt_ms", nullptr},
                        {"last_error", path.last_error},
                        {"probes_failed", path.probes_failed},
                        {"forwards_failed", path.forwards_failed}};
  // Microsecond resolution is all a probe's clock reading carries.
  if (path.rtt_ms) out["rtt_ms"] = std::round(*path.rtt_ms * 1000) / 1000;
  return out;
}

}  // namespace

std::string Router::Impl::StatusJson() const {
  nlohmann::json by_location = nlohmann::json::object();
  {
    MutexLock lock(&mu);
    for (RegionId location = 0; location < region_count(); ++location) {
      nlohmann::json paths = nlohmann::json::array();
      for (RegionId region = 0; region < region_count(); ++region) {
        paths.push_back(PathJson(topology.region_names[region], table.path(location, region)));
      }
      by_location[topology.region_names[location]] = std::move(paths);
    }
  }
  const std::string& own = topology.region_names[options.location];
  const nlohmann::json body = {{"location", own},
                               {"health_interval_ms", options.health_interval_ms},
                               {"regions", by_location[own]},
                               {"by_location", by_location}};
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string Router::Impl::Summary() const {
  std::string out;
  MutexLock lock(&mu);
  for (RegionId region = 0; region < region_count(); ++region) {
    const PathHealth& path = table.path(options.location, region);
    out += (out.empty() ? "" : "\n") + topology.region_names[region] + ": ";
    if (path.healthy) {
      char rtt[32];
      std::snprintf(rtt, sizeof(rtt), "%.1f", *path.rtt_ms);
      out += std::string("healthy, rtt ") + rtt + " ms";
    } else {
      out += "down (" + (path.last_error.empty() ? "not probed yet" : path.last_error) + ")";
    }
  }
  return out;
}

std::string Router::Impl::RenderMetrics() const {
  if (options.listener_tls && server)
    metrics.ExportHttpTlsFailures(server->tls_handshake_failures());
  return metrics.registry.Render();
}

void Router::Impl::HandleOwn(const HttpRequest& request, const HttpResponder& respond) {
  const bool status = request.path == "/router/status";
  const bool metrics_route = request.path == "/router/metrics";
  if (!status && !metrics_route) {
    return respond(RouterError(
        404, "not_found",
        "no router endpoint " + request.path + " (there are /router/status and /router/metrics)"));
  }
  if (request.method != "GET") {
    HttpResponse refused =
        RouterError(405, "method_not_allowed", request.path + " takes GET (or HEAD)");
    refused.headers.emplace_back("Allow", "GET, HEAD");
    return respond(std::move(refused));
  }
  if (status) return respond(HttpResponse::Json(200, StatusJson()));
  HttpResponse exposition{200, std::string(kPrometheusContentType), RenderMetrics(), {}};
  respond(std::move(exposition));
}

}  // namespace meridian::router
