// ClusterConfig helpers, host:port parsing, the WAN proxy layout and file loading.
// Parsing and validation of the YAML itself live in cluster_config_parse.cc.
#include "config/cluster_config.h"

#include <charconv>
#include <fstream>
#include <sstream>

namespace meridian {
namespace {

bool IsHostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_';
}

bool IsV6Char(char c) {
  return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || (c >= '0' && c <= '9') || c == ':' ||
         c == '.';
}

Result<uint16_t> ParsePort(std::string_view text) {
  uint32_t port = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, port);
  if (text.empty() || ec != std::errc() || ptr != end || port > 65535) {
    return InvalidArgument("port must be an integer in 0..65535, got '" + std::string(text) + "'");
  }
  return static_cast<uint16_t>(port);
}

}  // namespace

std::string HostPort::ToString() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<HostPort> ParseHostPort(std::string_view text) {
  const std::string shown = "'" + std::string(text) + "'";
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return InvalidArgument("expected host:port, got " + shown);
  std::string_view host = text.substr(0, colon);
  bool host_ok = !host.empty();
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
    for (char c : host) {
      host_ok = host_ok && IsV6Char(c);
    }
    host_ok = host_ok && !host.empty();
  } else {
    for (char c : host) {
      host_ok = host_ok && IsHostChar(c);
    }
  }
  if (!host_ok) return InvalidArgument("bad host in " + shown);
  Result<uint16_t> port = ParsePort(text.substr(colon + 1));
  if (!port.ok()) return InvalidArgument(port.status().message() + " in " + shown);
  return HostPort{std::string(host), *port};
}

std::string_view TopologyName(Topology topology) {
  switch (topology) {
    case Topology::kMesh:
      return "mesh";
    case Topology::kHub:
      return "hub";
    case Topology::kRing:
      return "ring";
  }
  return "mesh";
}

std::optional<RegionId> ClusterConfig::RegionIdByName(std::string_view name) const {
  for (size_t i = 0; i < regions.size(); ++i) {
    if (regions[i].name == name) return static_cast<RegionId>(i);
  }
  return std::nullopt;
}

std::string ClusterConfig::RegionNames() const {
  std::string out;
  for (const RegionConfig& r : regions)
    out += (out.empty() ? "" : ", ") + r.name;
  return out;
}

const LinkConfig& ClusterConfig::LinkBetween(RegionId a, RegionId b) const {
  MERIDIAN_ASSERT(a != b && a < regions.size() && b < regions.size());
  const RegionId lo = std::min(a, b);
  const RegionId hi = std::max(a, b);
  for (const LinkConfig& link : links) {
    if (link.a == lo && link.b == hi) return link;
  }
  MERIDIAN_ASSERT_MSG(false, "validated config lacks a link");
  return links.front();
}

bool ClusterConfig::ReplicatesDirectly(RegionId a, RegionId b) const {
  const RegionId n = static_cast<RegionId>(regions.size());
  MERIDIAN_ASSERT(a < n && b < n);
  if (a == b) return false;
  switch (topology) {
    case Topology::kMesh:
      return true;
    case Topology::kHub:
      return a == *hub || b == *hub;
    case Topology::kRing:
      return (a + 1) % n == b || (b + 1) % n == a;
  }
  return false;
}

std::vector<RegionId> ClusterConfig::Peers(RegionId a) const {
  std::vector<RegionId> peers;
  for (RegionId b = 0; b < regions.size(); ++b) {
    if (ReplicatesDirectly(a, b)) peers.push_back(b);
  }
  return peers;
}

namespace {

WanProxy MakeProxy(const ClusterConfig& config, ProxyKind kind, RegionId from, RegionId to) {
  const bool replication = kind == ProxyKind::kReplication;
  const int offset = (replication ? 0 : kWanClientPortOffset) + static_cast<int>(10 * from + to);
  const LinkConfig& link = config.LinkBetween(from, to);
  WanProxy proxy;
  proxy.name =
      (replication ? "" : "client-") + config.regions[from].name + "->" + config.regions[to].name;
  proxy.kind = kind;
  proxy.from = from;
  proxy.to = to;
  proxy.listen = {config.wan.proxy_host, static_cast<uint16_t>(config.wan.base_port + offset)};
  proxy.upstream = replication ? config.regions[to].replication : config.regions[to].http;
  proxy.rtt_ms = link.rtt_ms;
  proxy.jitter_ms = link.jitter_ms;
  return proxy;
}

}  // namespace

std::vector<WanProxy> WanProxyLayout(const ClusterConfig& config) {
  std::vector<WanProxy> proxies;
  for (ProxyKind kind : {ProxyKind::kReplication, ProxyKind::kClient}) {
    for (RegionId from = 0; from < config.regions.size(); ++from) {
      for (RegionId to = 0; to < config.regions.size(); ++to) {
        if (from != to) proxies.push_back(MakeProxy(config, kind, from, to));
      }
    }
  }
  return proxies;
}

HostPort ReplicationDialAddress(const ClusterConfig& config, RegionId from, RegionId to) {
  MERIDIAN_ASSERT(from != to);
  return MakeProxy(config, ProxyKind::kReplication, from, to).listen;
}

HostPort ClientDialAddress(const ClusterConfig& config, RegionId location, RegionId to) {
  MERIDIAN_ASSERT(location < config.regions.size() && to < config.regions.size());
  if (location == to) return config.regions[to].http;
  return MakeProxy(config, ProxyKind::kClient, location, to).listen;
}

Result<ClusterConfig> LoadClusterConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open cluster config '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return NotFound("cannot read cluster config '" + path + "'");
  return ParseClusterConfig(text.str(), path);
}

}  // namespace meridian
