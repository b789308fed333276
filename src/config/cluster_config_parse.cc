// ParseClusterConfig: YAML text -> validated ClusterConfig (see cluster_config.h invariants).
//
// A pure function from bytes to a value: no I/O, and no exception escapes (yaml-cpp throws; the
// one try block is in ParseClusterConfig). It is fuzzed by config_fuzz.cc.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <string>
#include <vector>

#include "base/hash_slot.h"
#include "base/subject_pattern.h"
#include "config/cluster_config.h"
#include "config/yaml_reader.h"

namespace meridian {
namespace {

using config_internal::Field;
using config_internal::FieldMap;
using config_internal::Optional;
using config_internal::YamlReader;

// A config larger than this is not a cluster description; refusing it bounds parse time.
constexpr size_t kConfigBytesMax = 1 << 20;
// Longer than any real WAN RTT by far; larger values are typos (seconds vs milliseconds).
constexpr int64_t kRttMsMax = 60'000;
constexpr int64_t kWanThreadsMax = 64;
constexpr size_t kRegionNameBytesMax = 16;  // names end up in proxy names and metric labels

// A listening address with where it was configured, for the duplicate-port check.
struct Listener {
  std::string path;
  int line = 0;
  uint16_t port = 0;
};

struct ParseState {
  YamlReader reader;
  std::vector<Listener> listeners;
  Field wan_base_port;  // proxy ports are reported against this field
};

#define MERIDIAN_ASSIGN_OR_RETURN(lhs, expr)            \
  auto lhs##_result = (expr);                           \
  if (!lhs##_result.ok()) return lhs##_result.status(); \
  auto lhs = std::move(lhs##_result).value()

Result<HostPort> ReadListener(ParseState& state, const Field& field) {
  Result<HostPort> address = state.reader.Address(field);
  if (address.ok()) state.listeners.push_back({field.path, field.line, address->port});
  return address;
}

Status CheckRegionName(const YamlReader& reader, const Field& field, const std::string& name) {
  bool ok = name.size() <= kRegionNameBytesMax;
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-');
  }
  if (!ok) return reader.Error(field, "must be 1-16 characters of [a-z0-9_-], got '" + name + "'");
  return Status::Ok();
}

Result<RegionConfig> ParseRegion(ParseState& state, const Field& field,
                                 const ClusterConfig& config) {
  const YamlReader& r = state.reader;
  MERIDIAN_ASSIGN_OR_RETURN(
      keys, r.Map(field, {"name", "http", "replication", "resp", "admin", "data_dir"}));
  MERIDIAN_ASSIGN_OR_RETURN(name_field, r.Required(field, keys, "name"));
  MERIDIAN_ASSIGN_OR_RETURN(name, r.String(name_field));
  MERIDIAN_RETURN_IF_ERROR(CheckRegionName(r, name_field, name));
  if (config.RegionIdByName(name)) {
    return r.Error(name_field, "duplicate region name '" + name + "'");
  }
  MERIDIAN_ASSIGN_OR_RETURN(http_field, r.Required(field, keys, "http"));
  MERIDIAN_ASSIGN_OR_RETURN(http, ReadListener(state, http_field));
  MERIDIAN_ASSIGN_OR_RETURN(repl_field, r.Required(field, keys, "replication"));
  MERIDIAN_ASSIGN_OR_RETURN(replication, ReadListener(state, repl_field));
  std::optional<HostPort> resp;
  if (const Field* resp_field = Optional(keys, "resp")) {
    MERIDIAN_ASSIGN_OR_RETURN(address, ReadListener(state, *resp_field));
    resp = address;
  }
  std::optional<HostPort> admin;
  if (const Field* admin_field = Optional(keys, "admin")) {
    MERIDIAN_ASSIGN_OR_RETURN(address, ReadListener(state, *admin_field));
    admin = address;
  }
  MERIDIAN_ASSIGN_OR_RETURN(dir_field, r.Required(field, keys, "data_dir"));
  MERIDIAN_ASSIGN_OR_RETURN(data_dir, r.String(dir_field));
  for (const RegionConfig& other : config.regions) {
    if (other.data_dir == data_dir) {
      return r.Error(dir_field, "'" + data_dir + "' is also region " + other.name + "'s data_dir");
    }
  }
  return RegionConfig{name, http, replication, data_dir, resp, admin};
}

Status ParseRegions(ParseState& state, const Field& field, ClusterConfig& config) {
  MERIDIAN_ASSIGN_OR_RETURN(items, state.reader.Sequence(field));
  if (items.empty()) return state.reader.Error(field, "must list at least one region");
  if (items.size() > kMaxRegions) {
    return state.reader.Error(field, "at most " + std::to_string(kMaxRegions) + " regions (got " +
                                         std::to_string(items.size()) + ")");
  }
  for (const Field& item : items) {
    MERIDIAN_ASSIGN_OR_RETURN(region, ParseRegion(state, item, config));
    config.regions.push_back(std::move(region));
  }
  return Status::Ok();
}

Result<RegionId> ReadRegionRef(const ParseState& state, const Field& field,
                               const ClusterConfig& config) {
  MERIDIAN_ASSIGN_OR_RETURN(name, state.reader.String(field));
  std::optional<RegionId> id = config.RegionIdByName(name);
  if (!id) return state.reader.Error(field, "unknown region '" + name + "'");
  return *id;
}

Status ParseTopology(ParseState& state, const FieldMap& keys, ClusterConfig& config) {
  const YamlReader& r = state.reader;
  const Field* topology = Optional(keys, "topology");
  const Field* hub = Optional(keys, "hub");
  if (topology != nullptr) {
    MERIDIAN_ASSIGN_OR_RETURN(name, r.String(*topology));
    if (name == "mesh") {
      config.topology = Topology::kMesh;
    } else if (name == "hub") {
      config.topology = Topology::kHub;
    } else if (name == "ring") {
      config.topology = Topology::kRing;
    } else {
      return r.Error(*topology, "must be one of mesh, hub, ring; got '" + name + "'");
    }
  }
  if (config.topology == Topology::kHub && hub == nullptr) {
    return r.ErrorAt(topology->line, "hub", "is required when topology is hub");
  }
  if (config.topology != Topology::kHub && hub != nullptr) {
    return r.Error(*hub, "is only allowed when topology is hub");
  }
  if (hub != nullptr) {
    MERIDIAN_ASSIGN_OR_RETURN(id, ReadRegionRef(state, *hub, config));
    config.hub = id;
  }
  return Status::Ok();
}

Result<LinkConfig> ParseLink(ParseState& state, const Field& field, const ClusterConfig& config) {
  const YamlReader& r = state.reader;
  MERIDIAN_ASSIGN_OR_RETURN(keys, r.Map(field, {"between", "rtt_ms", "jitter_ms"}));
  MERIDIAN_ASSIGN_OR_RETURN(between_field, r.Required(field, keys, "between"));
  MERIDIAN_ASSIGN_OR_RETURN(ends, r.Sequence(between_field));
  if (ends.size() != 2) return r.Error(between_field, "must name exactly two regions");
  MERIDIAN_ASSIGN_OR_RETURN(a, ReadRegionRef(state, ends[0], config));
  MERIDIAN_ASSIGN_OR_RETURN(b, ReadRegionRef(state, ends[1], config));
  if (a == b) return r.Error(between_field, "must name two different regions");
  MERIDIAN_ASSIGN_OR_RETURN(rtt_field, r.Required(field, keys, "rtt_ms"));
  MERIDIAN_ASSIGN_OR_RETURN(rtt_ms, r.Int(rtt_field, 0, kRttMsMax));
  int64_t jitter_ms = 0;
  if (const Field* jitter = Optional(keys, "jitter_ms")) {
    MERIDIAN_ASSIGN_OR_RETURN(value, r.Int(*jitter, 0, kRttMsMax));
    if (value > rtt_ms) {
      return r.Error(*jitter, "must not exceed rtt_ms (" + std::to_string(rtt_ms) + ")");
    }
    jitter_ms = value;
  }
  return LinkConfig{std::min(a, b), std::max(a, b), rtt_ms, jitter_ms};
}

Status ParseLinks(ParseState& state, const Field& field, ClusterConfig& config) {
  MERIDIAN_ASSIGN_OR_RETURN(items, state.reader.Sequence(field));
  for (const Field& item : items) {
    MERIDIAN_ASSIGN_OR_RETURN(link, ParseLink(state, item, config));
    for (const LinkConfig& other : config.links) {
      if (other.a == link.a && other.b == link.b) {
        return state.reader.Error(item, "duplicate link between " + config.regions[link.a].name +
                                            " and " + config.regions[link.b].name);
      }
    }
    config.links.push_back(link);
  }
  for (RegionId a = 0; a < config.regions.size(); ++a) {
    for (RegionId b = a + 1; b < config.regions.size(); ++b) {
      bool found = false;
      for (const LinkConfig& link : config.links) {
        found = found || (link.a == a && link.b == b);
      }
      if (!found) {
        return state.reader.Error(field, "missing entry for the pair [" + config.regions[a].name +
                                             ", " + config.regions[b].name + "]");
      }
    }
  }
  return Status::Ok();
}

Status ParseWan(ParseState& state, const Field& field, ClusterConfig& config) {
  const YamlReader& r = state.reader;
  MERIDIAN_ASSIGN_OR_RETURN(keys,
                            r.Map(field, {"admin", "base_port", "proxy_host", "threads", "seed"}));
  MERIDIAN_ASSIGN_OR_RETURN(admin_field, r.Required(field, keys, "admin"));
  MERIDIAN_ASSIGN_OR_RETURN(admin, ReadListener(state, admin_field));
  MERIDIAN_ASSIGN_OR_RETURN(base_field, r.Required(field, keys, "base_port"));
  MERIDIAN_ASSIGN_OR_RETURN(base_port, r.Int(base_field, 1, 65535 - kWanPortSpan));
  state.wan_base_port = base_field;
  config.wan.admin = admin;
  config.wan.base_port = static_cast<uint16_t>(base_port);
  config.wan.proxy_host = admin.host;
  if (const Field* host = Optional(keys, "proxy_host")) {
    MERIDIAN_ASSIGN_OR_RETURN(value, r.String(*host));
    Result<HostPort> check = ParseHostPort(value + ":0");
    if (!check.ok()) return r.Error(*host, "must be a host name or IP address");
    config.wan.proxy_host = check->host;
  }
  if (const Field* threads = Optional(keys, "threads")) {
    MERIDIAN_ASSIGN_OR_RETURN(value, r.Int(*threads, 1, kWanThreadsMax));
    config.wan.threads = static_cast<int>(value);
  }
  if (const Field* seed = Optional(keys, "seed")) {
    MERIDIAN_ASSIGN_OR_RETURN(value, r.Int(*seed, 0, INT64_MAX));
    config.wan.seed = static_cast<uint64_t>(value);
  }
  return Status::Ok();
}

Status ParseRouter(ParseState& state, const Field& field, ClusterConfig& config) {
  const YamlReader& r = state.reader;
  MERIDIAN_ASSIGN_OR_RETURN(keys, r.Map(field, {"http", "resp", "health_interval_ms"}));
  MERIDIAN_ASSIGN_OR_RETURN(http_field, r.Required(field, keys, "http"));
  MERIDIAN_ASSIGN_OR_RETURN(http, ReadListener(state, http_field));
  config.router.http = http;
  if (const Field* resp_field = Optional(keys, "resp")) {
    MERIDIAN_ASSIGN_OR_RETURN(address, ReadListener(state, *resp_field));
    // Invariant 6: the router's RESP front end forwards to the regions' RESP listeners.
    for (const RegionConfig& region : config.regions) {
      if (!region.resp) {
        return r.Error(*resp_field, "needs every region to have a resp listener; region " +
                                        region.name + " has none");
      }
    }
    config.router.resp = address;
  }
  if (const Field* interval = Optional(keys, "health_interval_ms")) {
    MERIDIAN_ASSIGN_OR_RETURN(value, r.Int(*interval, 1, kRttMsMax));
    config.router.health_interval_ms = value;
  }
  return Status::Ok();
}

Status ParseAuth(ParseState& state, const Field& field, ClusterConfig& config) {
  const YamlReader& r = state.reader;
  MERIDIAN_ASSIGN_OR_RETURN(keys, r.Map(field, {"keys_file", "router_key_file"}));
  MERIDIAN_ASSIGN_OR_RETURN(keys_field, r.Required(field, keys, "keys_file"));
  AuthConfig auth;
  MERIDIAN_ASSIGN_OR_RETURN(keys_file, r.String(keys_field));
  if (keys_file.empty()) return r.Error(keys_field, "must name the key file");
  auth.keys_file = keys_file;
  if (const Field* router_key = Optional(keys, "router_key_file")) {
    MERIDIAN_ASSIGN_OR_RETURN(path, r.String(*router_key));
    auth.router_key_file = path;
  }
  config.auth = std::move(auth);
  return Status::Ok();
}

// Invariant 7. Booleans are the words true/false only: "yes"/"on" are YAML 1.1 quirks.
Result<bool> ReadBool(const YamlReader& r, const Field& field) {
  MERIDIAN_ASSIGN_OR_RETURN(text, r.String(field));
  if (text == "true") return true;
  if (text == "false") return false;
  return r.Error(field, "must be true or false, got '" + text + "'");
}

Status ParseTls(ParseState& state, const Field& field, ClusterConfig& config) {
  const YamlReader& r = state.reader;
  MERIDIAN_ASSIGN_OR_RETURN(keys, r.Map(field, {"dir", "client", "plaintext"}));
  TlsConfig tls;
  if (const Field* plaintext = Optional(keys, "plaintext")) {
    MERIDIAN_ASSIGN_OR_RETURN(value, ReadBool(r, *plaintext));
    tls.plaintext = value;
  }
  const Field* dir = Optional(keys, "dir");
  const Field* client = Optional(keys, "client");
  if (tls.plaintext) {
    if (dir != nullptr || client != nullptr) {
      return r.Error(field, "plaintext: true excludes dir and client");
    }
    config.tls = tls;
    return Status::Ok();
  }
  if (dir == nullptr) return r.Error(field, "needs dir (the certificates) or plaintext: true");
  MERIDIAN_ASSIGN_OR_RETURN(dir_value, r.String(*dir));
  tls.dir = dir_value;
  if (client != nullptr) {
    MERIDIAN_ASSIGN_OR_RETURN(value, ReadBool(r, *client));
    tls.client = value;
  }
  config.tls = tls;
  return Status::Ok();
}

// Invariant 8.
Status ParseResidency(ParseState& state, const Field& field, ClusterConfig& config) {
  const YamlReader& r = state.reader;
  MERIDIAN_ASSIGN_OR_RETURN(items, r.Sequence(field));
  for (const Field& item : items) {
    MERIDIAN_ASSIGN_OR_RETURN(keys, r.Map(item, {"prefix", "regions", "class"}));
    ResidencyRuleConfig rule;
    MERIDIAN_ASSIGN_OR_RETURN(prefix_field, r.Required(item, keys, "prefix"));
    MERIDIAN_ASSIGN_OR_RETURN(prefix, r.String(prefix_field));
    rule.prefix = prefix;
    if (const Field* data_class = Optional(keys, "class")) {
      MERIDIAN_ASSIGN_OR_RETURN(name, r.String(*data_class));
      if (name != "profile" && name != "counter" && name != "tags" && name != "register" &&
          name != "handle") {
        return r.Error(*data_class,
                       "must be profile, counter, tags, register or handle, got '" + name + "'");
      }
      rule.data_class = name;
      // Handle names are canonical [a-z0-9_.-] (src/strong/handle_name.h): any other prefix
      // would never match one.
      if (name == "handle" && !std::all_of(prefix.begin(), prefix.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
                   c == '-';
          })) {
        return r.Error(prefix_field,
                       "a handle rule's prefix must be lower-case letters, digits, '_', '.' or "
                       "'-' (a handle name's alphabet), got '" +
                           prefix + "'");
      }
    }
    MERIDIAN_ASSIGN_OR_RETURN(regions_field, r.Required(item, keys, "regions"));
    MERIDIAN_ASSIGN_OR_RETURN(regions, r.Sequence(regions_field));
    if (regions.empty()) return r.Error(regions_field, "must name at least one region");
    for (const Field& region : regions) {
      MERIDIAN_ASSIGN_OR_RETURN(id, ReadRegionRef(state, region, config));
      if (std::find(rule.regions.begin(), rule.regions.end(), id) != rule.regions.end()) {
        return r.Error(region, "region named twice");
      }
      rule.regions.push_back(id);
    }
    std::sort(rule.regions.begin(), rule.regions.end());
    for (const ResidencyRuleConfig& other : config.residency) {
      if (other.prefix == rule.prefix && other.data_class == rule.data_class) {
        return r.Error(prefix_field, "another rule has the prefix '" + rule.prefix + "'");
      }
    }
    config.residency.push_back(std::move(rule));
  }
  return Status::Ok();
}

Status ParseSubjects(ParseState& state, const Field& field, ClusterConfig& config) {
  const YamlReader& r = state.reader;
  MERIDIAN_ASSIGN_OR_RETURN(keys, r.Map(field, {"patterns", "master_key_dir"}));
  SubjectsConfig subjects;
  MERIDIAN_ASSIGN_OR_RETURN(patterns_field, r.Required(field, keys, "patterns"));
  MERIDIAN_ASSIGN_OR_RETURN(patterns, r.Sequence(patterns_field));
  if (patterns.empty()) return r.Error(patterns_field, "must name at least one pattern");
  for (const Field& item : patterns) {
    MERIDIAN_ASSIGN_OR_RETURN(text, r.String(item));
    if (Result<SubjectPattern> parsed = ParseSubjectPattern(text); !parsed.ok()) {
      return r.Error(item, parsed.status().message());
    }
    if (std::find(subjects.patterns.begin(), subjects.patterns.end(), text) !=
        subjects.patterns.end()) {
      return r.Error(item, "pattern named twice");
    }
    subjects.patterns.push_back(text);
  }
  MERIDIAN_ASSIGN_OR_RETURN(dir_field, r.Required(field, keys, "master_key_dir"));
  MERIDIAN_ASSIGN_OR_RETURN(dir, r.String(dir_field));
  if (dir.empty()) return r.Error(dir_field, "must name the master keys' directory");
  subjects.master_key_dir = dir;
  config.subjects = std::move(subjects);
  return Status::Ok();
}

// Invariant 4: one machine, so any two listeners on the same port collide whatever the host.
Status CheckPorts(const ParseState& state, const ClusterConfig& config) {
  const Field& wan_base = state.wan_base_port;
  std::vector<Listener> all = state.listeners;
  // Invariant 9: slice i of a region listens on each of its ports + i.
  for (const Listener& listener : state.listeners) {
    if (!listener.path.starts_with("regions[") || listener.port == 0) continue;
    for (uint32_t slice = 1; slice < config.slices; ++slice) {
      if (listener.port + slice > 65535) {
        return state.reader.ErrorAt(listener.line, listener.path,
                                    "port " + std::to_string(listener.port) + " + slice " +
                                        std::to_string(slice) + " is beyond 65535");
      }
      all.push_back({listener.path + " (slice " + std::to_string(slice) + ")", listener.line,
                     static_cast<uint16_t>(listener.port + slice)});
    }
  }
  for (const WanProxy& proxy : WanProxyLayout(config)) {
    all.push_back(
        {wan_base.path + " (proxy " + proxy.name + ")", wan_base.line, proxy.listen.port});
  }
  for (size_t i = 0; i < all.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (all[i].port != 0 && all[i].port == all[j].port) {
        return state.reader.ErrorAt(
            all[i].line, all[i].path,
            "port " + std::to_string(all[i].port) + " is already used by " + all[j].path);
      }
    }
  }
  return Status::Ok();
}

Result<ClusterConfig> ParseRoot(ParseState& state, const YAML::Node& node) {
  const YamlReader& r = state.reader;
  const Field root = YamlReader::Root(node);
  MERIDIAN_ASSIGN_OR_RETURN(
      keys, r.Map(root, {"regions", "topology", "hub", "links", "wan", "router", "auth", "tls",
                         "residency", "subjects", "slices"}));
  ClusterConfig config;
  MERIDIAN_ASSIGN_OR_RETURN(regions, r.Required(root, keys, "regions"));
  MERIDIAN_RETURN_IF_ERROR(ParseRegions(state, regions, config));
  MERIDIAN_RETURN_IF_ERROR(ParseTopology(state, keys, config));
  MERIDIAN_ASSIGN_OR_RETURN(links, r.Required(root, keys, "links"));
  MERIDIAN_RETURN_IF_ERROR(ParseLinks(state, links, config));
  MERIDIAN_ASSIGN_OR_RETURN(wan, r.Required(root, keys, "wan"));
  MERIDIAN_RETURN_IF_ERROR(ParseWan(state, wan, config));
  MERIDIAN_ASSIGN_OR_RETURN(router, r.Required(root, keys, "router"));
  MERIDIAN_RETURN_IF_ERROR(ParseRouter(state, router, config));
  if (const Field* auth = Optional(keys, "auth")) {
    MERIDIAN_RETURN_IF_ERROR(ParseAuth(state, *auth, config));
  }
  if (const Field* tls = Optional(keys, "tls")) {
    MERIDIAN_RETURN_IF_ERROR(ParseTls(state, *tls, config));
  }
  if (const Field* residency = Optional(keys, "residency")) {
    MERIDIAN_RETURN_IF_ERROR(ParseResidency(state, *residency, config));
  }
  if (const Field* subjects = Optional(keys, "subjects")) {
    MERIDIAN_RETURN_IF_ERROR(ParseSubjects(state, *subjects, config));
  }
  if (const Field* slices = Optional(keys, "slices")) {
    MERIDIAN_ASSIGN_OR_RETURN(value, r.Int(*slices, 1, kMaxSlices));
    config.slices = static_cast<uint32_t>(value);
  }
  MERIDIAN_RETURN_IF_ERROR(CheckPorts(state, config));
  return config;
}

#undef MERIDIAN_ASSIGN_OR_RETURN

}  // namespace

Result<ClusterConfig> ParseClusterConfig(std::string_view yaml, std::string_view source_name) {
  ParseState state{YamlReader(source_name), {}, {}};
  if (yaml.size() > kConfigBytesMax) {
    return state.reader.ErrorAt(
        1, "", "file is larger than " + std::to_string(kConfigBytesMax) + " bytes");
  }
  try {
    const YAML::Node root = YAML::Load(std::string(yaml));
    return ParseRoot(state, root);
  } catch (const YAML::Exception& e) {
    const int line = e.mark.is_null() ? 1 : e.mark.line + 1;
    return state.reader.ErrorAt(line, "", "invalid YAML: " + e.msg);
  } catch (const std::exception& e) {
    return state.reader.ErrorAt(1, "", std::string("invalid config: ") + e.what());
  } catch (...) {
    return state.reader.ErrorAt(1, "", "invalid config");
  }
}

}  // namespace meridian
