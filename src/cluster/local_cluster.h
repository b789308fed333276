// Free loopback ports for clusters started on this machine by tools and tests: a base
// ClusterConfig with every listener moved to a free 127.0.0.1 port, so `meridian lab run`, its
// CTest and the integration tests can run beside a `meridian demo` or each other.
//
// Contract:
//  1. PickFreePorts returns `count` distinct ports that the kernel handed out for 127.0.0.1:0 and
//     that were released just before returning (another process may still take one: a window
//     this machine-local tool accepts).
//  2. PickWanBasePort returns a base in [20000, 30000) such that every port of
//     [base, base + kWanPortSpan) could be bound on 127.0.0.1 and none is in `avoid`, or
//     Unavailable after a bounded number of tries.
//  3. RelocateClusterConfig keeps the regions, topology and links of `base`, and changes only
//     addresses: every region's http, replication, resp and admin (if any), the WAN admin and
//     base_port, the router's http and resp (if any).
//  4. OffsetClusterPorts moves every port of `base` (the same listeners as 3) up by `offset`,
//     hosts unchanged, or InvalidArgument naming the first port that would pass 65535.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "config/cluster_config.h"

namespace meridian {

std::vector<uint16_t> PickFreePorts(size_t count);

// `seed` varies the first candidate (e.g. the pid), so concurrent labs start apart.
Result<uint16_t> PickWanBasePort(const std::vector<uint16_t>& avoid, uint64_t seed);
// As PickWanBasePort, for a block of `span` (1..kWanPortSpan) ports: a sliced region's listeners
// take their port + slice, so tests lay them out in such a block.
Result<uint16_t> PickFreePortBlock(int span, const std::vector<uint16_t>& avoid, uint64_t seed);

struct RelocatedCluster {
  ClusterConfig config;
  std::string control;  // "127.0.0.1:port" for the DemoSupervisor's control API
};

Result<RelocatedCluster> RelocateClusterConfig(const ClusterConfig& base, uint64_t seed);

// `meridian demo --port-offset`: a second cluster beside the first without editing YAML.
// REQUIRES: offset >= 0.
Result<ClusterConfig> OffsetClusterPorts(const ClusterConfig& base, int offset);

// "host:port" moved up by `offset`, or InvalidArgument naming `what` past 65535.
Result<HostPort> OffsetPort(const HostPort& address, int offset, const std::string& what);

}  // namespace meridian
