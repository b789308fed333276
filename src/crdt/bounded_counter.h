// Bounded counter (escrow): class `stock`, a counter that never goes below zero anywhere, without
// a global lock (Balegas et al., "Putting consistency back into eventual consistency" and
// "Extending eventually consistent cloud databases for enforcing numeric invariants", 2015).
//
// Each region r owns one row: P[r], the units it added; D[r], the units it took; T[r][j], the
// rights it lent to region j. Only r's ops change r's row, and every entry only grows, so two
// states merge by entry-wise max (like PnCounter) and ops, applied exactly once per replica by
// dot, carry their entry's total after them (idempotent, commutes with a state merge).
//
//   value     = sum_r P[r] - sum_r D[r]
//   rights(r) = P[r] + sum_j T[j][r] - sum_j T[r][j] - D[r]      (what r may still take or lend)
//
// Rights sum to the value (every lend appears once as given and once as received), so a value
// below zero needs some region's rights below zero. A region takes or lends only within the
// rights its own view shows (CheckLocal), and its view counts its own row exactly and other
// rows' lends to it at most as they are: rights(r) in any later view, at any region, is at least
// what r saw when it acted. Under causal delivery every region's view is a causal cut, in which
// each region's last act was checked against a view inside the cut, so every region's rights and
// hence the value are >= 0 in every view, in every region, at every moment, whatever partitions,
// crashes, clock skew or message order. Rights move only by lends, which are ops of their own:
// none is created (a lend spends the lender's rights) and none lost (an op is applied exactly
// once everywhere, and an op leaves its region only once durable there).
//
// There is no delete: resetting a bounded counter to zero cannot commute with a concurrent take
// (the take would then push the value below zero). A stock is emptied by taking what is left.
//
// Invariants:
//  1. Merge is commutative, associative and idempotent; Apply of an op applied before is a no-op.
//  2. Every total is <= kTotalMax, also in what Decode accepts; T[r][r] == 0.
//  3. A region never lends to itself.
#pragma once

#include <array>
#include <cstdint>

#include "base/ids.h"
#include "base/lazy_box.h"
#include "base/status.h"
#include "meridian/crdt.pb.h"

namespace meridian {

enum class StockOpKind : uint8_t { kAdd = 1, kTake = 2, kLend = 3 };

// One region's op: the units added, taken or lent (to `to`), with the origin's total for that
// entry once the op is applied.
struct StockOp {
  StockOpKind kind = StockOpKind::kAdd;
  uint64_t amount = 0;
  RegionId to = 0;  // kLend only
  uint64_t total_after = 0;
  bool operator==(const StockOp&) const = default;
};

class BoundedCounter {
 public:
  // Totals stay below 2^62, so sums of eight of them and their differences fit an int64 exactly
  // (no workload adds 4.6e18 units to one stock).
  static constexpr uint64_t kTotalMax = (uint64_t{1} << 62) - 1;

  // Builds the op for a local add, take or lend at `origin` (does not apply it): OK when the
  // totals stay within kTotalMax and, for a take or lend, `amount` is within rights(origin);
  // else Aborted (not enough rights here: the message says how many) or OutOfRange.
  // `ignore_lent` is the simulator's seeded bug (a region forgets what it lent when it counts
  // its rights, so it lends or takes the same units twice); false everywhere else.
  // REQUIRES: origin, to < kMaxRegions; amount > 0.
  Result<StockOp> Prepare(StockOpKind kind, uint64_t amount, RegionId origin, RegionId to = 0,
                          bool ignore_lent = false) const;
  // OK when `op` from `origin` is well formed for Apply (regions in range, no lend to itself,
  // totals within bounds). Rights are not checked: a peer's view may hold lends this one lacks.
  Status CheckApplicable(const StockOp& op, RegionId origin) const;
  // Raises the origin's entry to op.total_after. REQUIRES: CheckApplicable(op, origin).ok().
  void Apply(const StockOp& op, RegionId origin);
  void Merge(const BoundedCounter& other);

  int64_t Value() const;
  // rights(r) as this state shows it; may be read for any region.
  int64_t Rights(RegionId r) const;
  // What `origin` may take or lend now: Rights(origin), or with `ignore_lent` (the seeded bug of
  // Prepare) its rights plus everything it ever lent. The one rule Prepare and a lender share.
  int64_t Spendable(RegionId origin, bool ignore_lent = false) const;
  uint64_t added(RegionId r) const { return rows()[r].added; }
  uint64_t taken(RegionId r) const { return rows()[r].taken; }
  uint64_t lent(RegionId from, RegionId to) const { return rows()[from].lent[to]; }
  // True once anything was ever added (a stock shows 0 after it was emptied, and is present).
  bool Present() const;

  void Encode(pb::BoundedCounter* out) const;
  static Result<BoundedCounter> Decode(const pb::BoundedCounter& in);

  bool operator==(const BoundedCounter&) const = default;

 private:
  struct Row {
    uint64_t added = 0;
    uint64_t taken = 0;
    std::array<uint64_t, kMaxRegions> lent{};
    bool operator==(const Row&) const = default;
  };
  // The row entry an op raises: `added`, `taken` or `lent[op.to]` (const or not, as `row`).
  template <typename RowRef>
  static auto& EntryOf(RowRef& row, const StockOp& op);
  using Rows = std::array<Row, kMaxRegions>;
  const Rows& rows() const { return rows_.get(); }
  // 640 bytes in full: boxed for the same reason as PnCounter's totals (replica/key_state.h).
  LazyBox<Rows> rows_;
};

void Encode(const StockOp& in, pb::StockOp* out);
Result<StockOp> Decode(const pb::StockOp& in);

}  // namespace meridian
