// ClusterConfig: the one cluster description every `meridian` subcommand reads (deploy/local.yaml).
//
// It names the regions, their ports and data directories, the replication topology, the WAN
// latency matrix, and where the WAN emulator and the router listen. It is parsed once, at the
// edge, into plain structs; nothing here opens sockets or files except LoadClusterConfig.
//
// Invariants of a ClusterConfig returned by Parse/LoadClusterConfig:
//  1. 1 <= regions.size() <= kMaxRegions; a region's index is its RegionId, and that order is the
//     LWW tiebreak order, so every process must read the same file.
//  2. Region names are unique, non-empty, [a-z0-9_-]; data_dirs are unique.
//  3. links holds exactly one entry per unordered pair of distinct regions, with a < b and
//     0 <= jitter_ms <= rtt_ms.
//  4. No two listeners (region http / replication / resp, wan admin, router http / resp, every WAN
//     proxy) share a non-zero port. Port 0 means "ephemeral" and is only useful in tests.
//  5. topology == kHub iff hub is set, and hub names a region.
//  6. When router.resp is set, every region has a resp listener.
//  7. tls, when present, is either plaintext (nothing else set) or names a non-empty dir.
//  8. residency rules have non-empty prefixes, a known class or none, at least one region, and no
//     two share prefix and class.
//  9. 1 <= slices <= kMaxSlices. With slices > 1, slice i of a region listens on each of the
//     region's ports + i (docs/slices.md), and invariant 4 covers those ports too.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/ids.h"
#include "base/status.h"
#include "base/topology.h"

namespace meridian {

struct HostPort {
  std::string host;  // IPv4 literal, hostname, or IPv6 literal without brackets
  uint16_t port = 0;

  // "127.0.0.1:7101", "[::1]:7101".
  std::string ToString() const;
  bool operator==(const HostPort&) const = default;
};

// Parses "host:port" or "[v6]:port". Returns InvalidArgument naming what is wrong.
Result<HostPort> ParseHostPort(std::string_view text);

struct RegionConfig {
  std::string name;      // "us"
  HostPort http;         // client HTTP API
  HostPort replication;  // gRPC replication listener
  std::string data_dir;  // RocksDB directory, relative to the working directory
  // The Redis protocol listener (RESP2/RESP3), when the config names one.
  std::optional<HostPort> resp;
  // The admin listener (/admin/*: clock skew, backups; admin key required), when the config
  // names one; without it those routes are reachable nowhere. Loopback in every shipped config.
  std::optional<HostPort> admin;
};

std::string_view TopologyName(Topology topology);

struct LinkConfig {
  RegionId a = 0;  // a < b
  RegionId b = 0;
  int64_t rtt_ms = 0;
  int64_t jitter_ms = 0;  // the RTT varies within rtt_ms +- jitter_ms (see WanProxy)
};

struct WanConfig {
  HostPort admin;          // toxiproxy-shaped admin API
  uint16_t base_port = 0;  // proxy ports are derived from it (see WanProxyLayout)
  std::string proxy_host;  // proxies listen here; defaults to admin.host
  int threads = 1;         // emulator I/O threads
  uint64_t seed = 1;       // jitter is drawn from a Random seeded with this
};

struct RouterConfig {
  HostPort http;
  int64_t health_interval_ms = 500;  // how often the router probes each region's /healthz
  // The router's Redis protocol listener (docs/resp.md), when the config names one. It forwards
  // to the regions' `resp` listeners, so every region must then name one.
  std::optional<HostPort> resp;
};

// Client authentication (docs/security.md). Absent from a config: authentication is off and
// every process logs a warning at start.
struct AuthConfig {
  std::string keys_file;  // the hashed API keys (auth/key_store.h), relative to the working dir
  // A file holding the plain key the router's RESP upstream connections AUTH with (a key with
  // data grants for every class); empty: the router's RESP front end cannot reach regions.
  std::string router_key_file;
  bool operator==(const AuthConfig&) const = default;
};

// The optional `tls:` section. Absent: a process needs an explicit --plaintext to start.
//   tls:
//     dir: certs        # the layout of src/tls/cert_files.h: ca.pem, region-NAME.pem/.key, ...
//     client: true      # also TLS on the regions' client listeners (HTTP, RESP); default false
// or, to say in the file that links are plaintext on purpose:
//   tls:
//     plaintext: true
struct TlsConfig {
  std::string dir;  // relative to the working directory, like data_dir; empty iff plaintext
  bool client = false;
  bool plaintext = false;
  bool operator==(const TlsConfig&) const = default;
};

// One rule of the optional `residency:` section (docs/residency.md):
//   residency:
//     - prefix: "gdpr:"     # keys starting with it
//       regions: [eu, eu2]  # may be held by these regions only
//       class: profile      # optional: only keys of this class (default: every class)
struct ResidencyRuleConfig {
  std::string prefix;
  std::string data_class;  // "" (every class), "profile", "counter", "tags", "register", "handle"
  std::vector<RegionId> regions;  // ascending, unique
  bool operator==(const ResidencyRuleConfig&) const = default;
};

// The optional `subjects:` section (docs/residency.md, erasure):
//   subjects:
//     patterns: ["user:{subject}:"]  # keys naming a subject; its values are sealed under its key
//     master_key_dir: keys           # region NAME's master key: <dir>/NAME.master.key (32 bytes,
//                                    # made at the region's first start when missing)
struct SubjectsConfig {
  std::vector<std::string> patterns;  // each valid for ParseSubjectPattern, unique
  std::string master_key_dir;         // relative to the working directory, like data_dir
  bool operator==(const SubjectsConfig&) const = default;
};

struct ClusterConfig {
  std::vector<RegionConfig> regions;
  // Event loops per region, each owning a hash slice of the keys (base/hash_slot.h); every
  // region of the cluster has as many. The optional top-level `slices:` (default 1).
  uint32_t slices = 1;
  Topology topology = Topology::kMesh;
  std::optional<RegionId> hub;
  std::vector<LinkConfig> links;
  WanConfig wan;
  RouterConfig router;
  std::optional<AuthConfig> auth;
  std::optional<TlsConfig> tls;
  std::vector<ResidencyRuleConfig> residency;
  std::optional<SubjectsConfig> subjects;

