// PN-counter: class B (activity counters).
//
// Per-region monotone totals of increments (P) and decrements (N); value = sum(P) - sum(N).
// Replication is op-based: each op is one region's signed delta, applied exactly once per replica
// (the replica dedupes by dot), so P[r] and N[r] at every replica equal the sums of r's applied
// deltas, and merging two states by entry-wise max yields the same thing (state transfer).
//
// The totals only grow, even when the value does not: a region that adds and subtracts 2^63 - 1
// in turn passes 2^64 after three rounds with the value near zero. So they are 124-bit
// (kTotalBits): out of reach of any real workload (2^61 deltas of the largest size per region),
// while eight of them summed and subtracted stay inside signed 128-bit arithmetic.
//
// Invariants:
//  1. Merge is commutative, associative and idempotent.
//  2. Overflow is an error, not a wrap: CheckDelta refuses a local delta that would push a total
//     past kTotalMax or the value past int64; Value() reports OUT_OF_RANGE if concurrent deltas
//     from several regions together leave the int64 range (each was legal where it was accepted).
//     A delta whose result is an int64 is refused only at the total's bound, which no workload
//     reaches.
//  3. Every total is <= kTotalMax, also in what Decode accepts.
#pragma once

#include <array>
#include <cstdint>

#include "base/ids.h"
#include "base/status.h"
#include "meridian/crdt.pb.h"

namespace meridian {

class PnCounter {
 public:
  __extension__ using Total = unsigned __int128;
  // Eight totals on each side sum to under 2^127, so the value is exact in a signed __int128.
  static constexpr int kTotalBits = 124;
  static constexpr Total kTotalMax = (Total{1} << kTotalBits) - 1;

  // OK when `delta` may be applied at `origin` without overflow; otherwise OUT_OF_RANGE. The value
  // after the delta must be an int64, so once concurrent deltas left the range, only a delta that
  // brings it back is accepted. REQUIRES: origin < kMaxRegions.
  Status CheckDelta(RegionId origin, int64_t delta) const;
  // REQUIRES: CheckDelta(origin, delta).ok() at the op's origin; asserts totals stay in bounds.
  void Apply(RegionId origin, int64_t delta);
  // The origin's increment (delta > 0) or decrement total once `delta` is applied: what an op
  // carries so that applying it is idempotent. REQUIRES: CheckDelta(origin, delta).ok().
  Total TotalAfter(RegionId origin, int64_t delta) const;
  // Applies an op that carries its origin's total after it: the total of the side `delta`
  // changes becomes at least `total_after`. Idempotent, and commutes with Merge, so an op may
  // meet a state that already reflects it (a streamed state transfer; Replica::MergeChunk).
  void ApplyTotal(RegionId origin, int64_t delta, Total total_after);

  void Merge(const PnCounter& other);

  Result<int64_t> Value() const;
  Total increments(RegionId r) const { return p_[r]; }
  Total decrements(RegionId r) const { return n_[r]; }

  // Each total as its low 64 bits (increments, decrements) and the bits above them
  // (increments_high, decrements_high, omitted when zero, so that a counter whose totals fit in
  // 64 bits encodes as it did before totals were wide).
  void Encode(pb::PnCounter* out) const;
  static Result<PnCounter> Decode(const pb::PnCounter& in);

  bool operator==(const PnCounter&) const = default;

 private:
  std::array<Total, kMaxRegions> p_{};
  std::array<Total, kMaxRegions> n_{};
};

}  // namespace meridian
