#include "clock/version_vector.h"

#include <algorithm>

namespace meridian {

bool VersionVector::Dominates(const VersionVector& other) const {
  for (RegionId r = 0; r < kMaxRegions; ++r) {
    if (entries_[r] < other.entries_[r]) return false;
  }
  return true;
}

CausalOrder VersionVector::Compare(const VersionVector& other) const {
  const bool ge = Dominates(other);
  const bool le = other.Dominates(*this);
  if (ge && le) return CausalOrder::kEqual;
  if (le) return CausalOrder::kBefore;
  if (ge) return CausalOrder::kAfter;
  return CausalOrder::kConcurrent;
}

void VersionVector::Merge(const VersionVector& other) {
  for (RegionId r = 0; r < kMaxRegions; ++r)
    entries_[r] = std::max(entries_[r], other.entries_[r]);
}

VersionVector VersionVector::Min(const VersionVector& a, const VersionVector& b) {
  VersionVector out;
  for (RegionId r = 0; r < kMaxRegions; ++r)
    out.entries_[r] = std::min(a.entries_[r], b.entries_[r]);
  return out;
}

uint64_t VersionVector::Total() const {
  uint64_t sum = 0;
  for (uint64_t e : entries_)
    sum += e;
  return sum;
}

std::string VersionVector::ToString() const {
  std::string out = "{";
  bool first = true;
  for (RegionId r = 0; r < kMaxRegions; ++r) {
    if (entries_[r] == 0) continue;
    if (!first) out += ",";
    first = false;
    out += std::to_string(r) + ":" + std::to_string(entries_[r]);
  }
  return out + "}";
}

}  // namespace meridian
