#include "cluster/local_cluster.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "base/assert.h"

namespace meridian {

namespace {

// Bound tries at a WAN block: each try binds up to kWanPortSpan sockets; past this many busy
// blocks the machine is crowded enough that failing loudly is better than hunting.
constexpr int kWanBaseTriesMax = 50;
constexpr uint32_t kWanBaseLow = 20000;
constexpr uint32_t kWanBaseRange = 10000 - kWanPortSpan;

int BindLoopback(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool BlockIsFree(uint16_t base, int span, const std::set<uint16_t>& avoid) {
  std::vector<int> fds;
  bool free = true;
  for (int i = 0; i < span && free; ++i) {
    const auto port = static_cast<uint16_t>(base + i);
    if (avoid.count(port) > 0) {
      free = false;
      break;
    }
    const int fd = BindLoopback(port);
    if (fd < 0)
      free = false;
    else
      fds.push_back(fd);
  }
  for (int fd : fds)
    ::close(fd);
  return free;
}

}  // namespace

std::vector<uint16_t> PickFreePorts(size_t count) {
  std::vector<int> fds;
  std::vector<uint16_t> ports;
  std::set<uint16_t> seen;
  while (ports.size() < count) {
    const int fd = BindLoopback(0);
    MERIDIAN_ASSERT(fd >= 0);
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    MERIDIAN_ASSERT(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    fds.push_back(fd);  // held open until all are picked, so the kernel never repeats one
    const uint16_t port = ntohs(addr.sin_port);
    if (seen.insert(port).second) ports.push_back(port);
  }
  for (int fd : fds)
    ::close(fd);
  return ports;
}

Result<uint16_t> PickFreePortBlock(int span, const std::vector<uint16_t>& avoid, uint64_t seed) {
  MERIDIAN_ASSERT(span >= 1 && span <= kWanPortSpan);
  const std::set<uint16_t> avoided(avoid.begin(), avoid.end());
  uint64_t candidate = seed;
  for (int attempt = 0; attempt < kWanBaseTriesMax; ++attempt) {
    const auto base = static_cast<uint16_t>(kWanBaseLow + candidate % kWanBaseRange);
    if (BlockIsFree(base, span, avoided)) return base;
    candidate = candidate * 6364136223846793005ULL + 1442695040888963407ULL;  // next LCG step
  }
  return Unavailable("no free block of " + std::to_string(span) + " ports in [20000, 30000)");
}

Result<uint16_t> PickWanBasePort(const std::vector<uint16_t>& avoid, uint64_t seed) {
  return PickFreePortBlock(kWanPortSpan, avoid, seed);
}

Result<RelocatedCluster> RelocateClusterConfig(const ClusterConfig& base, uint64_t seed) {
  RelocatedCluster out;
  out.config = base;
  ClusterConfig& config = out.config;
  const std::vector<uint16_t> ports = PickFreePorts(4 * config.regions.size() + 4);
  size_t next = 0;
  for (RegionConfig& region : config.regions) {
    region.http = {"127.0.0.1", ports[next++]};
    region.replication = {"127.0.0.1", ports[next++]};
    const uint16_t resp = ports[next++];  // taken either way, so the layout stays simple
    if (region.resp) region.resp = HostPort{"127.0.0.1", resp};
    const uint16_t admin = ports[next++];
    if (region.admin) region.admin = HostPort{"127.0.0.1", admin};
  }
  config.wan.admin = {"127.0.0.1", ports[next++]};
  config.wan.proxy_host = "127.0.0.1";
  config.router.http = {"127.0.0.1", ports[next++]};
  const uint16_t router_resp = ports[next++];
  if (config.router.resp) config.router.resp = HostPort{"127.0.0.1", router_resp};
  out.control = "127.0.0.1:" + std::to_string(ports[next++]);
  auto wan_base = PickWanBasePort(ports, seed);
  if (!wan_base.ok()) return wan_base.status();
  config.wan.base_port = *wan_base;
  // Round trip through the parser: its invariants (distinct listeners) hold for what we start.
  auto checked = ParseClusterConfig(FormatClusterConfig(config), "lab cluster config");
  if (!checked.ok()) return checked.status();
  return out;
}

Result<HostPort> OffsetPort(const HostPort& address, int offset, const std::string& what) {
  MERIDIAN_ASSERT(offset >= 0);
  const int port = address.port + offset;
  if (port > 65535) {
    return InvalidArgument("--port-offset " + std::to_string(offset) + " moves " + what + " (" +
                           address.ToString() + ") past port 65535");
  }
  return HostPort{address.host, static_cast<uint16_t>(port)};
}

Result<ClusterConfig> OffsetClusterPorts(const ClusterConfig& base, int offset) {
  ClusterConfig config = base;
  auto shift = [offset](HostPort& address, const std::string& what) -> Status {
    Result<HostPort> moved = OffsetPort(address, offset, what);
    if (!moved.ok()) return moved.status();
    address = *moved;
    return Status::Ok();
  };
  for (RegionConfig& region : config.regions) {
    MERIDIAN_RETURN_IF_ERROR(shift(region.http, "region " + region.name + "'s http"));
    MERIDIAN_RETURN_IF_ERROR(shift(region.replication, "region " + region.name + "'s replication"));
    if (region.resp) {
      MERIDIAN_RETURN_IF_ERROR(shift(*region.resp, "region " + region.name + "'s resp"));
    }
    if (region.admin) {
      MERIDIAN_RETURN_IF_ERROR(shift(*region.admin, "region " + region.name + "'s admin"));
    }
  }
  MERIDIAN_RETURN_IF_ERROR(shift(config.wan.admin, "the WAN admin API"));
  MERIDIAN_RETURN_IF_ERROR(shift(config.router.http, "the router"));
  if (config.router.resp) {
    MERIDIAN_RETURN_IF_ERROR(shift(*config.router.resp, "the router's resp"));
  }
  // The emulator's proxies take kWanPortSpan ports from base_port (WanProxyLayout).
  if (config.wan.base_port + offset + kWanPortSpan - 1 > 65535) {
    return InvalidArgument("--port-offset " + std::to_string(offset) +
                           " moves the WAN emulator's proxy ports (from " +
                           std::to_string(config.wan.base_port) + ", " +
                           std::to_string(kWanPortSpan) + " of them) past port 65535");
  }
  config.wan.base_port = static_cast<uint16_t>(config.wan.base_port + offset);
  auto checked = ParseClusterConfig(FormatClusterConfig(config), "offset cluster config");
  if (!checked.ok()) return checked.status();
  return config;
}

}  // namespace meridian
