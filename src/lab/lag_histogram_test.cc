#include "lab/lag_histogram.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace meridian {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// The shape a region renders (src/obs/metrics.cc), with two origins and other metrics around.
constexpr std::string_view kScrape =
    "# HELP meridian_replication_lag_seconds Apply time here minus the op's origin time.\n"
    "# TYPE meridian_replication_lag_seconds histogram\n"
    "meridian_replication_lag_seconds_bucket{origin=\"eu\",le=\"0.001\"} 0\n"
    "meridian_replication_lag_seconds_bucket{origin=\"eu\",le=\"0.002\"} 10\n"
    "meridian_replication_lag_seconds_bucket{origin=\"eu\",le=\"0.004\"} 90\n"
    "meridian_replication_lag_seconds_bucket{origin=\"eu\",le=\"+Inf\"} 100\n"
    "meridian_replication_lag_seconds_sum{origin=\"eu\"} 0.3\n"
    "meridian_replication_lag_seconds_count{origin=\"eu\"} 100\n"
    "meridian_replication_lag_seconds_bucket{origin=\"ap\",le=\"0.001\"} 1\n"
    "meridian_replication_lag_seconds_bucket{origin=\"ap\",le=\"0.002\"} 1\n"
    "meridian_replication_lag_seconds_bucket{origin=\"ap\",le=\"0.004\"} 1\n"
    "meridian_replication_lag_seconds_bucket{origin=\"ap\",le=\"+Inf\"} 1\n"
    "meridian_replication_backlog_ops{peer=\"eu\"} 3\n"
    "meridian_replication_backlog_ops{peer=\"ap\"} 4\n"
    "meridian_replication_backlog_ops_total_other 99\n";

BucketCounts Buckets(std::vector<uint64_t> cumulative) {
  BucketCounts b;
  b.upper_bounds = {0.001, 0.002, 0.004, kInf};
  b.cumulative = std::move(cumulative);
  return b;
}

TEST(LagHistogramTest, ParsesEveryOriginAndSkipsOtherMetrics) {
  auto parsed = ParseLagHistograms(kScrape);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->size(), 2u);
  const BucketCounts& eu = parsed->at("eu");
  EXPECT_EQ(eu.upper_bounds, (std::vector<double>{0.001, 0.002, 0.004, kInf}));
  EXPECT_EQ(eu.cumulative, (std::vector<uint64_t>{0, 10, 90, 100}));
  EXPECT_EQ(parsed->at("ap").count(), 1u);
  EXPECT_EQ(LinkName("eu", "us"), "eu->us");
}

TEST(LagHistogramTest, RefusesMalformedOrNonCumulative) {
  EXPECT_FALSE(
      ParseLagHistograms("meridian_replication_lag_seconds_bucket{origin=\"eu\" 3\n").ok());
  EXPECT_FALSE(
      ParseLagHistograms("meridian_replication_lag_seconds_bucket{origin=\"eu\",le=\"0.1\"} 5\n"
                         "meridian_replication_lag_seconds_bucket{origin=\"eu\",le=\"+Inf\"} 4\n")
          .ok());
  EXPECT_FALSE(
      ParseLagHistograms("meridian_replication_lag_seconds_bucket{origin=\"eu\",le=\"0.1\"} 5\n")
          .ok());  // no +Inf bucket
  auto empty = ParseLagHistograms("# nothing here\n");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(LagHistogramTest, ParsesAFamilyWithoutLabelsAndFindsItsLargestObservation) {
  auto parsed = ParseHistograms(std::string(kScrape) +
                                    "meridian_wal_sync_seconds_bucket{le=\"0.001\"} 7\n"
                                    "meridian_wal_sync_seconds_bucket{le=\"0.002\"} 7\n"
                                    "meridian_wal_sync_seconds_bucket{le=\"0.004\"} 8\n"
                                    "meridian_wal_sync_seconds_bucket{le=\"+Inf\"} 8\n"
                                    "meridian_wal_sync_seconds_sum 0.01\n",
                                kWalSyncMetricName, "");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->size(), 1u);
  EXPECT_EQ(parsed->at("").cumulative, (std::vector<uint64_t>{7, 7, 8, 8}));
  EXPECT_EQ(BucketMaxBound(parsed->at("")), 0.004);
  EXPECT_EQ(BucketMaxBound(Buckets({0, 0, 0, 2})), kInf);
  EXPECT_EQ(BucketMaxBound(Buckets({3, 3, 3, 3})), 0.001);
  EXPECT_FALSE(BucketMaxBound(Buckets({0, 0, 0, 0})).has_value());
  // Grouped by a label the family's lines lack: refused, not silently merged.
  EXPECT_FALSE(ParseHistograms("meridian_wal_sync_seconds_bucket{le=\"+Inf\"} 8\n",
                               kWalSyncMetricName, "region")
                   .ok());
}

TEST(LagHistogramTest, SumsAGaugeOverItsLabelsOnly) {
  auto sum = SumMetric(kScrape, kBacklogMetricName);
  ASSERT_TRUE(sum.ok());
  EXPECT_EQ(*sum, 7);  // not the metric whose name merely starts the same
  auto absent = SumMetric(kScrape, "meridian_keys");
  ASSERT_TRUE(absent.ok());
  EXPECT_EQ(*absent, 0);
}

