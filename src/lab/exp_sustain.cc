// (4, sustained) Flat lag under a long constant load: the counter load of `lag` at one moderate
// rate for LabContext::sustain_minutes, with every region's /metrics scraped every sampling
// interval; per link, the p99 of each interval's bucket deltas is a point of the lag-over-time
// plot, and the first window's p99 is compared with the last window's. Asserted: every region
// converges on every counter written. Flatness is a figure (the ratio), never asserted.
#include <algorithm>
#include <future>
#include <optional>
#include <string>
#include <vector>

#include "lab/counter_load.h"
#include "lab/experiments.h"
#include "lab/lag_scrape.h"

namespace meridian {

namespace {

// Ten seconds per sample over half an hour is 180 points per link: a readable plot, and each
// interval still holds thousands of remote applies per link at the default rate.
constexpr double kSampleIntervalSecondsMax = 10;
// The windows compared: the first and last five minutes (or a third of a shorter run).
constexpr double kWindowSecondsMax = 300;

struct Interval {
  double end_s = 0;  // since the load started
  LinkBuckets delta;
};

// Merges the intervals that end within [from_s, to_s] per link, then takes the quantile (ms).
std::optional<double> WindowQuantileMs(const std::vector<Interval>& intervals,
                                       const std::string& link, double from_s, double to_s,
                                       double q) {
  BucketCounts merged;
  for (const Interval& interval : intervals) {
    if (interval.end_s < from_s || interval.end_s > to_s) continue;
    auto it = interval.delta.find(link);
    if (it != interval.delta.end() && !AddBuckets(merged, it->second).ok()) return std::nullopt;
  }
  auto seconds = BucketQuantile(merged, q);
  if (!seconds) return std::nullopt;
  return *seconds * 1000.0;
}

struct Sampling {
  std::vector<Interval> intervals;
  std::vector<std::pair<double, double>> backlog;  // (seconds since the start, ops)
  size_t failures = 0;
  std::string first_failure;
};

// Scrapes every region each interval until `gen` is ready, and once more for the load's tail.
// The bounded wait_for on the future is the sampling clock: no busy wait.
Sampling SampleUntilDone(const LabContext& context, std::future<Result<GenReport>>& gen,
                         double interval_s, std::chrono::steady_clock::time_point start,
                         ClusterScrape previous) {
  Sampling sampling;
  const auto interval = std::chrono::duration<double>(interval_s);
  bool done = false;
  while (!done) {
    done = gen.wait_for(interval) == std::future_status::ready;
    auto scrape = ScrapeCluster(context);
    Result<LinkBuckets> delta = scrape.ok() ? LinkDelta(scrape->links, previous.links)
                                            : Result<LinkBuckets>(scrape.status());
    if (!delta.ok()) {
      if (sampling.failures++ == 0) sampling.first_failure = delta.status().ToString();
      continue;
    }
    sampling.intervals.push_back({SecondsSince(start), std::move(*delta)});
    sampling.backlog.push_back({sampling.intervals.back().end_s, scrape->backlog_ops});
    previous = std::move(*scrape);
  }
  return sampling;
}

void ReportIntervals(const std::vector<Interval>& intervals, double duration_s,
                     ExperimentResult& result) {
  std::vector<std::string> links;
  for (const Interval& interval : intervals) {
    for (const auto& [link, buckets] : interval.delta) {
      if (std::find(links.begin(), links.end(), link) == links.end()) links.push_back(link);
    }
  }
  std::sort(links.begin(), links.end());
  const double window_s = std::min(kWindowSecondsMax, duration_s / 3);
  const double end_s = intervals.empty() ? 0 : intervals.back().end_s;
  LabPlot plot{.file = "sustain_lag_over_time",
               .title = "Replication lag p99 per link under sustained load",
               .x_label = "seconds since the load started",
               .y_label = "lag p99 per interval (ms, log)",
               .log_y = true};
  double worst_ratio = 0;
  for (const std::string& link : links) {
    PlotSeries series{link + " p99", {}};
    for (const Interval& interval : intervals) {
      auto it = interval.delta.find(link);
      if (it == interval.delta.end()) continue;
      if (auto p99 = BucketQuantile(it->second, 0.99))
        series.points.push_back({interval.end_s, *p99 * 1000});
    }
    plot.series.push_back(std::move(series));
    const auto first = WindowQuantileMs(intervals, link, 0, window_s, 0.99);
    const auto last = WindowQuantileMs(intervals, link, end_s - window_s, end_s, 0.99);
    const auto whole_p50 = WindowQuantileMs(intervals, link, 0, end_s, 0.5);
    const auto whole_p99 = WindowQuantileMs(intervals, link, 0, end_s, 0.99);
    if (whole_p50) result.Metric(link + ": lag p50, whole run", *whole_p50, "ms");
    if (whole_p99) result.Metric(link + ": lag p99, whole run", *whole_p99, "ms");
    if (first) result.Metric(link + ": lag p99, first window", *first, "ms");
    if (last) result.Metric(link + ": lag p99, last window", *last, "ms");
    if (first && last && *first > 0) worst_ratio = std::max(worst_ratio, *last / *first);
  }
  result.Metric("window compared", window_s, "s");
  if (worst_ratio > 0) {
    result.Metric("last-window p99 / first-window p99, largest over links", worst_ratio, "");
  }
  result.plots.push_back(std::move(plot));
}

}  // namespace

ExperimentResult RunSustainExperiment(const LabContext& context) {
  ExperimentResult result =
      context.NewResult("sustain", "sustained write load: replication lag over time (flat or not)");
  const double duration_s = context.sustain_minutes * 60;
  const double interval_s = std::clamp(duration_s / 6, 1.0, kSampleIntervalSecondsMax);
  CounterLoad load;
  load.key_prefix = "sustain-" + std::to_string(context.seed) + "-";
  load.seed = context.seed;
  load.keyspace = context.quick ? 200 : 2'000;
  load.ops_per_s = context.sustain_rate;
  load.duration_ns = static_cast<uint64_t>(duration_s * 1e9);
  const auto drain = context.quick ? std::chrono::seconds(20) : std::chrono::seconds(120);
  if (duration_s < 1 || load.ops_per_s <= 0) {
    result.Assert("sustain duration >= 1 s and rate > 0", false,
                  FormatLabNumber(duration_s) + " s at " + FormatLabNumber(load.ops_per_s));
    return result;
  }
  auto previous = WaitForDrain(context, drain);
  if (!previous.ok()) previous = ScrapeCluster(context);
  if (!previous.ok()) {
    result.Assert("scrape every region's /metrics", false, previous.status().ToString());
    return result;
  }
  const GenOptions options = CounterLoadOptions(context, load);
  std::map<std::string, int64_t> planned;
  const uint64_t planned_ops = AddPlannedCounterSums(PlannedWorkload(options), planned);
  const auto start = std::chrono::steady_clock::now();
  auto gen = std::async(std::launch::async, [options] { return RunGen(options); });
  Sampling sampling = SampleUntilDone(context, gen, interval_s, start, std::move(*previous));
  auto report = gen.get();
  if (!report.ok()) {
    result.Assert("gen run", false, report.status().ToString());
    return result;
  }
  const uint64_t unacked = UnacknowledgedOps(*report);
  result.Metric("target rate", load.ops_per_s, "ops/s");
  result.Metric("load duration", SecondsSince(start), "s");
  result.Metric("ops planned", static_cast<double>(planned_ops), "ops");
  result.Metric("ops unacknowledged", static_cast<double>(unacked), "ops");
  result.Metric("sampling interval", interval_s, "s");
  result.Metric("samples", static_cast<double>(sampling.intervals.size()), "");
  if (sampling.failures > 0) {
    result.Metric("samples lost (a scrape failed)", static_cast<double>(sampling.failures), "");
    result.notes.push_back("First failed scrape: " + sampling.first_failure);
  }
  ReportIntervals(sampling.intervals, duration_s, result);
  result.plots.push_back({.file = "sustain_backlog_over_time",
                          .title = "Replication backlog under sustained load (all regions, peers)",
                          .x_label = "seconds since the load started",
                          .y_label = "ops not yet acknowledged by peers",
                          .style = "lines",
                          .series = {{"backlog", std::move(sampling.backlog)}}});

  const auto converge = context.quick ? std::chrono::seconds(30) : std::chrono::seconds(300);
  (void)WaitForDrain(context, drain);
  const CounterCheck check = WaitForCounters(context, planned, unacked, converge);
  result.Metric("after the load: every region equal on every key", check.seconds, "s");
  AssertCounters(check, result);
  result.notes.push_back(
      "Load: " + CounterLoadCommand(context, load) +
      ". Rate and duration: --sustain-rate and --sustain-minutes of `meridian lab run`.");
  result.notes.push_back(
      "Each point is the p99 of the lag histogram's bucket deltas over one sampling interval "
      "(see `lag` for how quantiles come from buckets). Flat lag: the last window's p99 close "
      "to the first's (ratio near 1) and no upward trend in the plot; this is shown, not "
      "asserted.");
  return result;
}

}  // namespace meridian
