#include "gen/zipf.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace meridian {
namespace {

// The generalized harmonic number H(n, s) = sum k^-s: P(rank k) = k^-s / H(n, s).
double Harmonic(uint64_t n, double s) {
  double sum = 0;
  for (uint64_t k = n; k >= 1; --k)
    sum += std::pow(static_cast<double>(k), -s);  // smallest terms first, for accuracy
  return sum;
}

TEST(ZipfSamplerTest, StaysInRange) {
  Random random(7);
  for (uint64_t n : {1ull, 2ull, 3ull, 10ull, 10'000'000ull}) {
    ZipfSampler zipf(n, 1.1);
    for (int i = 0; i < 20'000; ++i) {
      const uint64_t k = zipf.Sample(random);
      ASSERT_GE(k, 1u);
      ASSERT_LE(k, n);
    }
  }
}

TEST(ZipfSamplerTest, FrequenciesMatchTheory) {
  constexpr uint64_t kN = 100'000;
  constexpr double kS = 1.1;
  constexpr int kDraws = 2'000'000;
  ZipfSampler zipf(kN, kS);
  Random random(42);
  std::vector<uint64_t> counts(kN + 1, 0);
  for (int i = 0; i < kDraws; ++i)
    ++counts[zipf.Sample(random)];
  const double h = Harmonic(kN, kS);
  for (uint64_t rank : {1u, 2u, 3u, 10u, 100u}) {
    const double expected = std::pow(static_cast<double>(rank), -kS) / h;
    const double observed = static_cast<double>(counts[rank]) / kDraws;
    // Four standard deviations of the binomial count, relative: about 1% for rank 1, 10% for 100.
    const double tolerance = 4 * std::sqrt(expected * (1 - expected) / kDraws) / expected;
    EXPECT_NEAR(observed / expected, 1.0, tolerance) << "rank " << rank;
  }
  // The tail: ranks above 1000 together.
  double tail_expected = 0;
  for (uint64_t k = 1001; k <= kN; ++k)
    tail_expected += std::pow(static_cast<double>(k), -kS) / h;
  uint64_t tail = 0;
  for (uint64_t k = 1001; k <= kN; ++k)
    tail += counts[k];
  EXPECT_NEAR(static_cast<double>(tail) / kDraws / tail_expected, 1.0, 0.02);
}

TEST(ZipfSamplerTest, TenMillionKeysRankOneShare) {
  // The default keyspace: H(1e7, 1.1) is about 8.6, so rank 1 takes about 11.6% of draws.
  constexpr uint64_t kN = 10'000'000;
  ZipfSampler zipf(kN, 1.1);
  const double h = Harmonic(kN, 1.1);
  Random random(3);
  constexpr int kDraws = 1'000'000;
  int ones = 0;
  for (int i = 0; i < kDraws; ++i)
    ones += zipf.Sample(random) == 1 ? 1 : 0;
  EXPECT_NEAR(static_cast<double>(ones) / kDraws * h, 1.0, 0.03);
}

TEST(ZipfSamplerTest, SameSeedSameRanks) {
  ZipfSampler zipf(10'000'000, 1.1);
  Random a(9), b(9), c(10);
  int differ = 0;
  for (int i = 0; i < 1000; ++i) {
    const uint64_t x = zipf.Sample(a);
    ASSERT_EQ(x, zipf.Sample(b));
    differ += x != zipf.Sample(c) ? 1 : 0;
  }
  EXPECT_GT(differ, 0);
}

}  // namespace
}  // namespace meridian
