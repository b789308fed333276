// (1) The strong-consistency tax: the same open-loop mix sent to one region at a time through
// the gen library; the local classes answer from that region, a handle claim waits for a
// majority across the WAN. Then, per region, sequential reads of one handle it claimed: under a
// read lease (docs/strong.md) they are answered by the region alone.
#include <algorithm>
#include <chrono>
#include <map>
#include <string>

#include "gen/runner.h"
#include "lab/experiments.h"
#include "lab/lab_context.h"

namespace meridian {

namespace {

constexpr double kNsPerMs = 1e6;
constexpr uint64_t kWarmupNs = 1'000'000'000;
// Points per CDF curve: every percentile, then the tail in finer steps.
constexpr int kCdfPercentiles = 100;
constexpr double kCdfTail[] = {0.995, 0.999, 1.0};

// The write-latency CDF of each class over every region, from the gen histograms (each value
// is within 1/128 of a recorded latency: see gen/histogram.h).
LabPlot LatencyCdfPlot(const std::map<std::string, LatencyHistogram>& by_class) {
  LabPlot plot{.file = "tax_write_latency_cdf",
               .title = "Write latency CDF per class (all regions; handle = strong claim)",
               .x_label = "latency from intended send time (ms, log)",
               .y_label = "fraction of acknowledged writes <= x",
               .log_x = true,
               .style = "lines"};
  for (const auto& [label, histogram] : by_class) {
    if (histogram.Count() == 0) continue;
    PlotSeries series{label + " (" + std::to_string(histogram.Count()) + " writes)", {}};
    series.points.push_back({static_cast<double>(histogram.Min()) / kNsPerMs, 0.0});
    for (int i = 1; i < kCdfPercentiles; ++i) {
      const double q = static_cast<double>(i) / kCdfPercentiles;
      series.points.push_back({static_cast<double>(histogram.ValueAt(q)) / kNsPerMs, q});
    }
    for (double q : kCdfTail)
      series.points.push_back({static_cast<double>(histogram.ValueAt(q)) / kNsPerMs, q});
    plot.series.push_back(std::move(series));
  }
  return plot;
}

// The ms at quantile q of `sorted_ms` (nearest rank), 0 when empty.
double NearestRank(const std::vector<double>& sorted_ms, double q) {
  if (sorted_ms.empty()) return 0;
  const auto rank = static_cast<size_t>(q * static_cast<double>(sorted_ms.size()) + 0.999999);
  return sorted_ms[std::min(rank == 0 ? 0 : rank - 1, sorted_ms.size() - 1)];
}

// `reads` sequential GETs of a handle claimed at region r, by a client beside it (loopback): the
// first read's round takes a lease, reads under it are answered locally, and the first read after
// it ends renews it with a round to the nearest majority.
void MeasureHandleReads(const LabContext& context, size_t r, int reads, ExperimentResult& result) {
  const std::string& region = context.region_names[r];
  const std::string target = "/handle/tax-read-" + region + "-" + std::to_string(context.seed);
  auto claim =
      LabCall(context.region_http[r], "PUT", target, nlohmann::json{{"owner", "lab"}}.dump());
  // 409: claimed by an earlier run of the same seed on this cluster; a read serves it all the same.
  if (!claim.ok() || (claim->status != 201 && claim->status != 409)) {
    result.Assert(
        "handle claimed for the reads in " + region, false,
        claim.ok() ? "answered " + std::to_string(claim->status) : claim.status().ToString());
    return;
  }
  std::vector<double> latencies;
  int failed = 0;
  for (int i = 0; i < reads; ++i) {
    auto read = LabCall(context.region_http[r], "GET", target);
    if (read.ok() && read->status == 200) {
      latencies.push_back(read->latency_ms);
    } else {
      ++failed;
    }
  }
  std::sort(latencies.begin(), latencies.end());
  result.Metric(region + " handle read p50", NearestRank(latencies, 0.5), "ms");
  result.Metric(region + " handle read p99", NearestRank(latencies, 0.99), "ms");
  result.Metric(region + " handle reads failed", failed, "reads");
}

}  // namespace

ExperimentResult RunTaxExperiment(const LabContext& context) {
  ExperimentResult result =
      context.NewResult("tax", "local write latency per class vs handle claim (strong) latency");
  const double rate = context.quick ? 40 : 200;
  const uint64_t duration_ns = context.quick ? 2'000'000'000ULL : 20'000'000'000ULL;
  uint64_t failures_total = 0;
  std::map<std::string, LatencyHistogram> by_class;  // "counter incr" -> merged over regions
  for (size_t r = 0; r < context.region_count(); ++r) {
    const std::string& region = context.region_names[r];
    GenOptions options;
    options.workload.seed = context.seed + r;
    // Near-uniform keys over a large keyspace, so claims of one name rarely collide (the default
    // Zipf 1.1 repeats hot names, whose second claim is a 409, not a measure of latency).
    options.workload.keyspace = 1'000'000;
    options.workload.zipf_exponent = 0.01;
    options.workload.mix.weights = {1, 1, 1, 0, 1};
    options.workload.read_fraction = 0;
    options.api_key = context.client_key;
    options.workload.tags_remove_fraction = 0;
    options.workload.clients = 4;
    options.workload.steps = {RateStep{rate, duration_ns}};
    options.workload.key_prefix = "tax-" + region + "-";
    options.targets = {GenTarget{region, context.region_http[r]}};
    // One request per connection at a time (HTTP/1.1): a claim holds its connection for a round
    // trip to the nearest majority (80-130 ms, round 1 of docs/strong.md; twice that when claims
    // contend), so at 200 ops/s a quarter of them claims keeps ~7-13 busy.
    // Too few connections would queue local writes behind claims and measure the queue.
    options.connections_per_target = 64;
    // Connections and caches warm before measuring: a quick run has ~20 ops per class, so a
    // few cold first requests would otherwise be the p99.
    options.warmup_ns = kWarmupNs;
    auto report = RunGen(options);
    if (!report.ok()) {
      result.Assert("gen run from " + region, false, report.status().ToString());
      continue;
    }
    for (const auto& [key, stats] : report->ops) {
      const auto& [step, op_class, kind] = key;
      if (kind != OpKind::kWrite) continue;
      const std::string op_label =
          std::string(OpClassName(op_class)) + " " + std::string(OpName(op_class, kind));
      const std::string label = region + " " + op_label;
      by_class[op_label].Merge(stats.latency);
      result.Metric(label + " p50", static_cast<double>(stats.latency.ValueAt(0.5)) / kNsPerMs,
                    "ms");
      result.Metric(label + " p99", static_cast<double>(stats.latency.ValueAt(0.99)) / kNsPerMs,
                    "ms");
      result.Metric(label + " ok", static_cast<double>(stats.ok), "ops");
      result.Metric(label + " failed or dropped",
                    static_cast<double>(stats.failed() + stats.dropped), "ops");
      failures_total += stats.failed() + stats.dropped;
    }
  }
  result.Metric("failed or dropped ops (all regions)", static_cast<double>(failures_total), "ops");
  const int reads = context.quick ? 50 : 300;
  for (size_t r = 0; r < context.region_count(); ++r)
    MeasureHandleReads(context, r, reads, result);
  result.plots.push_back(LatencyCdfPlot(by_class));
  result.notes.push_back(
      "Open loop at " + std::to_string(static_cast<int>(rate)) +
      " ops/s per region; latency from the intended send time (gen library), "
      "writes only, mix profile=1,counter=1,tags=1,handle=1, after a 1 s warm-up.");
  result.notes.push_back(
      "Equivalent gen run per region: meridian gen --target REGION=ADDR --mix "
      "profile=1,counter=1,tags=1,handle=1 --reads 0 --keyspace 1000000 --zipf 0.01 --clients 4 "
      "--connections 64 --rate " +
      std::to_string(static_cast<int>(rate)) + " --duration " +
      std::to_string(duration_ns / 1'000'000'000ULL) +
      "s --warmup 1s --key-prefix tax-REGION- --seed " + std::to_string(context.seed) +
      "+region index (tags removes 0 is lab-only).");
  result.notes.push_back(
      "Handle reads: per region, " + std::to_string(reads) +
      " sequential GET /handle/NAME of one name that region claimed, after its load; latency is "
      "the HTTP round trip on loopback (LabReply::latency_ms). A read under the region's read "
      "lease is answered locally; the read that renews the lease is a round to the nearest "
      "majority (docs/strong.md, Read leases).");
  result.notes.push_back(
      "A handle claim that collides with an earlier claim answers 409 and "
      "counts as failed; failures are figures here, not assertions.");
  return result;
}

}  // namespace meridian
