#include "dashboard/dashboard.h"

#include <nlohmann/json.hpp>

#include "dashboard/dashboard_assets.h"

namespace meridian::dashboard {

bool IsDashboardPath(std::string_view path) {
  return path == kPrefix || path.starts_with(std::string(kPrefix) + "/");
}

std::optional<HttpResponse> Asset(std::string_view path) {
  HttpResponse response;
  if (path == kPrefix || path == "/dashboard/") {
    response.content_type = "text/html; charset=utf-8";
    response.body = std::string(assets::index_html());
  } else if (path == "/dashboard/app.js") {
    response.content_type = "text/javascript; charset=utf-8";
    response.body = std::string(assets::app_js());
  } else if (path == "/dashboard/app.css") {
    response.content_type = "text/css; charset=utf-8";
    response.body = std::string(assets::app_css());
  } else {
    return std::nullopt;
  }
  // The page and the binary change together; a cached page could outlive an upgrade.
  response.headers.emplace_back("Cache-Control", "no-cache");
  return response;
}

HttpResponse ConfigResponse(const View& view) {
  nlohmann::json urls = nlohmann::json::object();
  for (const auto& [name, url] : view.metrics_urls)
    urls[name] = url;
  const nlohmann::json body = {{"scope", view.cluster ? "cluster" : "region"},
                               {"regions", view.regions},
                               {"source", view.prometheus ? "prometheus" : "metrics"},
                               {"query_url", kQueryPath},
                               {"metrics_urls", urls}};
  return HttpResponse::Json(200, body.dump());
}

}  // namespace meridian::dashboard
