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
// Deleting the counter is observed-remove (issue 19, item 8): the delete records the per-origin
// totals its region had applied (its baseline) and the counter shows only what arrived beyond
// them: value = sum(P - P_deleted) - sum(N - N_deleted). Baselines merge by entry-wise max, like
// the totals, so deletes commute with everything; an increment the delete did not see lies
// beyond its baseline and survives. The counter is present (reads "found") only while some total
// is past its baseline. The baseline is 2 x kMaxRegions totals at most, whatever the number of
// deletes, so there is nothing to collect later: it is not a tombstone per delete.
//
// Invariants:
//  1. Merge is commutative, associative and idempotent.
//  2. Overflow is an error, not a wrap: CheckDelta refuses a local delta that would push a total
//     past kTotalMax or the value past int64; Value() reports OUT_OF_RANGE if concurrent deltas
//     from several regions together leave the int64 range (each was legal where it was accepted).
//     A delta whose result is an int64 is refused only at the total's bound, which no workload
//     reaches.
//  3. Every total is <= kTotalMax, also in what Decode accepts.
//  4. Every baseline entry is <= its total (a delete never removes what its state lacks).
#pragma once

#include <array>
#include <cstdint>

#include "base/ids.h"
#include "base/lazy_box.h"
#include "base/status.h"
#include "meridian/crdt.pb.h"

namespace meridian {

// A delete of a whole counter: the per-origin totals it observed.
struct PnCounterDelete {
  __extension__ using Total = unsigned __int128;
  std::array<Total, kMaxRegions> increments{};
  std::array<Total, kMaxRegions> decrements{};
  bool operator==(const PnCounterDelete&) const = default;
};

class PnCounter {
 public:
  __extension__ using Total = unsigned __int128;
  // Eight totals on each side sum to under 2^127, so the value is exact in a signed __int128.
  static constexpr int kTotalBits = 124;
  static constexpr Total kTotalMax = (Total{1} << kTotalBits) - 1;

  // OK when Apply(origin, delta) keeps the origin's total within kTotalMax: its precondition,
  // checked before applying an op from a peer, which is not trusted to keep it.
  Status CheckApply(RegionId origin, int64_t delta) const;
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

  // The delete of everything this state shows (its totals become the baseline). Does not apply it.
  PnCounterDelete PrepareDelete() const { return PnCounterDelete{t().p, t().n}; }
  // Raises the baseline to `d` entry-wise (and a total to its baseline entry, which causal
  // delivery makes a no-op: invariant 4 holds whatever order deletes and state merges come in).
  // REQUIRES: every entry of `d` <= kTotalMax.
  void ApplyDelete(const PnCounterDelete& d);

  void Merge(const PnCounter& other);

  // sum(P - P_deleted) - sum(N - N_deleted).
  Result<int64_t> Value() const;
  // True when some total is past its baseline: something was added since the last delete seen.
  bool Present() const;
  Total increments(RegionId r) const { return t().p[r]; }
  Total decrements(RegionId r) const { return t().n[r]; }
  Total deleted_increments(RegionId r) const { return t().p_deleted[r]; }
  Total deleted_decrements(RegionId r) const { return t().n_deleted[r]; }

  // Each total as its low 64 bits (increments, decrements) and the bits above them
  // (increments_high, decrements_high, omitted when zero, so that a counter whose totals fit in
  // 64 bits encodes as it did before totals were wide). The baseline goes in `deleted`, in the
  // same form, absent when nothing was ever deleted (so such a counter encodes as before).
  void Encode(pb::PnCounter* out) const;
  static Result<PnCounter> Decode(const pb::PnCounter& in);

  bool operator==(const PnCounter&) const = default;

 private:
  struct Totals {
    std::array<Total, kMaxRegions> p{};
    std::array<Total, kMaxRegions> n{};
    std::array<Total, kMaxRegions> p_deleted{};  // the baseline: totals observed by deletes
    std::array<Total, kMaxRegions> n_deleted{};
    bool operator==(const Totals&) const = default;
  };
  const Totals& t() const { return totals_.get(); }
  // 512 bytes in full: boxed, so that the variant of a key's state (replica/key_state.h) is not
  // this large for keys of every other class, and a counter never written costs a pointer.
  LazyBox<Totals> totals_;
};

// Codec of a counter delete (an op body): the observed totals in PnCounter's entry form.
void Encode(const PnCounterDelete& in, pb::PnCounterDelete* out);
Result<PnCounterDelete> Decode(const pb::PnCounterDelete& in);

}  // namespace meridian
