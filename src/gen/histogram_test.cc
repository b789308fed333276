#include "gen/histogram.h"

#include <gtest/gtest.h>

namespace meridian {
namespace {

TEST(LatencyHistogramTest, EmptyIsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.Count(), 0u);
  EXPECT_EQ(h.ValueAt(0.5), 0u);
  EXPECT_EQ(h.Min(), 0u);
  EXPECT_EQ(h.Max(), 0u);
}

TEST(LatencyHistogramTest, SmallValuesAreExact) {
  LatencyHistogram h;
  for (uint64_t v = 1; v <= 100; ++v)
    h.Record(v);
  EXPECT_EQ(h.ValueAt(0.5), 50u);
  EXPECT_EQ(h.ValueAt(0.99), 99u);
  EXPECT_EQ(h.ValueAt(1.0), 100u);
  EXPECT_EQ(h.ValueAt(0.0), 1u);
  EXPECT_DOUBLE_EQ(h.Mean(), 50.5);
}

TEST(LatencyHistogramTest, PercentilesWithinOnePercent) {
  LatencyHistogram h;
  // 1..100000 microseconds in ns: the percentile of a uniform ramp is known exactly.
  for (uint64_t us = 1; us <= 100'000; ++us)
    h.Record(us * 1000);
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    const double expected = q * 100'000 * 1000;
    EXPECT_NEAR(static_cast<double>(h.ValueAt(q)) / expected, 1.0, 0.01) << "q " << q;
  }
  EXPECT_EQ(h.Min(), 1000u);
  EXPECT_EQ(h.Max(), 100'000'000u);
  EXPECT_EQ(h.Count(), 100'000u);
}

TEST(LatencyHistogramTest, MonotoneAndClampedToMax) {
  LatencyHistogram h;
  for (int i = 0; i < 990; ++i)
    h.Record(200'000);  // 0.2 ms
  for (int i = 0; i < 10; ++i)
    h.Record(50'000'000);  // 50 ms: the 1% tail
  EXPECT_NEAR(static_cast<double>(h.ValueAt(0.5)), 200'000, 2'000);
  EXPECT_NEAR(static_cast<double>(h.ValueAt(0.99)), 200'000, 2'000);
  EXPECT_NEAR(static_cast<double>(h.ValueAt(0.995)), 50'000'000, 500'000);
  EXPECT_LE(h.ValueAt(1.0), h.Max());
  uint64_t previous = 0;
  for (int i = 0; i <= 1000; ++i) {
    const uint64_t v = h.ValueAt(i / 1000.0);
    EXPECT_GE(v, previous);
    previous = v;
  }
}

TEST(LatencyHistogramTest, HugeValuesLandInTheLastBucket) {
  LatencyHistogram h;
  h.Record(~uint64_t{0});
  EXPECT_EQ(h.Count(), 1u);
  EXPECT_EQ(h.ValueAt(0.5), ~uint64_t{0});  // clamped to the recorded max
}

TEST(LatencyHistogramTest, MergeAddsCounts) {
  LatencyHistogram a, b;
  for (uint64_t v = 1; v <= 1000; ++v)
    (v % 2 ? a : b).Record(v * 1000);
  a.Merge(b);
  EXPECT_EQ(a.Count(), 1000u);
  EXPECT_EQ(a.Min(), 1000u);
  EXPECT_EQ(a.Max(), 1'000'000u);
  EXPECT_NEAR(static_cast<double>(a.ValueAt(0.5)), 500'000, 5'000);
}

}  // namespace
}  // namespace meridian
