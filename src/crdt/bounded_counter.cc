#include "crdt/bounded_counter.h"

#include <algorithm>
#include <string>

#include "base/assert.h"

namespace meridian {
namespace {

// Eight totals below 2^62 sum below 2^65: the signed sums below are taken in __int128 and the
// results (a value, a region's rights) are each a difference of such sums that the invariants
// keep within int64 in any reachable state; Value/Rights clamp rather than wrap in a forged one.
__extension__ using Wide = __int128;

int64_t Clamp(Wide v) {
  constexpr Wide kMax = INT64_MAX;
  constexpr Wide kMin = INT64_MIN;
  return static_cast<int64_t>(std::clamp(v, kMin, kMax));
}

std::string Units(Wide n) {
  return std::to_string(static_cast<int64_t>(n)) + (n == 1 ? " unit" : " units");
}

}  // namespace

template <typename RowRef>
auto& BoundedCounter::EntryOf(RowRef& row, const StockOp& op) {
  switch (op.kind) {
    case StockOpKind::kAdd:
      return row.added;
    case StockOpKind::kTake:
      return row.taken;
    case StockOpKind::kLend:
      return row.lent[op.to];
  }
  MERIDIAN_ASSERT(false);
  return row.added;
}

Result<StockOp> BoundedCounter::Prepare(StockOpKind kind, uint64_t amount, RegionId origin,
                                        RegionId to, bool ignore_lent) const {
  MERIDIAN_ASSERT(origin < kMaxRegions && to < kMaxRegions && amount > 0);
  StockOp op{kind, amount, kind == StockOpKind::kLend ? to : RegionId{0}, 0};
  if (kind == StockOpKind::kLend && to == origin) {
    return InvalidArgument("stock: a region cannot lend to itself");
  }
  if (kind != StockOpKind::kAdd) {
    const Wide rights = Spendable(origin, ignore_lent);
    if (static_cast<Wide>(amount) > rights) {
      return Aborted("stock: " + Units(amount) + " asked, " + Units(std::max<Wide>(rights, 0)) +
                     " of rights here (value " + std::to_string(Value()) + ")");
    }
  }
  const uint64_t total = EntryOf(rows()[origin], op);
  if (amount > kTotalMax - total) {
    return OutOfRange("stock: a region's total would pass 2^62-1");
  }
  op.total_after = total + amount;
  return op;
}

Status BoundedCounter::CheckApplicable(const StockOp& op, RegionId origin) const {
  if (origin >= kMaxRegions || op.to >= kMaxRegions) {
    return InvalidArgument("stock op: region out of range");
  }
  if (op.kind != StockOpKind::kAdd && op.kind != StockOpKind::kTake &&
      op.kind != StockOpKind::kLend) {
    return InvalidArgument("stock op: unknown kind");
  }
  if (op.kind == StockOpKind::kLend && op.to == origin) {
    return InvalidArgument("stock op: a region lends to itself");
  }
  if (op.kind != StockOpKind::kLend && op.to != 0) {
    return InvalidArgument("stock op: `to` set on an add or take");
  }
  if (op.amount == 0 || op.total_after > kTotalMax || op.total_after < op.amount) {
    return InvalidArgument("stock op: amount or total out of range");
  }
  return Status::Ok();
}

void BoundedCounter::Apply(const StockOp& op, RegionId origin) {
  MERIDIAN_ASSERT(CheckApplicable(op, origin).ok());
  uint64_t& total = EntryOf(rows_.mut()[origin], op);
  total = std::max(total, op.total_after);
}

void BoundedCounter::Merge(const BoundedCounter& other) {
  if (!other.rows_.allocated()) return;  // all zero: nothing to raise
  Rows& rows = rows_.mut();
  for (RegionId r = 0; r < kMaxRegions; ++r) {
    Row& mine = rows[r];
    const Row& theirs = other.rows()[r];
    mine.added = std::max(mine.added, theirs.added);
    mine.taken = std::max(mine.taken, theirs.taken);
    for (RegionId j = 0; j < kMaxRegions; ++j)
      mine.lent[j] = std::max(mine.lent[j], theirs.lent[j]);
  }
}

int64_t BoundedCounter::Value() const {
  Wide value = 0;
  for (const Row& row : rows())
    value += static_cast<Wide>(row.added) - static_cast<Wide>(row.taken);
  return Clamp(value);
}

int64_t BoundedCounter::Rights(RegionId r) const {
  MERIDIAN_ASSERT(r < kMaxRegions);
  const Rows& all = rows();
  Wide rights = static_cast<Wide>(all[r].added) - static_cast<Wide>(all[r].taken);
  for (RegionId j = 0; j < kMaxRegions; ++j) {
    rights += static_cast<Wide>(all[j].lent[r]);
    rights -= static_cast<Wide>(all[r].lent[j]);
  }
  return Clamp(rights);
}

int64_t BoundedCounter::Spendable(RegionId origin, bool ignore_lent) const {
  Wide spendable = Rights(origin);
  if (ignore_lent) {
    for (RegionId j = 0; j < kMaxRegions; ++j)
      spendable += rows()[origin].lent[j];
  }
  return Clamp(spendable);
}

bool BoundedCounter::Present() const {
  return std::any_of(rows().begin(), rows().end(), [](const Row& row) { return row.added > 0; });
}

void BoundedCounter::Encode(pb::BoundedCounter* out) const {
  out->Clear();
  for (RegionId r = 0; r < kMaxRegions; ++r) {
    const Row& row = rows()[r];
    if (row == Row{}) continue;
    pb::BoundedCounter::Row* encoded = out->add_rows();
    encoded->set_region(r);
    encoded->set_added(row.added);
    encoded->set_taken(row.taken);
    for (RegionId j = 0; j < kMaxRegions; ++j) {
      if (row.lent[j] == 0) continue;
      pb::BoundedCounter::Lent* lent = encoded->add_lent();
      lent->set_to(j);
      lent->set_total(row.lent[j]);
    }
  }
}

Result<BoundedCounter> BoundedCounter::Decode(const pb::BoundedCounter& in) {
  BoundedCounter counter;
  for (int i = 0; i < in.rows_size(); ++i) {
    const pb::BoundedCounter::Row& row = in.rows(i);
    const std::string name = "stock row " + std::to_string(i);
    if (row.region() >= kMaxRegions) return InvalidArgument(name + ": region out of range");
    if (i > 0 && in.rows(i - 1).region() >= row.region()) {
      return InvalidArgument(name + ": regions not strictly ascending");
    }
    if (row.added() > kTotalMax || row.taken() > kTotalMax) {
      return InvalidArgument(name + ": a total passes 2^62-1");
    }
    Row& decoded = counter.rows_.mut()[row.region()];
    decoded.added = row.added();
    decoded.taken = row.taken();
    for (int k = 0; k < row.lent_size(); ++k) {
      const pb::BoundedCounter::Lent& lent = row.lent(k);
      if (lent.to() >= kMaxRegions || lent.to() == row.region()) {
        return InvalidArgument(name + ": a lend to a region out of range or to itself");
      }
      if (k > 0 && row.lent(k - 1).to() >= lent.to()) {
        return InvalidArgument(name + ": lends not strictly ascending");
      }
      if (lent.total() == 0 || lent.total() > kTotalMax) {
        return InvalidArgument(name + ": a lent total is 0 or passes 2^62-1");
      }
      decoded.lent[lent.to()] = lent.total();
    }
    if (decoded == Row{}) return InvalidArgument(name + ": explicit zero row");
  }
  return counter;
}

void Encode(const StockOp& in, pb::StockOp* out) {
  out->Clear();
  out->set_kind(static_cast<uint32_t>(in.kind));
  out->set_amount(in.amount);
  out->set_to(in.to);
  out->set_total_after(in.total_after);
}

Result<StockOp> Decode(const pb::StockOp& in) {
  if (in.kind() < 1 || in.kind() > 3) return InvalidArgument("stock op: unknown kind");
  if (in.to() >= kMaxRegions) return InvalidArgument("stock op: region out of range");
  StockOp op{static_cast<StockOpKind>(in.kind()), in.amount(), static_cast<RegionId>(in.to()),
             in.total_after()};
  if (op.amount == 0 || op.total_after > BoundedCounter::kTotalMax || op.total_after < op.amount) {
    return InvalidArgument("stock op: amount or total out of range");
  }
  return op;
}

}  // namespace meridian
