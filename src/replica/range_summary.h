// RangeSummary: Merkle-style hashes of the key space for anti-entropy.
//
// Keys fall into kBuckets buckets by StableHash of their storage key; buckets form kGroups groups.
// A bucket's hash is the wrapping sum of StableHash(storage key, state bytes) over its keys, so it
// is independent of insertion order and updated in O(1) when one key changes. Two levels (groups,
// then buckets, then keys) keep a comparison to a few hundred bytes when little differs.
//
// Invariants:
//  1. bucket_hash(b) == sum over keys k in b of EntryHash(k, state(k)), at all times.
//  2. group_hash(g) == sum of its buckets' hashes.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace meridian {

class RangeSummary {
 public:
  // 1024 buckets: at 10M keys ~10k keys per bucket, and one differing bucket costs one repair
  // round of that size; 32 groups of 32 keep each summary message under 300 bytes.
  static constexpr uint32_t kBuckets = 1024;
  static constexpr uint32_t kGroups = 32;
  static constexpr uint32_t kBucketsPerGroup = kBuckets / kGroups;

  static uint32_t BucketOf(std::string_view storage_key);
  static uint64_t EntryHash(std::string_view storage_key, std::string_view state_bytes);

  // Replaces the contribution `old_hash` of a key (0 when new) with `new_hash` (0 when removed).
  void Update(std::string_view storage_key, uint64_t old_hash, uint64_t new_hash);

  uint64_t bucket_hash(uint32_t bucket) const { return buckets_[bucket]; }
  uint64_t group_hash(uint32_t group) const;

 private:
  std::array<uint64_t, kBuckets> buckets_{};
};

}  // namespace meridian
