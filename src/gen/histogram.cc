#include "gen/histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

#include "base/assert.h"

namespace meridian {
namespace {

constexpr uint64_t kSub = uint64_t{1} << LatencyHistogram::kSubBucketBits;  // 128
constexpr size_t kLinearBuckets = 2 * kSub;  // values 0..255 are exact

}  // namespace

LatencyHistogram::LatencyHistogram() : counts_(BucketOf(kValueMax) + 1, 0) {}

size_t LatencyHistogram::BucketOf(uint64_t value) {
  value = std::min(value, kValueMax);
  if (value < kLinearBuckets) return static_cast<size_t>(value);
  const int msb = 63 - std::countl_zero(value);
  const int shift = msb - kSubBucketBits;  // >= 1
  const uint64_t top = value >> shift;     // in [kSub, 2*kSub)
  return static_cast<size_t>((static_cast<uint64_t>(shift) + 1) * kSub + (top - kSub));
}

uint64_t LatencyHistogram::BucketLow(size_t bucket) {
  if (bucket < kLinearBuckets) return bucket;
  const uint64_t shift = bucket / kSub - 1;
  const uint64_t top = kSub + bucket % kSub;
  return top << shift;
}

uint64_t LatencyHistogram::BucketWidth(size_t bucket) {
  if (bucket < kLinearBuckets) return 1;
  return uint64_t{1} << (bucket / kSub - 1);
}

void LatencyHistogram::Record(uint64_t value) {
  ++counts_[BucketOf(value)];
  if (count_ == 0 || value < min_) min_ = value;
  if (value > max_) max_ = value;
  ++count_;
  sum_ += static_cast<long double>(value);
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  MERIDIAN_ASSERT(counts_.size() == other.counts_.size());
  if (other.count_ == 0) return;
  for (size_t i = 0; i < counts_.size(); ++i)
    counts_[i] += other.counts_[i];
  if (count_ == 0 || other.min_ < min_) min_ = other.min_;
  max_ = std::max(max_, other.max_);
  count_ += other.count_;
  sum_ += other.sum_;
}

double LatencyHistogram::Mean() const {
  return count_ == 0 ? 0.0 : static_cast<double>(sum_ / static_cast<long double>(count_));
}

uint64_t LatencyHistogram::ValueAt(double q) const {
  MERIDIAN_ASSERT(q >= 0 && q <= 1);
  if (count_ == 0) return 0;
  const auto wanted =
      std::max<uint64_t>(1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= wanted) {
      const uint64_t mid = BucketLow(i) + BucketWidth(i) / 2;
      return std::clamp(mid, Min(), max_);
    }
  }
  return max_;
}

}  // namespace meridian
