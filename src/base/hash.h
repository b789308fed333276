// StableHash: a 64-bit hash whose value is fixed by this file, not by the standard library.
//
// Used wherever a hash reaches a message, a bucket choice or a summary that two processes compare
// (anti-entropy range summaries, key bucketing, idempotency fingerprints). std::hash is not
// stable across builds, so it must never be used for those. FNV-1a over the bytes, then a
// SplitMix64 finalizer to spread the low bits that FNV leaves weak for short keys.
#pragma once

#include <cstdint>
#include <string_view>

namespace meridian {

// The same hash fed piece by piece: Add(a); Add(b); Finish() == StableHash(a + b, seed).
class StableHasher {
 public:
  explicit StableHasher(uint64_t seed = 0) : h_(0xcbf29ce484222325ULL ^ seed) {}
  void Add(std::string_view bytes) {
    for (unsigned char c : bytes) {
      h_ ^= c;
      h_ *= 0x100000001b3ULL;
    }
  }
  uint64_t Finish() const {
    uint64_t h = h_;
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h;
  }

 private:
  uint64_t h_;
};

inline uint64_t StableHash(std::string_view bytes, uint64_t seed = 0) {
  StableHasher hasher(seed);
  hasher.Add(bytes);
  return hasher.Finish();
}

}  // namespace meridian