  // The id of the region called `name`, or nullopt.
  std::optional<RegionId> RegionIdByName(std::string_view name) const;
  // "us, eu, ap": the region names in id order, for error messages.
  std::string RegionNames() const;
  // REQUIRES: a != b, both valid ids. Returns the matrix entry for the unordered pair.
  const LinkConfig& LinkBetween(RegionId a, RegionId b) const;
  // True when the topology lets a and b replicate directly. REQUIRES: valid ids.
  bool ReplicatesDirectly(RegionId a, RegionId b) const;
  // The regions `a` replicates with directly, in id order.
  std::vector<RegionId> Peers(RegionId a) const;
};

// Parses YAML text. `source_name` prefixes every error ("deploy/local.yaml:14: links[1].rtt_ms:
// must be a non-negative integer"). Never throws; every problem is an InvalidArgument.
Result<ClusterConfig> ParseClusterConfig(std::string_view yaml, std::string_view source_name);

// The YAML text of `config`, which ParseClusterConfig reads back as an equal config. Used to hand
// a derived config (a subset of regions, another topology, data under a demo's directory) to the
// processes a supervisor starts.
std::string FormatClusterConfig(const ClusterConfig& config);

// A copy of `config` with only the regions named in `names` (in the order of `config`), their
// links, and `topology` (hub: the first region kept, when the config's hub is not among them).
// A residency rule keeps its regions that remain. InvalidArgument naming an unknown region, when
// fewer than one remains, or when a residency rule would keep none of its regions.
Result<ClusterConfig> SubsetClusterConfig(const ClusterConfig& config,
                                          const std::vector<std::string>& names, Topology topology);

// Reads and parses the file at `path` (NotFound if it cannot be read).
Result<ClusterConfig> LoadClusterConfig(const std::string& path);

// --- WAN proxy layout ---------------------------------------------------------------------------
//
// Every inter-region byte passes through a `meridian wan` proxy, so the emulator and every dialer
// must agree on the proxy ports without talking to each other. They are derived from base_port:
//   replication proxy "A->B":         base_port +       10*A + B   (A dials it to reach B)
//   client proxy "client-X->Y":       base_port + 100 + 10*X + Y   (router in X reaches region Y)
// with A != B and X != Y, so kWanPortSpan ports from base_port are reserved.

inline constexpr int kWanClientPortOffset = 100;
inline constexpr int kWanPortSpan = kWanClientPortOffset + 10 * (kMaxRegions - 1) + kMaxRegions;

enum class ProxyKind { kReplication, kClient };

struct WanProxy {
  std::string name;  // "us->eu", "client-us->eu"
  ProxyKind kind = ProxyKind::kReplication;
  RegionId from = 0;  // the dialing region, or the client location
  RegionId to = 0;    // the region reached
  HostPort listen;
  HostPort upstream;  // to's replication address, or to's http address
  int64_t rtt_ms = 0;
  // Each direction adds rtt_ms/2 plus a uniform draw in [-jitter_ms/2, +jitter_ms/2].
  int64_t jitter_ms = 0;
};

// All proxies: replication ones for every ordered pair (by from, then to), then client ones.
// Replication proxies exist for every pair whatever the topology, so chaos can cut any link.
std::vector<WanProxy> WanProxyLayout(const ClusterConfig& config);

// Where region `from` dials to reach region `to`'s replication listener (the proxy's listen
// address). REQUIRES: from != to, both valid.
HostPort ReplicationDialAddress(const ClusterConfig& config, RegionId from, RegionId to);

// Where a router located in region `location` dials to reach region `to`'s HTTP API: the client
// proxy, or `to`'s own address when location == to (intra-region calls stay fast).
HostPort ClientDialAddress(const ClusterConfig& config, RegionId location, RegionId to);

}  // namespace meridian
