#include "gen/zipf.h"

#include <cmath>

#include "base/assert.h"

namespace meridian {
namespace {

// log1p(x)/x, continuous at 0.
double Helper1(double x) {
  if (std::fabs(x) > 1e-8) return std::log1p(x) / x;
  return 1 - x * (0.5 - x * (1.0 / 3 - 0.25 * x));
}

// expm1(x)/x, continuous at 0.
double Helper2(double x) {
  if (std::fabs(x) > 1e-8) return std::expm1(x) / x;
  return 1 + x * 0.5 * (1 + x / 3 * (1 + 0.25 * x));
}

}  // namespace

ZipfSampler::ZipfSampler(uint64_t n, double exponent) : n_(n), exponent_(exponent) {
  MERIDIAN_ASSERT(n >= 1);
  MERIDIAN_ASSERT(exponent > 0);
  h_integral_x1_ = HIntegral(1.5) - 1;
  h_integral_n_ = HIntegral(static_cast<double>(n) + 0.5);
  s_ = 2 - HIntegralInverse(HIntegral(2.5) - H(2));
}

uint64_t ZipfSampler::Sample(Random& random) const {
  const double n = static_cast<double>(n_);
  while (true) {
    // u is uniform in (h_integral_x1_, h_integral_n_]; inverting it gives a continuous x whose
    // rounding k is accepted with the probability that makes P(k) exactly proportional to H(k).
    const double u = h_integral_n_ + random.UnitDouble() * (h_integral_x1_ - h_integral_n_);
    const double x = HIntegralInverse(u);
    double k = std::floor(x + 0.5);
    if (k < 1) k = 1;
    if (k > n) k = n;
    if (k - x <= s_ || u >= HIntegral(k + 0.5) - H(k)) {
      const auto rank = static_cast<uint64_t>(k);
      MERIDIAN_ASSERT(rank >= 1 && rank <= n_);
      return rank;
    }
  }
}

double ZipfSampler::H(double x) const {
  return std::exp(-exponent_ * std::log(x));
}

// The integral of H from 1 to x: (x^(1-s) - 1) / (1-s), written to stay exact as s -> 1.
double ZipfSampler::HIntegral(double x) const {
  const double log_x = std::log(x);
  return Helper2((1 - exponent_) * log_x) * log_x;
}

double ZipfSampler::HIntegralInverse(double x) const {
  double t = x * (1 - exponent_);
  if (t < -1) t = -1;  // rounding can push t just past the domain's edge
  return std::exp(Helper1(t) * x);
}

}  // namespace meridian
