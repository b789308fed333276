// WanMetrics: the WAN emulator's /metrics (Prometheus text format, via obs/metrics.h's
// registry), served by its admin API so the demo's Prometheus scrapes what the links carried
// and how they were impaired.
//
// Families (link = proxy name, e.g. "us->eu" or "client-us->eu"; direction = "upstream", the
// dialer's bytes towards the region it dials, or "downstream", as toxiproxy names them):
//   meridian_wan_bytes_forwarded_total{link, direction}        bytes written to the far side
//   meridian_wan_chunks_forwarded_total{link, direction}       chunks written (one per read: the
//                                                              emulator forwards bytes, it does
//                                                              not see messages)
//   meridian_wan_bytes_dropped_total{link, direction, reason}  reason "timeout" (a timeout toxic
//                                                              swallows the stream) or
//                                                              "partition" (queued or read while
//                                                              the link was cut)
//   meridian_wan_delay_seconds{link, direction}                the latency toxics' sum (the
//                                                              config's matrix included)
//   meridian_wan_jitter_seconds{link, direction}               their jitter, summed
//   meridian_wan_bandwidth_limit_bytes_per_second{link, direction}  0: unlimited
//   meridian_wan_blackholed{link, direction}                   1 while a timeout toxic drops it
//   meridian_wan_link_enabled{link}                            0 while the link is cut
//   meridian_wan_partitions_active                             links cut now
//   meridian_wan_connections{link}                             open connections
// The emulator has no random loss: a direction either delivers every byte, late, or (timeout
// toxic, cut link) none.
//
// A pure function of the proxies' state: every scrape renders a fresh registry from it, so the
// hot path only adds to LinkTraffic's atomics.
#pragma once

#include <string>
#include <vector>

#include "tools/wan/proxy_server.h"

namespace meridian::wan {

std::string RenderWanMetrics(const std::vector<ProxyInfo>& proxies);

}  // namespace meridian::wan
