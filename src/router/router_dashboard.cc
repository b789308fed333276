// Router::Impl's dashboard (dashboard/dashboard.h): the embedded page, its config, and same-origin
// proxies for what the page reads: Prometheus' query API and each region's /metrics. GET only;
// the proxies pass the upstream's status and body through, and answer 502 when it cannot be
// reached.
#include <algorithm>
#include <chrono>

#include "dashboard/dashboard.h"
#include "router/forward_policy.h"
#include "router/router_impl.h"

namespace meridian::router {

namespace {

// Queries and metrics pages are small and a person is waiting: fail fast, the page retries.
constexpr std::chrono::milliseconds kDashboardFetchTimeout{3000};

}  // namespace

void Router::Impl::HandleDashboard(const HttpRequest& request, const HttpResponder& respond) {
  if (request.method != "GET") {
    HttpResponse refused =
        RouterError(405, "method_not_allowed", request.path + " takes GET (or HEAD)");
    refused.headers.emplace_back("Allow", "GET, HEAD");
    return respond(std::move(refused));
  }
  if (auto asset = dashboard::Asset(request.path)) return respond(std::move(*asset));
  if (request.path == dashboard::kConfigPath) {
    dashboard::View view;
    view.regions = topology.region_names;
    view.prometheus = prometheus_pool != nullptr;
    for (const std::string& region : topology.region_names)
      view.metrics_urls.emplace_back(region, std::string(dashboard::kMetricsPrefix) + region);
    view.metrics_urls.emplace_back("router", "/router/metrics");
    return respond(dashboard::ConfigResponse(view));
  }
  if (request.path == dashboard::kQueryPath) {
    if (!prometheus_pool) {
      return respond(RouterError(404, "not_found",
                                 "no Prometheus configured (meridian router --prometheus "
                                 "HOST:PORT); the dashboard reads /metrics instead"));
    }
    if (request.query.size() != 1 || !request.query.contains("query")) {
      return respond(RouterError(
          400, "invalid_argument",
          std::string(dashboard::kQueryPath) + " takes exactly one parameter, query (PromQL)"));
    }
    HttpClientRequest upstream;
    // The target's query string is passed as the client encoded it.
    upstream.target = "/api/v1/query" + request.target.substr(request.target.find('?'));
    return ProxyForDashboard(prometheus_pool, std::move(upstream), respond);
  }
  if (request.path.starts_with(dashboard::kMetricsPrefix)) {
    const std::string name = request.path.substr(dashboard::kMetricsPrefix.size());
    const auto& names = topology.region_names;
    const auto it = std::find(names.begin(), names.end(), name);
    if (it == names.end()) {
      return respond(RouterError(404, "not_found", "no region '" + name + "'"));
    }
    HttpClientRequest upstream;
    upstream.target = "/metrics";
    return ProxyForDashboard(forward_pools[options.location][it - names.begin()],
                             std::move(upstream), respond);
  }
  respond(RouterError(404, "not_found",
                      "no dashboard resource " + request.path + " (the page is /dashboard)"));
}

void Router::Impl::ProxyForDashboard(const std::shared_ptr<UpstreamPool>& pool,
                                     HttpClientRequest upstream, const HttpResponder& respond) {
  const std::string address = pool->address();
  pool->Send(std::move(upstream), UpstreamClock::now() + kDashboardFetchTimeout,
             [respond, address](Result<HttpResponse> result) {
               if (!result.ok()) {
                 return respond(
                     RouterError(502, "bad_gateway", address + ": " + result.status().message()));
               }
               HttpResponse response;
               response.status = result->status;
               response.content_type = result->content_type;
               response.body = std::move(result->body);
               respond(std::move(response));
             });
}

}  // namespace meridian::router
