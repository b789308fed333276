#include "tools/wan/wan_metrics.h"

#include <algorithm>

#include "obs/metrics.h"

namespace meridian::wan {

std::string RenderWanMetrics(const std::vector<ProxyInfo>& proxies) {
  MetricsRegistry registry;
  CounterFamily& bytes =
      registry.AddCounter("meridian_wan_bytes_forwarded_total",
                          "Bytes a link delivered, by direction.", {"link", "direction"});
  CounterFamily& chunks = registry.AddCounter(
      "meridian_wan_chunks_forwarded_total",
      "Chunks a link delivered (one per read on its source), by direction.", {"link", "direction"});
  CounterFamily& dropped =
      registry.AddCounter("meridian_wan_bytes_dropped_total",
                          "Bytes the emulator dropped on purpose: a timeout toxic, or a cut link.",
                          {"link", "direction", "reason"});
  GaugeFamily& delay = registry.AddGauge("meridian_wan_delay_seconds",
                                         "Latency added per direction (matrix and extra toxics).",
                                         {"link", "direction"});
  GaugeFamily& jitter =
      registry.AddGauge("meridian_wan_jitter_seconds",
                        "Jitter of the added latency, per direction.", {"link", "direction"});
  GaugeFamily& bandwidth = registry.AddGauge(
      "meridian_wan_bandwidth_limit_bytes_per_second",
      "The bandwidth toxic's limit per direction; 0 when unlimited.", {"link", "direction"});
  GaugeFamily& blackholed = registry.AddGauge(
      "meridian_wan_blackholed", "1 while a timeout toxic drops the direction's bytes.",
      {"link", "direction"});
  GaugeFamily& enabled = registry.AddGauge("meridian_wan_link_enabled",
                                           "0 while the link is cut (a partition).", {"link"});
  Gauge& partitions = registry.AddGauge("meridian_wan_partitions_active", "Links cut now.").Get();
  GaugeFamily& connections =
      registry.AddGauge("meridian_wan_connections", "Open connections per link.", {"link"});

  double cut = 0;
  for (const ProxyInfo& proxy : proxies) {
    enabled.WithLabels({proxy.name}).Set(proxy.enabled ? 1 : 0);
    cut += proxy.enabled ? 0 : 1;
    connections.WithLabels({proxy.name}).Set(static_cast<double>(proxy.connections));
    for (ToxicStream stream : {ToxicStream::kUpstream, ToxicStream::kDownstream}) {
      const auto d = static_cast<size_t>(stream);
      const std::vector<std::string> labels = {proxy.name, std::string(ToxicStreamName(stream))};
      bytes.WithLabels(labels).Increment(static_cast<double>(proxy.traffic.bytes_forwarded[d]));
      chunks.WithLabels(labels).Increment(static_cast<double>(proxy.traffic.chunks_forwarded[d]));
      dropped.WithLabels({labels[0], labels[1], "timeout"})
          .Increment(static_cast<double>(proxy.traffic.bytes_dropped_timeout[d]));
      dropped.WithLabels({labels[0], labels[1], "partition"})
          .Increment(static_cast<double>(proxy.traffic.bytes_dropped_partition[d]));
      int64_t latency_ms = 0, jitter_ms = 0, rate_kbps = 0;
      bool timeout = false;
      for (const Toxic& toxic : proxy.toxics) {
        if (toxic.stream != stream) continue;
        if (toxic.type == ToxicType::kLatency) {
          latency_ms += toxic.latency_ms;
          jitter_ms += toxic.jitter_ms;
        } else if (toxic.type == ToxicType::kBandwidth && toxic.rate_kbps > 0) {
          rate_kbps = rate_kbps == 0 ? toxic.rate_kbps : std::min(rate_kbps, toxic.rate_kbps);
        } else if (toxic.type == ToxicType::kTimeout) {
          timeout = true;
        }
      }
      delay.WithLabels(labels).Set(static_cast<double>(latency_ms) / 1000.0);
      jitter.WithLabels(labels).Set(static_cast<double>(jitter_ms) / 1000.0);
      bandwidth.WithLabels(labels).Set(static_cast<double>(rate_kbps) * 1000.0);  // 1 KB = 1000 B
      blackholed.WithLabels(labels).Set(timeout ? 1 : 0);
    }
  }
  partitions.Set(cut);
  return registry.Render();
}

}  // namespace meridian::wan
