// MetricsText: reads what a Meridian server exports on /metrics (Prometheus text format 0.0.4)
// back into samples, and merges a histogram's buckets across label sets, for `meridian status`.
// Pure functions: text in, values out.
//
// Invariants:
//  1. ParseMetricsText skips comments and blank lines; a sample line that does not parse is an
//     InvalidArgument quoting it (a server that answers garbage is not read as zeros).
//  2. MergeHistogram returns lab/lag_histogram.h's BucketCounts shape: bounds increasing, the
//     last one +Inf, cumulative counts; label sets whose bounds differ are an InvalidArgument.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "lab/lag_histogram.h"

namespace meridian {

struct MetricSample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

using MetricLabels = std::map<std::string, std::string>;

Result<std::vector<MetricSample>> ParseMetricsText(std::string_view text);

// The buckets of histogram `name` (its `name_bucket` samples) summed over every label set that
// `keep` accepts (`le` removed before asking). Empty BucketCounts when none matches.
Result<BucketCounts> MergeHistogram(const std::vector<MetricSample>& samples,
                                    const std::string& name,
                                    const std::function<bool(const MetricLabels&)>& keep);

}  // namespace meridian
