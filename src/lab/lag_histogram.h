// Replication lag as the regions export it on GET /metrics, and the figures the lab draws from
// it: per-link bucket deltas between two scrapes, quantiles from those deltas, and the knee of a
// lag-vs-rate curve. Pure functions: text in, numbers out; no I/O, no clock.
//
// A region exports meridian_replication_lag_seconds{origin="X"} (src/server/region_metrics.h):
// apply time in that region minus the op's origin physical time. The link "X->R" is the
// histogram labelled origin X scraped from region R.
//
// Invariants:
//  1. BucketCounts keeps Prometheus' shape: upper bounds strictly increasing, the last one +Inf,
//     cumulative counts non-decreasing; every function here returns counts in that shape.
//  2. BucketQuantile lies within [0, the largest finite bound]: a quantile is never extrapolated
//     past what the buckets can tell.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace meridian {

inline constexpr std::string_view kLagMetricName = "meridian_replication_lag_seconds";
inline constexpr std::string_view kBacklogMetricName = "meridian_replication_backlog_ops";
inline constexpr std::string_view kWalSyncMetricName = "meridian_wal_sync_seconds";

struct BucketCounts {
  std::vector<double> upper_bounds;  // seconds, strictly increasing, the last one +Inf
  std::vector<uint64_t> cumulative;  // observations <= upper_bounds[i]
  uint64_t count() const { return cumulative.empty() ? 0 : cumulative.back(); }
};

// "us->eu": ops written in `origin`, applied in `region`.
std::string LinkName(const std::string& origin, const std::string& region);

// The lag histograms of one region's /metrics text, by origin region name. Other metrics are
// skipped. InvalidArgument when a lag bucket line does not parse, or a histogram has no +Inf
// bucket or decreasing counts.
Result<std::map<std::string, BucketCounts>> ParseLagHistograms(std::string_view metrics_text);
// The same for any histogram family `name`, by the value of its label `by` ("" for a family
// without labels: one entry, keyed ""). Absent family: an empty map.
Result<std::map<std::string, BucketCounts>> ParseHistograms(std::string_view metrics_text,
                                                            std::string_view name,
                                                            const std::string& by);

// The sum of every sample of the gauge or counter `name` (any labels) in the text; 0 if absent.
// InvalidArgument when one of its lines does not parse.
Result<double> SumMetric(std::string_view metrics_text, std::string_view name);

// after - before, bucket by bucket; `before` with no buckets counts as zeros. InvalidArgument
// when the bounds differ or a count went down (the region restarted between the scrapes).
Result<BucketCounts> SubtractBuckets(const BucketCounts& after, const BucketCounts& before);

// Adds `more` into `into` (an empty `into` becomes a copy). InvalidArgument when both have
// buckets and their bounds differ.
Status AddBuckets(BucketCounts& into, const BucketCounts& more);

// The q-quantile (0 <= q <= 1) in seconds, as Prometheus' histogram_quantile computes it: the
// bucket holding rank q * count, linearly interpolated between its lower bound (0 for the first)
// and its upper bound; rank in the +Inf bucket answers the largest finite bound. nullopt when
// there is no observation.
std::optional<double> BucketQuantile(const BucketCounts& buckets, double q);

// The upper bound of the highest bucket holding an observation (+Inf when the +Inf bucket
// does): the largest value observed, to within its bucket. nullopt when there is none.
std::optional<double> BucketMaxBound(const BucketCounts& buckets);

// The knee rule: a step's p99 is past the knee once it exceeds
// max(factor * base, base + margin_s), base being the smallest p99 of the two lowest rates that
// have one (KneeBase): a stall during the lowest step (a slow fsync of the shared disk) can only
// raise its p99, and would otherwise raise every threshold with it.
struct KneeRule {
  double factor = 2.0;     // twice the unloaded lag: a queue has formed somewhere
  double margin_s = 0.10;  // and at least 100 ms more: below that, bucket width (x2) and jitter
};

// The threshold the rule gives for `base_s`.
double KneeThreshold(const KneeRule& rule, double base_s);
// The base of a link's threshold: the smaller p99 of its first two steps with one; nullopt
// when no step has one.
std::optional<double> KneeBase(const std::vector<std::optional<double>>& p99_s_by_step);

// The index of the first step after the first one with a p99 whose p99 exceeds the threshold of
// KneeBase, for steps in increasing
// rate order with their p99 in seconds (nullopt: no samples at that step, skipped). nullopt when
// no step does, or no step has a p99.
std::optional<size_t> FindKnee(const std::vector<std::optional<double>>& p99_s_by_step,
                               const KneeRule& rule);

// The same, sustained: the first step past the threshold from which every later step with a
// p99 is past it too. A queue that formed at a rate stays at every higher one; a one-off stall
// (a slow fsync of the disk every region shares) lifts one step only. Never before FindKnee's.
std::optional<size_t> FindSustainedKnee(const std::vector<std::optional<double>>& p99_s_by_step,
                                        const KneeRule& rule);

}  // namespace meridian
