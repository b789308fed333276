#include "tools/status/status_report.h"

#include <cstdio>
#include <sstream>

#include "tools/status/metrics_text.h"

namespace meridian {

namespace {

using Json = nlohmann::json;

// The p99 in ms of histogram `name` over the label sets `keep` accepts: since `before` when
// that is usable (invariant 2).
std::optional<double> P99Ms(const std::vector<MetricSample>& now,
                            const std::vector<MetricSample>* before, const std::string& name,
                            const std::function<bool(const MetricLabels&)>& keep) {
  Result<BucketCounts> after = MergeHistogram(now, name, keep);
  if (!after.ok()) return std::nullopt;
  BucketCounts counts = *after;
  if (before != nullptr) {
    Result<BucketCounts> earlier = MergeHistogram(*before, name, keep);
    if (earlier.ok()) {
      Result<BucketCounts> delta = SubtractBuckets(*after, *earlier);
      if (delta.ok()) counts = *std::move(delta);  // else the region restarted: its lifetime
    }
  }
  std::optional<double> seconds = BucketQuantile(counts, 0.99);
  if (!seconds) return std::nullopt;
  return *seconds * 1000.0;
}

std::string Ms(const std::optional<double>& ms) {
  if (!ms) return "-";
  char text[32];
  std::snprintf(text, sizeof text, "%.1f ms", *ms);
  return text;
}

std::string Number(const std::optional<double>& value) {
  if (!value) return "-";
  char text[32];
  std::snprintf(text, sizeof text, "%.0f", *value);
  return text;
}

std::string Pad(const std::string& text, size_t width) {
  return text.size() >= width ? text + " " : text + std::string(width - text.size(), ' ');
}

Json Optional(const std::optional<double>& value) {
  return value ? Json(*value) : Json();
}

}  // namespace

RegionStatus SummarizeRegion(const RegionScrape& now, const RegionScrape* before) {
  RegionStatus out;
  out.name = now.name;
  out.http = now.http;
  out.health = "down";
  if (!now.healthz) return out;
  const Json health = Json::parse(*now.healthz, nullptr, /*allow_exceptions=*/false);
  if (!health.is_object() || !health.contains("status") || !health["status"].is_string()) {
    out.health = "unknown";
    out.error = "/healthz answered no status";
    return out;
  }
  out.health = health["status"].get<std::string>();
  if (health.contains("peers") && health["peers"].is_array()) {
    for (const Json& p : health["peers"]) {
      LinkStatus link;
      link.peer = p.value("region", "");
      link.connected = p.value("connected", false);
      if (p.contains("backlog_ops") && p["backlog_ops"].is_number())
        link.backlog_ops = p["backlog_ops"].get<double>();
      if (p.contains("clock_offset_ms") && p["clock_offset_ms"].is_number())
        link.clock_offset_ms = p["clock_offset_ms"].get<double>();
      out.peers_total += 1;
      out.peers_up += link.connected ? 1 : 0;
      out.links.push_back(std::move(link));
    }
  }
  if (!now.metrics) {
    out.error = "/metrics did not answer";
    return out;
  }
  Result<std::vector<MetricSample>> samples = ParseMetricsText(*now.metrics);
  if (!samples.ok()) {
    out.error = samples.status().message();
    return out;
  }
  std::optional<std::vector<MetricSample>> earlier;
  if (before != nullptr && before->metrics) {
    Result<std::vector<MetricSample>> parsed = ParseMetricsText(*before->metrics);
    if (parsed.ok()) earlier = *std::move(parsed);
  }
  const std::vector<MetricSample>* prior = earlier ? &*earlier : nullptr;
  const std::string latency = "meridian_http_request_duration_seconds";
  auto op_is = [](const char* op) {
    return [op](const MetricLabels& l) { return l.count("op") != 0 && l.at("op") == op; };
  };
  out.read_p99_ms = P99Ms(*samples, prior, latency, op_is("read"));
  out.write_p99_ms = P99Ms(*samples, prior, latency, op_is("write"));
  for (LinkStatus& link : out.links) {
    const std::string peer = link.peer;
    link.lag_p99_ms = P99Ms(
        *samples, prior, "meridian_replication_lag_seconds",
        [&](const MetricLabels& l) { return l.count("origin") != 0 && l.at("origin") == peer; });
  }
  return out;
}

std::map<std::string, bool> RouterHealthy(const std::string& router_metrics) {
  std::map<std::string, bool> out;
  Result<std::vector<MetricSample>> samples = ParseMetricsText(router_metrics);
  if (!samples.ok()) return out;
  for (const MetricSample& s : *samples) {
    if (s.name == "meridian_router_region_healthy" && s.labels.count("region") != 0) {
      out[s.labels.at("region")] = s.value == 1;
    }
  }
  return out;
}

std::string RenderStatusText(const ClusterStatus& status) {
  std::ostringstream out;
  if (!status.router.empty()) {
    out << "router " << status.router << "  " << (status.router_up ? "up" : "DOWN") << "\n\n";
  }
  for (const RegionStatus& r : status.regions) {
    out << "region " << r.name << "  " << r.http << "  "
        << (r.health == "down" ? "DOWN" : r.health);
    if (r.health != "down") {
      out << "  peers up " << r.peers_up << "/" << r.peers_total << "  read p99 "
          << Ms(r.read_p99_ms) << "  write p99 " << Ms(r.write_p99_ms);
    }
    if (r.router_healthy) out << "  router sees it " << (*r.router_healthy ? "healthy" : "DOWN");
    out << "\n";
    if (!r.error.empty()) out << "  (" << r.error << ")\n";
    if (r.links.empty()) {
      out << "\n";
      continue;
    }
    out << "  " << Pad("peer", 8) << Pad("stream", 8) << Pad("lag p99 (from)", 16)
        << Pad("backlog (to)", 14) << "clock offset\n";
    for (const LinkStatus& l : r.links) {
      out << "  " << Pad(l.peer, 8) << Pad(l.connected ? "up" : "DOWN", 8)
          << Pad(Ms(l.lag_p99_ms), 16) << Pad(Number(l.backlog_ops), 14) << Ms(l.clock_offset_ms)
          << "\n";
    }
    out << "\n";
  }
  return out.str();
}

Json StatusJson(const ClusterStatus& status) {
  Json regions = Json::array();
  for (const RegionStatus& r : status.regions) {
    Json links = Json::array();
    for (const LinkStatus& l : r.links) {
      links.push_back({{"peer", l.peer},
                       {"connected", l.connected},
                       {"lag_p99_ms", Optional(l.lag_p99_ms)},
                       {"backlog_ops", Optional(l.backlog_ops)},
                       {"clock_offset_ms", Optional(l.clock_offset_ms)}});
    }
    Json region{{"name", r.name},
                {"http", r.http},
                {"health", r.health},
                {"peers_up", r.peers_up},
                {"peers_total", r.peers_total},
                {"read_p99_ms", Optional(r.read_p99_ms)},
                {"write_p99_ms", Optional(r.write_p99_ms)},
                {"links", std::move(links)}};
    if (r.router_healthy) region["router_healthy"] = *r.router_healthy;
    if (!r.error.empty()) region["error"] = r.error;
    regions.push_back(std::move(region));
  }
  Json out{{"regions", std::move(regions)}};
  if (!status.router.empty()) out["router"] = {{"http", status.router}, {"up", status.router_up}};
  return out;
}

}  // namespace meridian
