// Random: the only source of randomness the deterministic core and the simulator may use.
//
// Invariants:
//  1. Seeded explicitly; the same seed yields the same sequence on every platform and build
//     (xoshiro256** seeded through SplitMix64, both fully specified here, unlike std:: engines'
//     distributions, whose outputs differ between standard libraries).
//  2. No global state: every component that needs randomness is handed its own Random.
#pragma once

#include <cstdint>

#include "base/assert.h"

namespace meridian {

class Random {
 public:
  explicit Random(uint64_t seed) {
    uint64_t x = seed;
    for (auto& word : state_)
      word = SplitMix64(x);
  }

  uint64_t Next() {
    const uint64_t result = Rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = Rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, bound). REQUIRES: bound > 0. Lemire's multiply-shift, bias below 2^-64*bound.
  uint64_t Uniform(uint64_t bound) {
    MERIDIAN_ASSERT(bound > 0);
    __extension__ using u128 = unsigned __int128;
    return static_cast<uint64_t>((static_cast<u128>(Next()) * bound) >> 64);
  }

  // Uniform in [lo, hi]. REQUIRES: lo <= hi.
  int64_t Range(int64_t lo, int64_t hi) {
    MERIDIAN_ASSERT(lo <= hi);
    return lo + static_cast<int64_t>(Uniform(static_cast<uint64_t>(hi - lo) + 1));
  }

  // True with probability `p` (clamped to [0, 1]).
  bool Chance(double p) { return UnitDouble() < p; }

  // Uniform in [0, 1).
  double UnitDouble() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t SplitMix64(uint64_t& x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  uint64_t state_[4];
};

}  // namespace meridian
