// VersionVector: per-origin high-water marks of applied operations.
//
// Invariants:
//  1. Entry r = n means ops (r,1)..(r,n) are all covered; there are no holes (origins number their
//     ops consecutively and replicas apply each origin's ops in order).
//  2. Entries for regions >= kMaxRegions do not exist; asking for one is a bug.
//  3. A replica's own vector only grows (Merge and Advance never lower an entry).
//
// Fixed-size storage: clusters are small (<= kMaxRegions), so a flat array is both the fastest and
// the simplest representation, and iteration order is fixed by construction (determinism).
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "base/assert.h"
#include "base/ids.h"
#include "clock/dot.h"

namespace meridian {

enum class CausalOrder { kEqual, kBefore, kAfter, kConcurrent };

class VersionVector {
 public:
  VersionVector() { entries_.fill(0); }

  uint64_t Get(RegionId region) const {
    MERIDIAN_ASSERT(region < kMaxRegions);
    return entries_[region];
  }
  // REQUIRES: value >= Get(region) (entries never go backwards).
  void Set(RegionId region, uint64_t value) {
    MERIDIAN_ASSERT(region < kMaxRegions);
    MERIDIAN_ASSERT(value >= entries_[region]);
    entries_[region] = value;
  }
  // Records that `dot` is covered. REQUIRES: dot.seq == Get(dot.origin) + 1 (no holes).
  void Advance(Dot dot) {
    MERIDIAN_ASSERT(dot.origin < kMaxRegions);
    MERIDIAN_ASSERT(dot.seq == entries_[dot.origin] + 1);
    entries_[dot.origin] = dot.seq;
  }

  bool Covers(Dot dot) const { return Get(dot.origin) >= dot.seq; }

  // True when every entry of this is >= the same entry of other.
  bool Dominates(const VersionVector& other) const;
  CausalOrder Compare(const VersionVector& other) const;

  // Entry-wise max.
  void Merge(const VersionVector& other);
  // Entry-wise min: what both have covered.
  static VersionVector Min(const VersionVector& a, const VersionVector& b);

  // Sum of entries: a cheap "how much has been applied" measure for lag in ops.
  uint64_t Total() const;
  bool IsZero() const { return Total() == 0; }

  // "{0:3,2:7}", non-zero entries only.
  std::string ToString() const;

  bool operator==(const VersionVector&) const = default;

 private:
  std::array<uint64_t, kMaxRegions> entries_;
};

}  // namespace meridian
