// StatusReport: `meridian status`'s picture of a cluster, built from what each region answered on
// /healthz and /metrics and what the router answered on /router/metrics. Pure: the answers in
// (the command fetches them), a report, a text table and JSON out.
//
// Invariants:
//  1. A region that did not answer /healthz is "down", whatever its last answer said; otherwise
//     its health is the status it reports ("ok", "catching_up", "draining", "failed").
//  2. p99s come from the region's histograms: over the interval since `before` when that
//     scrape is given and the counters did not go back (a watch redraw), else over the region's
//     lifetime. No observation: no figure (shown "-"), never 0.
//  3. Regions keep the order they were given in; links are by peer name.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace meridian {

struct RegionScrape {
  std::string name;
  std::string http;                    // host:port
  std::optional<std::string> healthz;  // body; nullopt: no answer
  std::optional<std::string> metrics;  // body; nullopt: no answer
};

struct LinkStatus {
  std::string peer;
  bool connected = false;
  std::optional<double> lag_p99_ms;       // ops from peer applied here
  std::optional<double> backlog_ops;      // ops for peer it has not acknowledged
  std::optional<double> clock_offset_ms;  // the peer's clock minus ours
};

struct RegionStatus {
  std::string name;
  std::string http;
  std::string health;  // invariant 1
  int peers_up = 0;
  int peers_total = 0;
  std::optional<double> read_p99_ms;
  std::optional<double> write_p99_ms;
  std::optional<bool> router_healthy;  // as the router sees it; nullopt: router not read
  std::string error;                   // why a figure is missing (unparseable answer)
  std::vector<LinkStatus> links;
};

struct ClusterStatus {
  std::vector<RegionStatus> regions;
  std::string router;  // host:port; empty: none known
  bool router_up = false;
};

// `before`: the same region's previous scrape, or null (invariant 2).
RegionStatus SummarizeRegion(const RegionScrape& now, const RegionScrape* before);

// The router's view: meridian_router_region_healthy per region, from its /router/metrics body.
std::map<std::string, bool> RouterHealthy(const std::string& router_metrics);

std::string RenderStatusText(const ClusterStatus& status);
nlohmann::json StatusJson(const ClusterStatus& status);

}  // namespace meridian
