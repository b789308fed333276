// StabilityTracker: which ops every region has applied, as far as this region can prove, so that
// tombstones and idempotency bookkeeping can be dropped at causal stability and never earlier.
//
// A tombstone written by op d may be dropped once no op concurrent with d can still arrive here.
// An op concurrent with d was made by some region j before j applied d. When j reports a vector R
// that covers d, all of j's ops made before it saw d have seq <= R[j]; once this region has itself
// applied j's ops up to R[j], none of them can still arrive. So a report R from j becomes
// *effective* only when our own applied[j] >= R[j]; the stable vector is the entry-wise minimum of
// every region's effective report (our own is our applied vector). Reports may reach us directly
// or as gossip through a neighbour; the rule is the same. A region that lost its storage is not
// heard until it has rejoined (Replica::HandleAck): until then its own entry may be below ops it
// made earlier that still exist, so its report proves nothing about them (the simulator found a
// field resurrected that way: a clear mark collected while an older concurrent write of the
// rejoining region still waited in a peer's causal buffer).
//
// Invariants:
//  1. stable() never goes backwards and is always dominated by our applied vector.
//  2. Volatile: after a restart stability is re-learned from fresh reports (conservative).
#pragma once

#include <array>
#include <optional>
#include <vector>

#include "base/ids.h"
#include "clock/version_vector.h"

namespace meridian {

class StabilityTracker {
 public:
  StabilityTracker(RegionId self, RegionId region_count);

  // Region `region` is known to have applied `reported`.
  void OnReport(RegionId region, const VersionVector& reported, const VersionVector& applied);
  // Our applied vector changed: pending reports may become effective.
  void OnApplied(const VersionVector& applied);

  const VersionVector& stable() const { return stable_; }
  // The best vector known for each region (for gossip in acks).
  const VersionVector& known(RegionId region) const { return known_[region]; }
  // Regions whose effective report lags our applied vector: they hold collection back.
  std::vector<RegionId> HoldingBack(const VersionVector& applied) const;

 private:
  void Promote(RegionId region, const VersionVector& applied);
  void Recompute(const VersionVector& applied);

  RegionId self_;
  RegionId region_count_;
  std::array<VersionVector, kMaxRegions> known_;      // highest report per region
  std::array<VersionVector, kMaxRegions> effective_;  // highest report that is safe to use
  // One report waiting for our applied vector to catch up; newer ones wait behind it, so a
  // continuous stream of reports cannot starve promotion.
  std::array<std::optional<VersionVector>, kMaxRegions> pending_;
  VersionVector stable_;
};

}  // namespace meridian
