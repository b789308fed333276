#include "replica/range_summary.h"

#include "base/assert.h"
#include "base/hash.h"

namespace meridian {

uint32_t RangeSummary::BucketOf(std::string_view storage_key) {
  return static_cast<uint32_t>(StableHash(storage_key) % kBuckets);
}

uint64_t RangeSummary::EntryHash(std::string_view storage_key, std::string_view state_bytes) {
  const uint64_t h = StableHash(state_bytes, StableHash(storage_key));
  return h == 0 ? 1 : h;  // 0 means "absent" to Update
}

void RangeSummary::Update(std::string_view storage_key, uint64_t old_hash, uint64_t new_hash) {
  auto& bucket = buckets_[BucketOf(storage_key)];
  bucket = bucket - old_hash + new_hash;  // unsigned arithmetic wraps by definition
}

uint64_t RangeSummary::group_hash(uint32_t group) const {
  MERIDIAN_ASSERT(group < kGroups);
  uint64_t sum = 0;
  for (uint32_t b = group * kBucketsPerGroup; b < (group + 1) * kBucketsPerGroup; ++b) {
    sum += buckets_[b];
  }
  return sum;
}

}  // namespace meridian
