// Dashboard: the operator's page at /dashboard, served by the router for the whole cluster and by
// each region for its own view. The page itself is plain HTML, CSS and JavaScript
// (web/dashboard/), embedded into the binary at build time, so there is nothing to install or
// build by hand and a page always matches the binary serving it.
//
// Contract:
//  1. Asset(path) answers GET /dashboard (and /dashboard/), /dashboard/app.js and
//     /dashboard/app.css with the embedded files and their content types, and nothing else.
//  2. ConfigResponse tells the page where its figures come from (GET /dashboard/api/config):
//     Prometheus' query API at `query_url` when `prometheus` is set, else (and whenever a query
//     fails) the /metrics page of each name in `metrics_urls`. The page polls; the server keeps no
//     state for it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/http_message.h"

namespace meridian::dashboard {

inline constexpr std::string_view kPrefix = "/dashboard";
inline constexpr std::string_view kConfigPath = "/dashboard/api/config";
// The router's proxy to Prometheus' GET /api/v1/query (same origin: no CORS to configure).
inline constexpr std::string_view kQueryPath = "/dashboard/api/query";
// The router's proxy to a region's /metrics: kMetricsPrefix + region name.
inline constexpr std::string_view kMetricsPrefix = "/dashboard/api/metrics/";

struct View {
  bool cluster = true;               // false: one region's own view
  std::vector<std::string> regions;  // by RegionId
  bool prometheus = false;           // whether to query Prometheus first
  // Name ("us", "router") -> URL of its /metrics page, relative to the page's origin.
  std::vector<std::pair<std::string, std::string>> metrics_urls;
};

// True for /dashboard and everything under it.
bool IsDashboardPath(std::string_view path);

// Contract 1.
std::optional<HttpResponse> Asset(std::string_view path);

// Contract 2.
HttpResponse ConfigResponse(const View& view);

}  // namespace meridian::dashboard
