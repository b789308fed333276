#include "crdt/pn_counter.h"

#include <algorithm>
#include <limits>
#include <string>

#include "base/assert.h"

namespace meridian {
namespace {

using Total = PnCounter::Total;
// Eight totals below 2^124 on each side: sums below 2^127, differences inside a signed __int128.
__extension__ using Wide = __int128;
static_assert(PnCounter::kTotalBits + 3 < 128, "eight totals must sum inside a signed __int128");

constexpr Wide kValueMax = std::numeric_limits<int64_t>::max();
constexpr Wide kValueMin = std::numeric_limits<int64_t>::min();

// |delta| as uint64; well defined for INT64_MIN too.
uint64_t Magnitude(int64_t delta) {
  return delta >= 0 ? static_cast<uint64_t>(delta) : 0 - static_cast<uint64_t>(delta);
}

// Invariant 4 makes every difference non-negative; the sums stay below 2^127 (kTotalBits).
Wide WideValue(const PnCounter& c) {
  Wide value = 0;
  for (RegionId r = 0; r < kMaxRegions; ++r) {
    value += static_cast<Wide>(c.increments(r) - c.deleted_increments(r));
    value -= static_cast<Wide>(c.decrements(r) - c.deleted_decrements(r));
  }
  return value;
}

Total Join(uint64_t low, uint64_t high) {
  return (static_cast<Total>(high) << 64) | low;
}

using TotalArray = std::array<Total, kMaxRegions>;

void EncodeEntries(const TotalArray& p, const TotalArray& n,
                   google::protobuf::RepeatedPtrField<pb::PnCounter::Entry>* out) {
  for (RegionId r = 0; r < kMaxRegions; ++r) {
    if (p[r] == 0 && n[r] == 0) continue;
    pb::PnCounter::Entry* entry = out->Add();
    entry->set_region(r);
    entry->set_increments(static_cast<uint64_t>(p[r]));
    entry->set_decrements(static_cast<uint64_t>(n[r]));
    entry->set_increments_high(static_cast<uint64_t>(p[r] >> 64));
    entry->set_decrements_high(static_cast<uint64_t>(n[r] >> 64));
  }
}

// Canonical entries (regions strictly ascending, no zero entry, totals within bounds); `what`
// names the list in errors.
Status DecodeEntries(const google::protobuf::RepeatedPtrField<pb::PnCounter::Entry>& in,
                     const std::string& what, TotalArray* p, TotalArray* n) {
  for (int i = 0; i < in.size(); ++i) {
    const pb::PnCounter::Entry& entry = in.Get(i);
    const std::string name = what + " entry " + std::to_string(i);
    if (entry.region() >= kMaxRegions) return InvalidArgument(name + ": region out of range");
    if (i > 0 && in.Get(i - 1).region() >= entry.region()) {
      return InvalidArgument(name + ": regions not strictly ascending");
    }
    const Total increments = Join(entry.increments(), entry.increments_high());
    const Total decrements = Join(entry.decrements(), entry.decrements_high());
    if (increments == 0 && decrements == 0) return InvalidArgument(name + ": explicit zero entry");
    if (increments > PnCounter::kTotalMax || decrements > PnCounter::kTotalMax) {
      return InvalidArgument(name + ": a total passes 2^" + std::to_string(PnCounter::kTotalBits) +
                             "-1");
    }
    (*p)[entry.region()] = increments;
    (*n)[entry.region()] = decrements;
  }
  return Status::Ok();
}

}  // namespace

Status PnCounter::CheckDelta(RegionId origin, int64_t delta) const {
  MERIDIAN_ASSERT(origin < kMaxRegions);
  const Total total = delta >= 0 ? t().p[origin] : t().n[origin];
  if (Magnitude(delta) > kTotalMax - total) {
    return OutOfRange("counter: region " + std::to_string(origin) + "'s " +
                      (delta >= 0 ? "increment" : "decrement") + " total would pass 2^" +
                      std::to_string(kTotalBits) + "-1");
  }
  const Wide after = WideValue(*this) + delta;
  if (after > kValueMax || after < kValueMin) {
    return OutOfRange("counter: value would leave the int64 range");
  }
  return Status::Ok();
}

Status PnCounter::CheckApply(RegionId origin, int64_t delta) const {
  if (origin >= kMaxRegions) return InvalidArgument("counter: origin out of range");
  const Total total = delta >= 0 ? t().p[origin] : t().n[origin];
  if (Magnitude(delta) > kTotalMax - total) return OutOfRange("counter total would pass its bound");
  return Status::Ok();
}

void PnCounter::Apply(RegionId origin, int64_t delta) {
  MERIDIAN_ASSERT(origin < kMaxRegions);
  Totals& mine = totals_.mut();
  Total& total = delta >= 0 ? mine.p[origin] : mine.n[origin];
  MERIDIAN_ASSERT_MSG(Magnitude(delta) <= kTotalMax - total, "counter total would pass its bound");
  total += Magnitude(delta);
}

Total PnCounter::TotalAfter(RegionId origin, int64_t delta) const {
  MERIDIAN_ASSERT(origin < kMaxRegions);
  const Total total = delta >= 0 ? t().p[origin] : t().n[origin];
  MERIDIAN_ASSERT_MSG(Magnitude(delta) <= kTotalMax - total, "counter total would pass its bound");
  return total + Magnitude(delta);
}

void PnCounter::ApplyTotal(RegionId origin, int64_t delta, Total total_after) {
  MERIDIAN_ASSERT(origin < kMaxRegions);
  MERIDIAN_ASSERT(total_after <= kTotalMax);
  Totals& mine = totals_.mut();
  Total& total = delta >= 0 ? mine.p[origin] : mine.n[origin];
  total = std::max(total, total_after);
}

void PnCounter::ApplyDelete(const PnCounterDelete& d) {
  Totals& mine = totals_.mut();
  for (RegionId r = 0; r < kMaxRegions; ++r) {
    MERIDIAN_ASSERT(d.increments[r] <= kTotalMax && d.decrements[r] <= kTotalMax);
    mine.p_deleted[r] = std::max(mine.p_deleted[r], d.increments[r]);
    mine.n_deleted[r] = std::max(mine.n_deleted[r], d.decrements[r]);
    mine.p[r] = std::max(mine.p[r], mine.p_deleted[r]);
    mine.n[r] = std::max(mine.n[r], mine.n_deleted[r]);
  }
}

void PnCounter::Merge(const PnCounter& other) {
  if (!other.totals_.allocated()) return;  // all zero: nothing to raise
  Totals& mine = totals_.mut();
  const Totals& o = other.t();
  for (RegionId r = 0; r < kMaxRegions; ++r) {
    mine.p[r] = std::max(mine.p[r], o.p[r]);
    mine.n[r] = std::max(mine.n[r], o.n[r]);
    mine.p_deleted[r] = std::max(mine.p_deleted[r], o.p_deleted[r]);
    mine.n_deleted[r] = std::max(mine.n_deleted[r], o.n_deleted[r]);
  }
}

bool PnCounter::Present() const {
  const Totals& c = t();
  for (RegionId r = 0; r < kMaxRegions; ++r) {
    if (c.p[r] > c.p_deleted[r] || c.n[r] > c.n_deleted[r]) return true;
  }
  return false;
}

Result<int64_t> PnCounter::Value() const {
  const Wide value = WideValue(*this);
  if (value > kValueMax || value < kValueMin) {
    return OutOfRange("counter: concurrent deltas took the value outside the int64 range");
  }
  return static_cast<int64_t>(value);
}

void PnCounter::Encode(pb::PnCounter* out) const {
  out->Clear();
  EncodeEntries(t().p, t().n, out->mutable_entries());
  EncodeEntries(t().p_deleted, t().n_deleted, out->mutable_deleted());
}

Result<PnCounter> PnCounter::Decode(const pb::PnCounter& in) {
  PnCounter counter;
  if (in.entries().empty() && in.deleted().empty()) return counter;  // stays unallocated
  Totals& mine = counter.totals_.mut();
  MERIDIAN_RETURN_IF_ERROR(DecodeEntries(in.entries(), "pn counter", &mine.p, &mine.n));
  MERIDIAN_RETURN_IF_ERROR(
      DecodeEntries(in.deleted(), "pn counter deleted", &mine.p_deleted, &mine.n_deleted));
  for (RegionId r = 0; r < kMaxRegions; ++r) {
    if (mine.p_deleted[r] > mine.p[r] || mine.n_deleted[r] > mine.n[r]) {
      return InvalidArgument("pn counter: region " + std::to_string(r) +
                             "'s deleted baseline passes its total");
    }
  }
  return counter;
}

void Encode(const PnCounterDelete& in, pb::PnCounterDelete* out) {
  out->Clear();
  EncodeEntries(in.increments, in.decrements, out->mutable_observed());
}

Result<PnCounterDelete> Decode(const pb::PnCounterDelete& in) {
  PnCounterDelete d;
  MERIDIAN_RETURN_IF_ERROR(
      DecodeEntries(in.observed(), "counter delete", &d.increments, &d.decrements));
  return d;
}

}  // namespace meridian
