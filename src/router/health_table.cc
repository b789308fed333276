#include "router/health_table.h"

#include <algorithm>
#include <utility>

#include "base/assert.h"

namespace meridian::router {

HealthTable::HealthTable(size_t region_count, double rtt_ewma_alpha)
    : region_count_(region_count),
      rtt_ewma_alpha_(rtt_ewma_alpha),
      paths_(region_count * region_count) {
  MERIDIAN_ASSERT(region_count >= 1 && region_count <= kMaxRegions);
  MERIDIAN_ASSERT(rtt_ewma_alpha > 0 && rtt_ewma_alpha <= 1);
}

PathHealth& HealthTable::MutablePath(RegionId location, RegionId region) {
  MERIDIAN_ASSERT(location < region_count_ && region < region_count_);
  return paths_[location * region_count_ + region];
}

const PathHealth& HealthTable::path(RegionId location, RegionId region) const {
  MERIDIAN_ASSERT(location < region_count_ && region < region_count_);
  return paths_[location * region_count_ + region];
}

HealthEvent HealthTable::OnProbeAnswered(RegionId location, RegionId region, int64_t started_us,
                                         int64_t now_us, std::string_view status) {
  MERIDIAN_ASSERT(started_us <= now_us);
  PathHealth& path = MutablePath(location, region);
  path.probed = true;
  path.status = std::string(status);
  const double sample_ms = static_cast<double>(now_us - started_us) / 1000.0;
  path.rtt_ms =
      path.rtt_ms ? rtt_ewma_alpha_ * sample_ms + (1 - rtt_ewma_alpha_) * *path.rtt_ms : sample_ms;
  // Invariant 1 (and 5): an answer to a probe sent before the last failure says nothing about now.
  const bool current = !path.last_failure_us || started_us >= *path.last_failure_us;
  if (current) path.answering = true;
  if (status != kStatusOk) {
    path.last_error = "status " + std::string(status);
    if (!path.healthy) return {};
    path.healthy = false;
    return HealthEvent{HealthChange::kDown, false, std::nullopt};
  }
  if (!current) return {};
  path.last_good_probe_us = now_us;
  if (path.healthy) return {};
  path.healthy = true;
  return HealthEvent{HealthChange::kUp, false, std::nullopt};
}

HealthEvent HealthTable::OnProbeFailed(RegionId location, RegionId region, int64_t now_us,
                                       std::string error) {
  PathHealth& path = MutablePath(location, region);
  path.probed = true;
  ++path.probes_failed;
  return MarkFailed(path, now_us, std::move(error));
}

HealthEvent HealthTable::OnForwardFailed(RegionId location, RegionId region, int64_t now_us,
                                         std::string error) {
  PathHealth& path = MutablePath(location, region);
  ++path.forwards_failed;
  return MarkFailed(path, now_us, std::move(error));
}

HealthEvent HealthTable::MarkFailed(PathHealth& path, int64_t now_us, std::string error) {
  path.last_error = std::move(error);
  path.answering = false;
  path.last_failure_us = std::max(now_us, path.last_failure_us.value_or(now_us));
  if (!path.healthy) return {};
  path.healthy = false;
  HealthEvent event{HealthChange::kDown, true, std::nullopt};
  if (path.last_good_probe_us) {
    event.detection_us = std::max<int64_t>(0, now_us - *path.last_good_probe_us);
  }
  return event;
}

std::vector<RegionId> HealthTable::Rank(RegionId location) const {
  MERIDIAN_ASSERT(location < region_count_);
  std::vector<RegionId> healthy;
  for (RegionId region = 0; region < region_count_; ++region) {
    if (path(location, region).healthy) healthy.push_back(region);
  }
  // A healthy path has answered a probe (invariant 1), so it has an RTT.
  std::stable_sort(healthy.begin(), healthy.end(), [&](RegionId a, RegionId b) {
    return *path(location, a).rtt_ms < *path(location, b).rtt_ms;
  });
  return healthy;
}

std::optional<RegionId> HealthTable::ChooseNext(RegionId location,
                                                const std::vector<RegionId>& tried) const {
  for (RegionId region : Rank(location)) {
    if (std::find(tried.begin(), tried.end(), region) == tried.end()) return region;
  }
  return std::nullopt;
}

std::optional<RegionId> HealthTable::ChooseCatchingUp(RegionId location,
                                                      const std::vector<RegionId>& tried) const {
  std::optional<RegionId> best;
  for (RegionId region = 0; region < region_count_; ++region) {
    const PathHealth& p = path(location, region);
    if (p.healthy || !p.answering || p.status != kStatusCatchingUp) continue;
    if (std::find(tried.begin(), tried.end(), region) != tried.end()) continue;
    // An answering path has answered a probe, so it has an RTT.
    if (!best || *p.rtt_ms < *path(location, *best).rtt_ms) best = region;
  }
  return best;
}

bool HealthTable::AllProbed() const {
  return std::all_of(paths_.begin(), paths_.end(), [](const PathHealth& p) { return p.probed; });
}

}  // namespace meridian::router
