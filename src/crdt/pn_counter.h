// PN-counter: class B (activity counters).
//
// Per-region monotone totals of increments (P) and decrements (N); value = sum(P) - sum(N).
// Replication is op-based: each op is one region's signed delta, applied exactly once per replica
// (the replica dedupes by dot), so P[r] and N[r] at every replica equal the sums of r's applied
// deltas, and merging two states by entry-wise max yields the same thing (state transfer).
//
// Invariants:
//  1. Merge is commutative, associative and idempotent.
//  2. Overflow is an error, not a wrap: CheckDelta refuses a local delta that would push a total
//     past uint64 or the value past int64; Value() reports OUT_OF_RANGE if concurrent deltas from
//     several regions together leave the int64 range (each was legal where it was accepted).
#pragma once

#include <array>
#include <cstdint>

#include "base/ids.h"
#include "base/status.h"
#include "meridian/crdt.pb.h"

namespace meridian {

class PnCounter {
 public:
  // OK when `delta` may be applied at `origin` without overflow; otherwise OUT_OF_RANGE. The value
  // after the delta must be an int64, so once concurrent deltas left the range, only a delta that
  // brings it back is accepted. REQUIRES: origin < kMaxRegions.
  Status CheckDelta(RegionId origin, int64_t delta) const;
  // REQUIRES: CheckDelta(origin, delta).ok() at the op's origin; asserts totals do not wrap.
  void Apply(RegionId origin, int64_t delta);
  // The origin's increment (delta > 0) or decrement total once `delta` is applied: what an op
  // carries so that applying it is idempotent. REQUIRES: CheckDelta(origin, delta).ok().
  uint64_t TotalAfter(RegionId origin, int64_t delta) const;
  // Applies an op that carries its origin's total after it: the total of the side `delta`
  // changes becomes at least `total_after`. Idempotent, and commutes with Merge, so an op may
  // meet a state that already reflects it (a streamed state transfer; Replica::MergeChunk).
  void ApplyTotal(RegionId origin, int64_t delta, uint64_t total_after);

  void Merge(const PnCounter& other);

  Result<int64_t> Value() const;
  uint64_t increments(RegionId r) const { return p_[r]; }
  uint64_t decrements(RegionId r) const { return n_[r]; }

  void Encode(pb::PnCounter* out) const;
  static Result<PnCounter> Decode(const pb::PnCounter& in);

  bool operator==(const PnCounter&) const = default;

 private:
  std::array<uint64_t, kMaxRegions> p_{};
  std::array<uint64_t, kMaxRegions> n_{};
};

}  // namespace meridian
