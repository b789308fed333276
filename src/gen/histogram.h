// LatencyHistogram: a fixed, log-linear bucketed histogram of non-negative integers
// (nanoseconds here), in the manner of HdrHistogram, which Debian does not package for C++.
//
// Values below 256 have a bucket each; above, every power-of-two range [2^m, 2^(m+1)) is split
// into 128 equal buckets, so a reported percentile is within 1/128 (< 0.8%) of a recorded value.
// Values above kValueMax (about 18 minutes in ns) are counted in the last bucket.
//
// Invariants:
//  1. Count() is the number of Record() calls (summed over Merge()d histograms).
//  2. ValueAt(q) is monotone in q and lies within [Min(), Max()].
//  3. Recording is O(1) with no allocation; the bucket array is allocated once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace meridian {

class LatencyHistogram {
 public:
  static constexpr int kSubBucketBits = 7;
  static constexpr uint64_t kValueMax = uint64_t{1} << 40;

  LatencyHistogram();

  void Record(uint64_t value);
  // Adds every count of `other` to this one.
  void Merge(const LatencyHistogram& other);

  uint64_t Count() const { return count_; }
  // 0 when empty.
  uint64_t Min() const { return count_ == 0 ? 0 : min_; }
  uint64_t Max() const { return max_; }
  double Mean() const;
  // The value at quantile q (0.5 = median, 0.999 = p999): the midpoint of the bucket holding the
  // ceil(q * Count())-th smallest value, clamped to [Min(), Max()]. 0 when empty.
  // REQUIRES: 0 <= q <= 1.
  uint64_t ValueAt(double q) const;

 private:
  static size_t BucketOf(uint64_t value);
  static uint64_t BucketLow(size_t bucket);
  static uint64_t BucketWidth(size_t bucket);

  std::vector<uint64_t> counts_;
  uint64_t count_ = 0;
  uint64_t min_ = 0;
  uint64_t max_ = 0;
  long double sum_ = 0;
};

}  // namespace meridian
