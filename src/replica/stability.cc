#include "replica/stability.h"

namespace meridian {

StabilityTracker::StabilityTracker(RegionId self, RegionId region_count)
    : self_(self), region_count_(region_count) {
  MERIDIAN_ASSERT(self < region_count && region_count <= kMaxRegions);
}

void StabilityTracker::OnReport(RegionId region, const VersionVector& reported,
                                const VersionVector& applied) {
  MERIDIAN_ASSERT(region < region_count_);
  if (region == self_ || known_[region].Dominates(reported)) return;
  known_[region].Merge(reported);
  if (!pending_[region]) pending_[region] = known_[region];
  Promote(region, applied);
  Recompute(applied);
}

void StabilityTracker::OnApplied(const VersionVector& applied) {
  known_[self_] = applied;
  effective_[self_] = applied;
  for (RegionId r = 0; r < region_count_; ++r) {
    if (r != self_) Promote(r, applied);
  }
  Recompute(applied);
}

void StabilityTracker::Promote(RegionId region, const VersionVector& applied) {
  auto& pending = pending_[region];
  if (!pending || applied.Get(region) < pending->Get(region)) return;
  effective_[region].Merge(*pending);
  // The next report in line is the freshest one known; it waits its turn the same way.
  pending = known_[region].Dominates(effective_[region]) && !(known_[region] == effective_[region])
                ? std::optional<VersionVector>(known_[region])
                : std::nullopt;
  if (pending && applied.Get(region) >= pending->Get(region)) {
    effective_[region].Merge(*pending);
    pending.reset();
  }
}

void StabilityTracker::Recompute(const VersionVector& applied) {
  VersionVector next = applied;
  for (RegionId r = 0; r < region_count_; ++r)
    next = VersionVector::Min(next, effective_[r]);
  // Monotone by construction (effective reports only grow); merging keeps that explicit.
  stable_.Merge(next);
  MERIDIAN_ASSERT(applied.Dominates(stable_));
}

std::vector<RegionId> StabilityTracker::HoldingBack(const VersionVector& applied) const {
  std::vector<RegionId> out;
  for (RegionId r = 0; r < region_count_; ++r) {
    if (r != self_ && !effective_[r].Dominates(applied)) out.push_back(r);
  }
  return out;
}

}  // namespace meridian
