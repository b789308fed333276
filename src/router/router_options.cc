#include "router/router_options.h"

#include "config/residency_config.h"

#include <algorithm>

namespace meridian::router {

Result<RouterTopology> RouterTopologyFromConfig(const ClusterConfig& config) {
  const auto count = static_cast<RegionId>(config.regions.size());
  RouterTopology topology;
  auto residency = ResidencyFromConfig(config);
  if (!residency.ok()) return residency.status();
  topology.residency = std::move(residency).value();
  if (config.subjects) {
    for (const std::string& pattern : config.subjects->patterns) {
      auto parsed = ParseSubjectPattern(pattern);
      if (!parsed.ok()) return parsed.status();
      topology.subject_patterns.push_back(std::move(parsed).value());
    }
  }
  topology.slices = config.slices;
  topology.dial.assign(count, std::vector<std::string>(count));
  topology.link_rtt_ms.assign(count, std::vector<int64_t>(count, 0));
  const bool resp = std::all_of(config.regions.begin(), config.regions.end(),
                                [](const RegionConfig& region) { return region.resp.has_value(); });
  for (RegionId location = 0; location < count; ++location) {
    topology.region_names.push_back(config.regions[location].name);
    if (resp) topology.resp_dial.push_back(config.regions[location].resp->ToString());
    for (RegionId region = 0; region < count; ++region) {
      topology.dial[location][region] = ClientDialAddress(config, location, region).ToString();
      if (location != region) {
        topology.link_rtt_ms[location][region] = config.LinkBetween(location, region).rtt_ms;
      }
    }
  }
  return topology;
}

RouterOptions RouterOptionsFromConfig(const ClusterConfig& config, RegionId location) {
  RouterOptions options;
  options.http_address = config.router.http.ToString();
  if (config.router.resp) options.resp_address = config.router.resp->ToString();
  options.location = location;
  options.health_interval_ms = config.router.health_interval_ms;
  return options;
}

RouterOptions TestRouterOptions() {
  RouterOptions options;
  options.http_address = "127.0.0.1:0";
  options.health_interval_ms = 50;
  // Generous beside the interval: a loaded test machine (sanitizers, parallel ctest) must not
  // fail probes of a healthy fake region.
  options.probe_timeout_ms = 1'000;
  options.forward_timeout_ms = 1'000;
  options.pool.connections_max = 8;
  options.pool.waiters_max = 64;
  return options;
}

int64_t ProbeTimeoutMs(const RouterOptions& options, int64_t link_rtt_ms) {
  if (options.probe_timeout_ms > 0) return options.probe_timeout_ms;
  return std::max(options.health_interval_ms, 2 * link_rtt_ms + kProbeTimeoutSlackMs);
}

}  // namespace meridian::router
