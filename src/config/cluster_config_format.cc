// Writing a ClusterConfig back as YAML, and deriving a config for a subset of its regions.
#include <algorithm>
#include <sstream>

#include "config/cluster_config.h"

namespace meridian {

namespace {

// Names are [a-z0-9_-] and addresses host:port, so only data_dir may need quoting.
std::string Quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string FormatClusterConfig(const ClusterConfig& config) {
  std::ostringstream y;
  y << "regions:\n";
  for (const RegionConfig& r : config.regions) {
    y << "  - name: " << r.name << "\n"
      << "    http: " << r.http.ToString() << "\n"
      << "    replication: " << r.replication.ToString() << "\n";
    if (r.resp) y << "    resp: " << r.resp->ToString() << "\n";
    if (r.admin) y << "    admin: " << r.admin->ToString() << "\n";
    y << "    data_dir: " << Quoted(r.data_dir) << "\n";
  }
  y << "topology: " << TopologyName(config.topology) << "\n";
  if (config.slices != 1) y << "slices: " << config.slices << "\n";
  if (config.hub) y << "hub: " << config.regions[*config.hub].name << "\n";
  y << (config.links.empty() ? "links: []\n" : "links:\n");
  for (const LinkConfig& l : config.links) {
    y << "  - between: [" << config.regions[l.a].name << ", " << config.regions[l.b].name << "]\n"
      << "    rtt_ms: " << l.rtt_ms << "\n"
      << "    jitter_ms: " << l.jitter_ms << "\n";
  }
  y << "wan:\n"
    << "  admin: " << config.wan.admin.ToString() << "\n"
    << "  base_port: " << config.wan.base_port << "\n"
    << "  proxy_host: " << config.wan.proxy_host << "\n"
    << "  threads: " << config.wan.threads << "\n"
    << "  seed: " << config.wan.seed << "\n";
  y << "router:\n"
    << "  http: " << config.router.http.ToString() << "\n";
  if (config.router.resp) y << "  resp: " << config.router.resp->ToString() << "\n";
  y << "  health_interval_ms: " << config.router.health_interval_ms << "\n";
  if (config.auth) {
    y << "auth:\n  keys_file: " << Quoted(config.auth->keys_file) << "\n";
    if (!config.auth->router_key_file.empty()) {
      y << "  router_key_file: " << Quoted(config.auth->router_key_file) << "\n";
    }
  }
  if (config.tls && config.tls->plaintext) y << "tls:\n  plaintext: true\n";
  if (config.tls && !config.tls->plaintext) {
    y << "tls:\n  dir: " << Quoted(config.tls->dir) << "\n"
      << "  client: " << (config.tls->client ? "true" : "false") << "\n";
  }
  if (!config.residency.empty()) y << "residency:\n";
  for (const ResidencyRuleConfig& rule : config.residency) {
    y << "  - prefix: " << Quoted(rule.prefix) << "\n    regions: [";
    for (size_t i = 0; i < rule.regions.size(); ++i)
      y << (i > 0 ? ", " : "") << config.regions[rule.regions[i]].name;
    y << "]\n";
    if (!rule.data_class.empty()) y << "    class: " << rule.data_class << "\n";
  }
  if (config.subjects) {
    y << "subjects:\n  patterns: [";
    for (size_t i = 0; i < config.subjects->patterns.size(); ++i)
      y << (i > 0 ? ", " : "") << Quoted(config.subjects->patterns[i]);
    y << "]\n  master_key_dir: " << Quoted(config.subjects->master_key_dir) << "\n";
  }
  return y.str();
}

Result<ClusterConfig> SubsetClusterConfig(const ClusterConfig& config,
                                          const std::vector<std::string>& names,
                                          Topology topology) {
  std::vector<RegionId> kept;
  for (const std::string& name : names) {
    std::optional<RegionId> id = config.RegionIdByName(name);
    if (!id) {
      return InvalidArgument("unknown region '" + name +
                             "' (the config has: " + config.RegionNames() + ")");
    }
    if (std::find(kept.begin(), kept.end(), *id) == kept.end()) kept.push_back(*id);
  }
  if (kept.empty()) return InvalidArgument("no regions selected");
  // Keep the config's order: it is the LWW tiebreak order every process must agree on.
  std::sort(kept.begin(), kept.end());
  ClusterConfig out = config;
  out.regions.clear();
  for (RegionId id : kept)
    out.regions.push_back(config.regions[id]);
  auto new_id = [&](RegionId old) -> std::optional<RegionId> {
    auto it = std::find(kept.begin(), kept.end(), old);
    if (it == kept.end()) return std::nullopt;
    return static_cast<RegionId>(it - kept.begin());
  };
  out.links.clear();
  for (const LinkConfig& l : config.links) {
    auto a = new_id(l.a), b = new_id(l.b);
    if (a && b) out.links.push_back({*a, *b, l.rtt_ms, l.jitter_ms});
  }
  out.residency.clear();
  for (const ResidencyRuleConfig& rule : config.residency) {
    ResidencyRuleConfig kept_rule = rule;
    kept_rule.regions.clear();
    for (RegionId r : rule.regions) {
      if (auto id = new_id(r)) kept_rule.regions.push_back(*id);
    }
    if (kept_rule.regions.empty()) {
      return InvalidArgument("the residency rule for '" + rule.prefix +
                             "' would keep none of its regions");
    }
    out.residency.push_back(std::move(kept_rule));
  }
  out.topology = topology;
  out.hub.reset();
  if (topology == Topology::kHub) {
    std::optional<RegionId> hub = config.hub ? new_id(*config.hub) : std::nullopt;
    out.hub = hub.value_or(0);
  }
  return out;
}

}  // namespace meridian
