// The end-of-run report of `meridian gen`: a table for people and a JSON summary for the lab.
//
// Latencies are milliseconds from the op's intended send time to its response, over ops answered
// 2xx; failures are counted by HTTP status or transport error; "achieved" is 2xx answers per
// second of schedule. In a ramp, the ceiling is the highest step that kept up (see Ceiling).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "gen/runner.h"

namespace meridian {

// A step keeps up when its 2xx rate is at least this share of its target, nothing was dropped
// and at most kFailedShareMax of its ops failed.
inline constexpr double kKeptUpShareMin = 0.95;
inline constexpr double kFailedShareMax = 0.01;

struct StepSummary {
  uint32_t step = 0;
  double target_ops_per_s = 0;
  double seconds = 0;
  double achieved_ops_per_s = 0;
  OpStats all;     // every op of the step
  OpStats writes;  // every kind but reads
  OpStats reads;
  bool kept_up = false;
};

std::vector<StepSummary> SummarizeSteps(const GenReport& report);

struct Ceiling {
  uint32_t peak_step = 0;  // the highest step that kept up
  double peak_ops_per_s = 0;
  uint32_t half_step = 0;  // the step whose target is nearest half the peak
};
// nullopt unless the report has several steps and at least one kept up.
std::optional<Ceiling> FindCeiling(const std::vector<StepSummary>& steps);

// The human-readable report (ramp table when several steps, per class/op table, totals).
std::string FormatReportTable(const GenReport& report);
// The JSON summary; `command` is echoed so the numbers can be reproduced.
std::string FormatReportJson(const GenReport& report, const std::string& command);

}  // namespace meridian
