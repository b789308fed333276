// The consistency ledger: what each `meridian lab` experiment measured, and its rendering as
// ledger.json and ledger.md. Pure data and pure functions: no I/O, no clock.
//
// Invariants:
//  1. An experiment passes iff every one of its assertions passed; a ledger passes iff every
//     experiment passed. Figures (metrics) never decide pass or fail: timings are reported only,
//     except a time bound an issue states as its claim, asserted by its experiment in full mode
//     (partition: issue 18's handle verdicts).
//  2. Rendering is deterministic: experiments, metrics and assertions keep the order they were
//     recorded in, so two equal ledgers render byte for byte the same.
//  3. Plots are data here (series of points); plots.h renders them for gnuplot and RunLab writes
//     and renders them. ledger.md links DIR/plots/<file>.svg by a relative path.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace meridian {

struct LabMetric {
  std::string name;  // "us profile put p99"
  double value = 0;
  std::string unit;  // "ms", "pairs", "%"
};

struct LabAssertion {
  std::string name;  // "all regions agree on every pair key"
  bool passed = false;
  std::string detail;  // what was seen, especially on failure
};

struct PlotSeries {
  std::string title;                              // "us->eu p99"
  std::vector<std::pair<double, double>> points;  // (x, y), in the order drawn
};

// One figure: DIR/plots/<file>.dat holds the series, <file>.gp the gnuplot script, and
// <file>.svg the rendering.
struct LabPlot {
  std::string file;  // [a-z0-9_-]+, unique within a ledger: "lag_p99_vs_rate"
  std::string title;
  std::string x_label;
  std::string y_label;
  bool log_x = false;
  bool log_y = false;
  std::string style = "linespoints";  // gnuplot's `with`: lines, linespoints, steps, points
  std::vector<PlotSeries> series{};
  std::vector<std::pair<double, std::string>> markers{};  // labelled vertical lines at x

  // True when some series has a point to draw (on a log axis, only coordinates > 0 can be).
  bool HasPoints() const;
};

struct ExperimentResult {
  std::string name;     // "lww"
  std::string title;    // "LWW lost updates under concurrent writes"
  std::string command;  // the exact command that reproduces it
  uint64_t seed = 0;
  std::vector<LabMetric> metrics;
  std::vector<LabAssertion> assertions;
  std::vector<std::string> notes;  // what the figures mean; shown, never asserted
  std::vector<LabPlot> plots;      // figures drawn from this experiment's samples

  void Metric(std::string metric_name, double value, std::string unit);
  void Assert(std::string assertion_name, bool passed, std::string detail);
  bool Passed() const;
};

struct Ledger {
  bool quick = false;
  std::string cluster;  // one line: regions and link RTTs
  std::vector<ExperimentResult> experiments;
  // Set by whoever wrote the plots (RunLab): true when gnuplot rendered every SVG; the note says
  // what happened otherwise ("gnuplot not found: ...").
  bool plots_rendered = false;
  std::string plots_note = "plots were not written";

  bool Passed() const;
};

// The whole ledger as a JSON document (pretty-printed, trailing newline).
std::string RenderLedgerJson(const Ledger& ledger);
// ledger.md: the per-class model table, then one section per experiment.
std::string RenderLedgerMarkdown(const Ledger& ledger);
// What the ledger's experiments measured for one class (profile, counter, tags, handle), as one
// line with units: the local write p50/p99 range over regions from `tax`, plus the class's
// correctness figures (lost LWW pairs from `lww`, lost increments or members from `crdt`, the
// replication lag at the lowest rate from `lag`, the RPO and RTO measured by `kill`).
// "not measured in this run" when none of those experiments ran.
std::string MeasuredForClass(const Ledger& ledger, const std::string& class_name);
// The reproducing commands of the experiments that measure `class_name`, joined by "; ".
std::string CommandsForClass(const Ledger& ledger, const std::string& class_name);

// A number as the ledger prints it: integers without decimals, others with two.
std::string FormatLabNumber(double value);

}  // namespace meridian
