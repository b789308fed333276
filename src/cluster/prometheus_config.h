// PrometheusConfig: the files `meridian demo` hands to Debian's `prometheus`, generated from the
// cluster config. Pure functions: text in, text out; the supervisor writes them and starts the
// server.
//
// Invariants:
//  1. The scrape config names one target per region (job "meridian_region", /metrics), the
//     router (job "meridian_router", /router/metrics) and the WAN emulator (job "meridian_wan",
//     /metrics on its admin address; tools/wan/wan_metrics.h).
//  2. A region's target carries the label region="<name>", so alerts and dashboards name the
//     region; the router's and the emulator's carry none, since their series use `region` or
//     `link` for what they are about. `instance` stays the host:port Prometheus scraped.
//  3. The link rules record meridian:link_one_way_delay_seconds{region, origin} for every ordered
//     pair of distinct regions: the emulated one-way delay an op from `origin` crosses to reach
//     `region`, over the shortest chain of direct replication links (mesh: rtt_ms / 2; hub and
//     ring relay through peers, so the hops add up). alerts.yml compares lag against it.
//  4. Output is deterministic: regions in config order, pairs in (region, origin) order.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "config/cluster_config.h"

namespace meridian {

struct PrometheusFiles {
  std::chrono::milliseconds scrape_interval{2000};
  std::vector<std::string> rule_files;  // absolute paths, loaded as `rule_files:`
  std::string alertmanager;             // host:port of an Alertmanager; empty: none
};

// The prometheus.yml text for `config` (invariants 1, 2).
std::string PrometheusScrapeConfig(const ClusterConfig& config, const PrometheusFiles& files);

// A rule file recording each link's expected one-way delay (invariant 3).
std::string LinkDelayRules(const ClusterConfig& config);

// The one-way delay in ms from `origin` to `region` over direct replication links; 0 when they
// are the same region. REQUIRES: both are regions of `config`, connected by its topology.
// A YAML single-quoted scalar: safe for any path or URL (a quote is doubled, nothing else is
// special). Alertmanager's generated config uses it too.
std::string YamlQuoted(const std::string& text);

int64_t OneWayDelayMs(const ClusterConfig& config, RegionId origin, RegionId region);

}  // namespace meridian
