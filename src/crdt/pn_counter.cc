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

Wide WideValue(const PnCounter& c) {
  Wide value = 0;
  for (RegionId r = 0; r < kMaxRegions; ++r) {
    value += static_cast<Wide>(c.increments(r));
    value -= static_cast<Wide>(c.decrements(r));
  }
  return value;
}

Total Join(uint64_t low, uint64_t high) {
  return (static_cast<Total>(high) << 64) | low;
}

}  // namespace

Status PnCounter::CheckDelta(RegionId origin, int64_t delta) const {
  MERIDIAN_ASSERT(origin < kMaxRegions);
  const Total total = delta >= 0 ? p_[origin] : n_[origin];
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

void PnCounter::Apply(RegionId origin, int64_t delta) {
  MERIDIAN_ASSERT(origin < kMaxRegions);
  Total& total = delta >= 0 ? p_[origin] : n_[origin];
  MERIDIAN_ASSERT_MSG(Magnitude(delta) <= kTotalMax - total, "counter total would pass its bound");
  total += Magnitude(delta);
}

Total PnCounter::TotalAfter(RegionId origin, int64_t delta) const {
  MERIDIAN_ASSERT(origin < kMaxRegions);
  const Total total = delta >= 0 ? p_[origin] : n_[origin];
  MERIDIAN_ASSERT_MSG(Magnitude(delta) <= kTotalMax - total, "counter total would pass its bound");
  return total + Magnitude(delta);
}

void PnCounter::ApplyTotal(RegionId origin, int64_t delta, Total total_after) {
  MERIDIAN_ASSERT(origin < kMaxRegions);
  MERIDIAN_ASSERT(total_after <= kTotalMax);
  Total& total = delta >= 0 ? p_[origin] : n_[origin];
  total = std::max(total, total_after);
}

void PnCounter::Merge(const PnCounter& other) {
  for (RegionId r = 0; r < kMaxRegions; ++r) {
    p_[r] = std::max(p_[r], other.p_[r]);
    n_[r] = std::max(n_[r], other.n_[r]);
  }
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
  for (RegionId r = 0; r < kMaxRegions; ++r) {
    if (p_[r] == 0 && n_[r] == 0) continue;
    pb::PnCounter::Entry* entry = out->add_entries();
    entry->set_region(r);
    entry->set_increments(static_cast<uint64_t>(p_[r]));
    entry->set_decrements(static_cast<uint64_t>(n_[r]));
    entry->set_increments_high(static_cast<uint64_t>(p_[r] >> 64));
    entry->set_decrements_high(static_cast<uint64_t>(n_[r] >> 64));
  }
}

Result<PnCounter> PnCounter::Decode(const pb::PnCounter& in) {
  PnCounter counter;
  for (int i = 0; i < in.entries_size(); ++i) {
    const pb::PnCounter::Entry& entry = in.entries(i);
    const std::string what = "pn counter entry " + std::to_string(i);
    if (entry.region() >= kMaxRegions) return InvalidArgument(what + ": region out of range");
    if (i > 0 && in.entries(i - 1).region() >= entry.region()) {
      return InvalidArgument(what + ": regions not strictly ascending");
    }
    const Total p = Join(entry.increments(), entry.increments_high());
    const Total n = Join(entry.decrements(), entry.decrements_high());
    if (p == 0 && n == 0) return InvalidArgument(what + ": explicit zero entry");
    if (p > kTotalMax || n > kTotalMax) {
      return InvalidArgument(what + ": a total passes 2^" + std::to_string(kTotalBits) + "-1");
    }
    counter.p_[entry.region()] = p;
    counter.n_[entry.region()] = n;
  }
  return counter;
}

}  // namespace meridian