TEST(LagHistogramTest, DeltasSubtractBucketByBucket) {
  auto delta = SubtractBuckets(Buckets({1, 12, 95, 100}), Buckets({1, 2, 5, 5}));
  ASSERT_TRUE(delta.ok());
  EXPECT_EQ(delta->cumulative, (std::vector<uint64_t>{0, 10, 90, 95}));
  auto from_nothing = SubtractBuckets(Buckets({1, 2, 3, 4}), BucketCounts{});
  ASSERT_TRUE(from_nothing.ok());
  EXPECT_EQ(from_nothing->count(), 4u);
  EXPECT_FALSE(SubtractBuckets(Buckets({0, 0, 0, 1}), Buckets({0, 0, 0, 2})).ok());  // restart
  BucketCounts other = Buckets({0, 0, 0, 0});
  other.upper_bounds[0] = 0.0005;
  EXPECT_FALSE(SubtractBuckets(Buckets({0, 0, 0, 0}), other).ok());
}

TEST(LagHistogramTest, AddMergesWindows) {
  BucketCounts merged;
  ASSERT_TRUE(AddBuckets(merged, Buckets({1, 2, 3, 4})).ok());
  ASSERT_TRUE(AddBuckets(merged, Buckets({0, 1, 1, 1})).ok());
  EXPECT_EQ(merged.cumulative, (std::vector<uint64_t>{1, 3, 4, 5}));
  BucketCounts other = Buckets({0, 0, 0, 0});
  other.upper_bounds[1] = 0.003;
  EXPECT_FALSE(AddBuckets(merged, other).ok());
}

TEST(LagHistogramTest, QuantilesInterpolateWithinTheBucket) {
  // 0 in [0, 1 ms], 10 in (1, 2], 80 in (2, 4], 10 above 4 ms.
  const BucketCounts b = Buckets({0, 10, 90, 100});
  EXPECT_FALSE(BucketQuantile(BucketCounts{}, 0.5).has_value());
  EXPECT_FALSE(BucketQuantile(Buckets({0, 0, 0, 0}), 0.5).has_value());
  // Rank 50 is the 40th of 80 in (2, 4]: halfway.
  EXPECT_DOUBLE_EQ(*BucketQuantile(b, 0.5), 0.003);
  // Rank 5 is halfway through (1, 2].
  EXPECT_DOUBLE_EQ(*BucketQuantile(b, 0.05), 0.0015);
  // Rank 99 is in +Inf: the largest finite bound, never extrapolated.
  EXPECT_DOUBLE_EQ(*BucketQuantile(b, 0.99), 0.004);
  // Everything in the first bucket interpolates from 0.
  EXPECT_DOUBLE_EQ(*BucketQuantile(Buckets({4, 4, 4, 4}), 0.5), 0.0005);
  // Monotone in q.
  double last = 0;
  for (double q = 0; q <= 1.0; q += 0.01) {
    const double v = *BucketQuantile(b, q);
    EXPECT_GE(v, last);
    last = v;
  }
}

TEST(LagHistogramTest, AStalledLowestStepDoesNotRaiseTheThreshold) {
  const KneeRule rule;
  // The lowest step stalled (150 ms), the next one shows the unloaded lag (50 ms): the threshold
  // is 150 ms, not 300, so a step at 200 ms is past it.
  EXPECT_EQ(KneeBase({0.15, 0.05, 0.2}), std::optional<double>(0.05));
  EXPECT_EQ(FindKnee({0.15, 0.05, 0.06, 0.2}, rule), std::optional<size_t>(3));
  // Only the two lowest count: a later low value is not a base.
  EXPECT_EQ(KneeBase({0.15, 0.1, 0.01}), std::optional<double>(0.1));
  EXPECT_EQ(KneeBase({std::nullopt, 0.3}), std::optional<double>(0.3));
  EXPECT_FALSE(KneeBase({}).has_value());
}

TEST(LagHistogramTest, SustainedKneeIgnoresAStepThatComesBack) {
  const KneeRule rule;  // base 50 ms: threshold 150 ms
  // One stalled step (index 1), back under, then past for good from index 4.
  const std::vector<std::optional<double>> p99 = {0.05, 0.4, 0.06, 0.1, 0.2, 0.3};
  EXPECT_EQ(FindKnee(p99, rule), std::optional<size_t>(1));
  EXPECT_EQ(FindSustainedKnee(p99, rule), std::optional<size_t>(4));
  // Past only at a middle step: no sustained knee.
  EXPECT_FALSE(FindSustainedKnee({0.05, 0.4, 0.06}, rule).has_value());
  // Past from the first exceedance on: both agree; missing steps do not break the run.
  EXPECT_EQ(FindSustainedKnee({0.05, 0.06, 0.2, std::nullopt, 0.3}, rule),
            std::optional<size_t>(2));
  EXPECT_FALSE(FindSustainedKnee({0.05, 0.06}, rule).has_value());
  EXPECT_FALSE(FindSustainedKnee({}, rule).has_value());
}

TEST(LagHistogramTest, KneeIsTheFirstStepPastTheThreshold) {
  const KneeRule rule;  // max(2 x base, base + 100 ms)
  EXPECT_DOUBLE_EQ(KneeThreshold(rule, 0.05), 0.15);
  EXPECT_DOUBLE_EQ(KneeThreshold(rule, 0.3), 0.6);
  // Flat, then rising past 150 ms at the fourth step.
  EXPECT_EQ(FindKnee({0.05, 0.06, 0.149, 0.2, 5.0}, rule), std::optional<size_t>(3));
  // Never past: no knee.
  EXPECT_FALSE(FindKnee({0.05, 0.06, 0.15}, rule).has_value());
  // Steps without samples are skipped, the base included.
  EXPECT_EQ(FindKnee({std::nullopt, 0.3, std::nullopt, 0.61}, rule), std::optional<size_t>(3));
  EXPECT_FALSE(FindKnee({}, rule).has_value());
  EXPECT_FALSE(FindKnee({std::nullopt, std::nullopt}, rule).has_value());
}

}  // namespace
}  // namespace meridian
