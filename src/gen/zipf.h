// ZipfSampler: draws ranks 1..n with P(k) proportional to k^-s, in O(1) memory and expected time.
//
// Rejection-inversion sampling (W. Hörmann and G. Derflinger, "Rejection-inversion to generate
// variates from monotone discrete distributions", 1996), as in Apache Commons RNG's
// RejectionInversionZipfSampler: no table of n weights, so a 10M-key space costs nothing to set
// up, and the expected number of uniform draws per sample stays below about 1.1 for s near 1.
//
// Invariants:
//  1. Sample() returns a rank in [1, n].
//  2. All randomness comes from the Random passed in, so a seed replays the same ranks.
#pragma once

#include <cstdint>

#include "base/random.h"

namespace meridian {

class ZipfSampler {
 public:
  // REQUIRES: n >= 1, exponent > 0.
  ZipfSampler(uint64_t n, double exponent);

  uint64_t Sample(Random& random) const;

  uint64_t n() const { return n_; }
  double exponent() const { return exponent_; }

 private:
  double H(double x) const;  // the density x^-s
  double HIntegral(double x) const;
  double HIntegralInverse(double x) const;

  uint64_t n_;
  double exponent_;
  double h_integral_x1_;
  double h_integral_n_;
  double s_;
};

}  // namespace meridian
