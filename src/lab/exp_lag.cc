// (4) Replication lag vs write rate. Open-loop counter increments spread over every region (gen
// library), a short unmeasured warm-up, then one constant-rate step at a time, rates rising. Around
// each step every region's GET /metrics is scraped (after the step, once the replication backlog
// has drained, so a step's histogram deltas hold exactly its own ops); per link (origin->region)
// the p50/p99 lag comes from the bucket deltas. The knee is the first rate at which a link's p99
// leaves its base (KneeBase) by the KneeRule; the sustained knee, the first from which it stays
// past. Asserted: every region converges on every counter written (nothing lost, nothing
// doubled). Timings are figures only.
#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "lab/counter_load.h"
#include "lab/experiments.h"
#include "lab/lag_scrape.h"

namespace meridian {

namespace {

// Past this share of a step's ops unacknowledged, the cluster is beyond its ceiling: higher
// steps would only pile onto a saturated machine (and lengthen the drain for nothing).
constexpr double kRampStopUnackedShare = 0.2;
// The warm-up before the first measured step (see RunLagExperiment).
constexpr uint64_t kWarmUpNs = 2'000'000'000ULL;

struct LagStep {
  double rate = 0;
  double achieved = 0;  // acknowledged ops per second of the step
  uint64_t unacked = 0;
  uint64_t planned = 0;
  double drain_s = -1;  // step end to zero backlog; -1 when not within the bound
  LinkBuckets delta;
  LinkBuckets wal_syncs;  // per region: its WAL fsyncs during the step
};

std::optional<double> LinkQuantileMs(const LagStep& step, const std::string& link, double q) {
  auto it = step.delta.find(link);
  if (it == step.delta.end()) return std::nullopt;
  auto seconds = BucketQuantile(it->second, q);
  if (!seconds) return std::nullopt;
  return *seconds * 1000.0;
}

// Runs one step; appends it to `steps` unless gen could not run. False when the ramp must stop.
bool RunStep(const LabContext& context, const CounterLoad& load, std::chrono::milliseconds drain,
             ClusterScrape& before, std::map<std::string, int64_t>& planned,
             std::vector<LagStep>& steps, ExperimentResult& result) {
  const GenOptions options = CounterLoadOptions(context, load);
  auto report = RunGen(options);
  if (!report.ok()) {
    result.Assert("gen step at " + FormatLabNumber(load.ops_per_s) + " ops/s", false,
                  report.status().ToString());
    return false;
  }
  LagStep step;
  step.rate = load.ops_per_s;
  step.planned = AddPlannedCounterSums(PlannedWorkload(options), planned);
  step.unacked = UnacknowledgedOps(*report);
  step.achieved = static_cast<double>(step.planned - std::min(step.planned, step.unacked)) /
                  (static_cast<double>(load.duration_ns) / 1e9);
  const auto drain_start = std::chrono::steady_clock::now();
  auto after = WaitForDrain(context, drain);
  if (after.ok()) {
    step.drain_s = SecondsSince(drain_start);
  } else {
    result.notes.push_back("At " + FormatLabNumber(step.rate) +
                           " ops/s the backlog did not drain " +
                           "within the bound: " + after.status().ToString());
    after = ScrapeCluster(context);
  }
  if (!after.ok()) {
    result.Assert("scrape every region after " + FormatLabNumber(step.rate) + " ops/s", false,
                  after.status().ToString());
    return false;
  }
  auto delta = LinkDelta(after->links, before.links);
  if (!delta.ok()) {
    result.Assert("lag histogram deltas at " + FormatLabNumber(step.rate) + " ops/s", false,
                  delta.status().ToString());
    return false;
  }
  step.delta = std::move(*delta);
  auto wal_syncs = LinkDelta(after->wal_syncs, before.wal_syncs);
  if (!wal_syncs.ok()) {
    result.Assert("WAL fsync histogram deltas at " + FormatLabNumber(step.rate) + " ops/s", false,
                  wal_syncs.status().ToString());
    return false;
  }
  step.wal_syncs = std::move(*wal_syncs);
  before = std::move(*after);
  steps.push_back(std::move(step));
  const LagStep& done = steps.back();
  return static_cast<double>(done.unacked) <=
         kRampStopUnackedShare * static_cast<double>(done.planned);
}

// Per-step, per-link figures, the knee, and the lag-vs-rate plots.
void ReportSteps(const std::vector<LagStep>& steps, ExperimentResult& result) {
  std::vector<std::string> links;
  for (const LagStep& step : steps) {
    for (const auto& [link, buckets] : step.delta) {
      if (std::find(links.begin(), links.end(), link) == links.end()) links.push_back(link);
    }
  }
  std::sort(links.begin(), links.end());
  LabPlot p99_plot{.file = "lag_p99_vs_rate",
                   .title = "Replication lag p99 per link vs aggregate write rate",
                   .x_label = "write rate (ops/s, log)",
                   .y_label = "lag p99 (ms, log)",
                   .log_x = true,
                   .log_y = true};
  LabPlot p50_plot = p99_plot;
  p50_plot.file = "lag_p50_vs_rate";
  p50_plot.title = "Replication lag p50 per link vs aggregate write rate";
  p50_plot.y_label = "lag p50 (ms, log)";
  for (const LagStep& step : steps) {
    const std::string at = "step " + FormatLabNumber(step.rate) + " ops/s";
    result.Metric(at + ": achieved", step.achieved, "ops/s");
    result.Metric(at + ": unacknowledged", static_cast<double>(step.unacked), "ops");
    if (step.drain_s >= 0) result.Metric(at + ": backlog drained after", step.drain_s, "s");
    // A stall of the disk the regions share delays every link at once (in --wal-sync always an
    // op leaves for peers only once synced): the slowest fsync tells it from a queue.
    std::optional<double> slowest_sync;
    std::string slowest_region;
    for (const auto& [region, buckets] : step.wal_syncs) {
      const std::optional<double> bound = BucketMaxBound(buckets);
      if (bound && (!slowest_sync || *bound > *slowest_sync)) {
        slowest_sync = bound;
        slowest_region = region;
      }
    }
    if (slowest_sync) {
      // Past the last finite bucket: that bound, named as a floor (JSON has no infinity).
      const bool beyond = std::isinf(*slowest_sync);
      const BucketCounts& buckets = step.wal_syncs.at(slowest_region);
      const double bound =
          beyond ? buckets.upper_bounds[buckets.upper_bounds.size() - 2] : *slowest_sync;
      result.Metric(at + ": slowest WAL fsync, " + (beyond ? "more than" : "at most") + " (" +
                        slowest_region + ")",
                    bound * 1000, "ms");
    }
    for (const std::string& link : links) {
      const auto p50 = LinkQuantileMs(step, link, 0.5);
      const auto p99 = LinkQuantileMs(step, link, 0.99);
      if (!p50 || !p99) continue;
      result.Metric(at + ", " + link + ": lag p50", *p50, "ms");
      result.Metric(at + ", " + link + ": lag p99", *p99, "ms");
    }
  }
  const KneeRule rule;
  std::optional<size_t> knee;
  std::optional<size_t> sustained_knee;
  double lowest_p99_ms = -1;
  for (const std::string& link : links) {
    PlotSeries p99_series{link + " p99", {}};
    PlotSeries p50_series{link + " p50", {}};
    std::vector<std::optional<double>> p99_s;
    for (const LagStep& step : steps) {
      const auto p99 = LinkQuantileMs(step, link, 0.99);
      const auto p50 = LinkQuantileMs(step, link, 0.5);
      p99_s.push_back(p99 ? std::optional<double>(*p99 / 1000.0) : std::nullopt);
      if (p99) p99_series.points.push_back({step.rate, *p99});
      if (p50) p50_series.points.push_back({step.rate, *p50});
    }
    p99_plot.series.push_back(std::move(p99_series));
    p50_plot.series.push_back(std::move(p50_series));
    if (!p99_s.empty() && p99_s.front()) lowest_p99_ms = std::max(lowest_p99_ms, *p99_s[0] * 1000);
    const std::optional<size_t> link_knee = FindKnee(p99_s, rule);
    if (link_knee) {
      result.notes.push_back(link + ": p99 " + FormatLabNumber(*p99_s[*link_knee] * 1000) +
                             " ms at " + FormatLabNumber(steps[*link_knee].rate) +
                             " ops/s is past its knee threshold");
      knee = knee ? std::min(*knee, *link_knee) : *link_knee;
    }
    if (const std::optional<size_t> link_sustained = FindSustainedKnee(p99_s, rule)) {
      sustained_knee =
          sustained_knee ? std::min(*sustained_knee, *link_sustained) : *link_sustained;
    }
  }
  if (lowest_p99_ms >= 0) {
    result.Metric("lag p99 at the lowest rate (" + FormatLabNumber(steps.front().rate) +
                      " ops/s), largest over links",
                  lowest_p99_ms, "ms");
  }
  if (knee) {
    result.Metric("knee: first rate at which some link's p99 lag is past the threshold",
                  steps[*knee].rate, "ops/s");
  } else if (!steps.empty()) {
    result.notes.push_back("No knee up to " + FormatLabNumber(steps.back().rate) +
                           " ops/s: every link's p99 stayed within its threshold.");
  }
  if (sustained_knee) {
    result.Metric("sustained knee: first rate from which some link's p99 stays past the threshold",
                  steps[*sustained_knee].rate, "ops/s");
  } else if (knee) {
    result.notes.push_back(
        "No sustained knee up to " + FormatLabNumber(steps.back().rate) +
        " ops/s: every step past a threshold was followed by one back within it (a one-off "
        "stall, not a queue; see the step's slowest WAL fsync).");
  }
  result.plots.push_back(std::move(p99_plot));
  result.plots.push_back(std::move(p50_plot));
}

}  // namespace

ExperimentResult RunLagExperiment(const LabContext& context) {
  ExperimentResult result =
      context.NewResult("lag", "replication lag per link vs write rate, and the knee");
  const std::vector<double> rates =
      context.quick
          ? std::vector<double>{200, 1000, 3000}
          : std::vector<double>{250, 500, 1000, 2000, 4000, 8000, 12000, 16000, 24000, 32000};
  const uint64_t step_ns = context.quick ? 2'000'000'000ULL : 20'000'000'000ULL;
  const auto drain = context.quick ? std::chrono::seconds(20) : std::chrono::seconds(120);
  const auto converge = context.quick ? std::chrono::seconds(30) : std::chrono::seconds(300);
  CounterLoad load;
  load.key_prefix = "lag-" + std::to_string(context.seed) + "-";
  load.keyspace = context.quick ? 200 : 2'000;
  load.duration_ns = step_ns;

  // A warm-up at the lowest rate, before the first scrape: its ops are checked with the rest but
  // its lag is not a step's, so the first step does not carry the links' first batches. (The
  // stalls of the shared disk seen in the first minute after a start, 2026-12-06, came with or
  // without it: KneeBase is what keeps one from raising every threshold.)
  std::map<std::string, int64_t> planned;
  uint64_t unacked = 0;
  CounterLoad warm_up = load;
  warm_up.seed = context.seed + rates.size();  // not a step's seed: its keys' sums differ
  warm_up.ops_per_s = rates.front();
  warm_up.duration_ns = kWarmUpNs;
  const GenOptions warm_up_options = CounterLoadOptions(context, warm_up);
  auto warm_up_report = RunGen(warm_up_options);
  if (!warm_up_report.ok()) {
    result.Assert("gen warm-up", false, warm_up_report.status().ToString());
    return result;
  }
  AddPlannedCounterSums(PlannedWorkload(warm_up_options), planned);
  unacked += UnacknowledgedOps(*warm_up_report);

  auto before = WaitForDrain(context, drain);  // earlier traffic settles first
  if (!before.ok()) before = ScrapeCluster(context);
  if (!before.ok()) {
    result.Assert("scrape every region's /metrics", false, before.status().ToString());
    return result;
  }
  std::vector<LagStep> steps;
  for (size_t i = 0; i < rates.size(); ++i) {
    load.seed = context.seed + i;
    load.ops_per_s = rates[i];
    if (!RunStep(context, load, drain, *before, planned, steps, result)) {
      if (i + 1 < rates.size()) {
        result.notes.push_back("The ramp stopped after " + FormatLabNumber(rates[i]) +
                               " ops/s (more than 20% of its ops unacknowledged, or a failure "
                               "above): the cluster's ceiling on this machine.");
      }
      break;
    }
  }
  ReportSteps(steps, result);

  for (const LagStep& step : steps)
    unacked += step.unacked;
  const CounterCheck check = WaitForCounters(context, planned, unacked, converge);
  result.Metric("counter keys written", static_cast<double>(check.keys), "keys");
  result.Metric("after the ramp: every region equal on every key", check.seconds, "s");
  AssertCounters(check, result);

  const KneeRule rule;
  result.notes.push_back(
      "Load: counter increments only (open loop, gen library), " + std::to_string(load.keyspace) +
      " Zipfian keys, clients pinned round-robin to every region; a warm-up of " +
      FormatLabNumber(static_cast<double>(kWarmUpNs) / 1e9) +
      " s at the lowest rate (its ops checked, its lag not reported), then one step per rate, " +
      FormatLabNumber(static_cast<double>(step_ns) / 1e9) +
      " s each. Each step: " + CounterLoadCommand(context, load) +
      " with --rate and --seed (lab seed + step index) per step.");
  result.notes.push_back(
      "Lag is meridian_replication_lag_seconds (apply time in the receiving region minus the "
      "op's origin physical time; all processes share one clock here). Per link, p50/p99 come "
      "from the bucket deltas between a scrape before the step and one after it, once the "
      "replication backlog is 0 everywhere. The buckets double (1 ms, 2 ms, ... 32.8 s) and a "
      "quantile interpolates linearly inside its bucket (as Prometheus' histogram_quantile), "
      "so a figure is good to its bucket's width. The drain time runs from gen's last answer to "
      "the first scrape (every 100 ms) that shows no backlog.");
  result.notes.push_back(
      "Knee rule: a link's knee is the first step whose p99 exceeds max(" +
      FormatLabNumber(rule.factor) + " x base, base + " + FormatLabNumber(rule.margin_s * 1000) +
      " ms), base being the smaller p99 of its two lowest rates (a stall can only raise a "
      "p99); the cluster's knee is the lowest such rate over links, its sustained knee the "
      "lowest rate from which some link stays past its threshold. The one-way WAN delay of a "
      "link is half its RTT (see Cluster above). Unacknowledged ops (dropped by gen's in-flight "
      "bound, failed or timed out) are figures: past the knee the machine, not only "
      "replication, is saturated (every process shares its cores).");
  return result;
}

}  // namespace meridian
