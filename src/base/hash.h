// StableHash: a 64-bit hash whose value is fixed by this file, not by the standard library.
//
// Used wherever a hash reaches a message, a bucket choice or a summary that two processes compare
// (anti-entropy range summaries, key bucketing). std::hash is not stable across builds, so it must
// never be used for those. FNV-1a over the bytes, then a SplitMix64 finalizer to spread the low
// bits that FNV leaves weak for short keys.
#pragma once

#include <cstdint>
#include <string_view>

namespace meridian {

inline uint64_t StableHash(std::string_view bytes, uint64_t seed = 0) {
  uint64_t h = 0xcbf29ce484222325ULL ^ seed;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h;
}

}  // namespace meridian
