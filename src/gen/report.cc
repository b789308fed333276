#include "gen/report.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace meridian {
namespace {

using Json = nlohmann::ordered_json;

double Ms(uint64_t ns) {
  return static_cast<double>(ns) / 1e6;
}

// The schedule's length: the steps' durations, or in conflict mode the time the pairs took.
// A run stopped early counts each step only up to the stop.
double ScheduleSeconds(const GenReport& report, uint32_t step) {
  if (report.conflict_mode) return report.elapsed_s;
  const double seconds = static_cast<double>(report.steps[step].duration_ns) / 1e9;
  if (!report.stopped_early) return seconds;
  double start = 0;
  for (uint32_t i = 0; i < step; ++i)
    start += static_cast<double>(report.steps[i].duration_ns) / 1e9;
  return std::clamp(report.elapsed_s - start, 0.0, seconds);
}

std::string FailureText(const OpStats& stats) {
  std::string out;
  for (const auto& [key, count] : stats.failures) {
    if (!out.empty()) out += ", ";
    out += key + ": " + std::to_string(count);
  }
  return out.empty() ? "-" : out;
}

Json LatencyJson(const LatencyHistogram& h) {
  Json out = Json::object();
  out["count"] = h.Count();
  out["p50"] = Ms(h.ValueAt(0.5));
  out["p99"] = Ms(h.ValueAt(0.99));
  out["p999"] = Ms(h.ValueAt(0.999));
  out["max"] = Ms(h.Max());
  out["mean"] = h.Mean() / 1e6;
  return out;
}

Json StatsJson(const OpStats& stats) {
  Json out = Json::object();
  out["planned"] = stats.planned;
  out["sent"] = stats.sent;
  out["ok"] = stats.ok;
  out["failed"] = stats.failed();
  out["dropped"] = stats.dropped;
  out["failures"] = Json::object();
  for (const auto& [key, count] : stats.failures)
    out["failures"][key] = count;
  out["latency_ms"] = LatencyJson(stats.latency);
  return out;
}

// Every (class, op) merged over the steps, in class then op order.
std::map<std::pair<OpClass, OpKind>, OpStats> ByClassAndOp(const GenReport& report) {
  std::map<std::pair<OpClass, OpKind>, OpStats> out;
  for (const auto& [key, stats] : report.ops)
    out[{std::get<1>(key), std::get<2>(key)}].Merge(stats);
  return out;
}

void AppendLine(std::string& out, const char* format, auto... args) {
  char line[512];
  std::snprintf(line, sizeof(line), format, args...);
  out += line;
}

}  // namespace

std::vector<StepSummary> SummarizeSteps(const GenReport& report) {
  std::vector<StepSummary> out(report.steps.size());
  for (uint32_t i = 0; i < out.size(); ++i) {
    out[i].step = i;
    out[i].target_ops_per_s = report.steps[i].ops_per_s;
    out[i].seconds = ScheduleSeconds(report, i);
  }
  for (const auto& [key, stats] : report.ops) {
    StepSummary& step = out[std::get<0>(key)];
    step.all.Merge(stats);
    (std::get<2>(key) == OpKind::kRead ? step.reads : step.writes).Merge(stats);
  }
  for (StepSummary& step : out) {
    step.achieved_ops_per_s =
        step.seconds > 0 ? static_cast<double>(step.all.ok) / step.seconds : 0;
    const double planned = static_cast<double>(step.all.planned);
    step.kept_up = step.all.planned > 0 && step.all.dropped == 0 &&
                   static_cast<double>(step.all.ok) >= kKeptUpShareMin * planned &&
                   static_cast<double>(step.all.failed()) <= kFailedShareMax * planned;
  }
  return out;
}

std::optional<Ceiling> FindCeiling(const std::vector<StepSummary>& steps) {
  if (steps.size() < 2) return std::nullopt;
  std::optional<Ceiling> ceiling;
  for (const StepSummary& step : steps) {
    if (!step.kept_up) continue;
    if (!ceiling || step.target_ops_per_s > ceiling->peak_ops_per_s) {
      ceiling = Ceiling{step.step, step.target_ops_per_s, 0};
    }
  }
  if (!ceiling) return std::nullopt;
  const double half = ceiling->peak_ops_per_s / 2;
  double best = -1;
  for (const StepSummary& step : steps) {
    const double distance = std::fabs(step.target_ops_per_s - half);
    if (best < 0 || distance < best) {
      best = distance;
      ceiling->half_step = step.step;
    }
  }
  return ceiling;
}

namespace {

// One line per step that ran, then the early stop and the ceiling.
void AppendRampTable(const GenReport& report, const std::vector<StepSummary>& steps,
                     std::string& out) {
  AppendLine(out, "%-4s %10s %10s %9s %9s %7s %7s %9s %9s %9s %9s %9s\n", "step", "target/s",
             "achieved/s", "planned", "ok", "failed", "dropped", "w p50 ms", "w p99 ms", "r p50 ms",
             "r p99 ms", "p999 ms");
  for (const StepSummary& s : steps) {
    if (s.all.planned == 0) continue;  // after an early stop
    AppendLine(out, "%-4u %10.0f %10.1f %9llu %9llu %7llu %7llu %9.3f %9.3f %9.3f %9.3f %9.3f%s\n",
               s.step + 1, s.target_ops_per_s, s.achieved_ops_per_s,
               (unsigned long long)s.all.planned, (unsigned long long)s.all.ok,
               (unsigned long long)s.all.failed(), (unsigned long long)s.all.dropped,
               Ms(s.writes.latency.ValueAt(0.5)), Ms(s.writes.latency.ValueAt(0.99)),
               Ms(s.reads.latency.ValueAt(0.5)), Ms(s.reads.latency.ValueAt(0.99)),
               Ms(s.all.latency.ValueAt(0.999)), s.kept_up ? "" : "  (fell behind)");
  }
  if (report.ramp_stopped_after >= 0) {
    const StepSummary& last = steps[static_cast<size_t>(report.ramp_stopped_after)];
    AppendLine(out, "ramp stopped after step %u: it dropped %llu of %llu ops (overload)\n",
               last.step + 1, (unsigned long long)last.all.dropped,
               (unsigned long long)last.all.planned);
  }
  if (std::optional<Ceiling> c = FindCeiling(steps)) {
    const StepSummary& half = steps[c->half_step];
    AppendLine(out,
               "ceiling: %.0f ops/s (highest step that kept up); nearest half of it (step %u, "
               "%.0f/s): write p99 %.3f ms, read p99 %.3f ms\n",
               c->peak_ops_per_s, half.step + 1, half.target_ops_per_s,
               Ms(half.writes.latency.ValueAt(0.99)), Ms(half.reads.latency.ValueAt(0.99)));
  } else {
    out += "ceiling: no step kept up\n";
  }
  out += '\n';
}

}  // namespace

std::string FormatReportTable(const GenReport& report) {
  std::string out;
  const std::vector<StepSummary> steps = SummarizeSteps(report);
  if (steps.size() > 1) AppendRampTable(report, steps, out);
  AppendLine(out, "%-9s %-7s %9s %9s %7s %7s %9s %9s %9s %9s  %s\n", "class", "op", "planned", "ok",
             "failed", "dropped", "p50 ms", "p99 ms", "p999 ms", "max ms", "failures");
  OpStats total;
  for (const auto& [key, s] : ByClassAndOp(report)) {
    AppendLine(out, "%-9s %-7s %9llu %9llu %7llu %7llu %9.3f %9.3f %9.3f %9.3f  %s\n",
               std::string(OpClassName(key.first)).c_str(),
               std::string(OpName(key.first, key.second)).c_str(), (unsigned long long)s.planned,
               (unsigned long long)s.ok, (unsigned long long)s.failed(),
               (unsigned long long)s.dropped, Ms(s.latency.ValueAt(0.5)),
               Ms(s.latency.ValueAt(0.99)), Ms(s.latency.ValueAt(0.999)), Ms(s.latency.Max()),
               FailureText(s).c_str());
    total.Merge(s);
  }
  AppendLine(out, "%-9s %-7s %9llu %9llu %7llu %7llu %9.3f %9.3f %9.3f %9.3f  %s\n", "all", "all",
             (unsigned long long)total.planned, (unsigned long long)total.ok,
             (unsigned long long)total.failed(), (unsigned long long)total.dropped,
             Ms(total.latency.ValueAt(0.5)), Ms(total.latency.ValueAt(0.99)),
             Ms(total.latency.ValueAt(0.999)), Ms(total.latency.Max()), FailureText(total).c_str());
  double seconds = 0, planned_rate = 0;
  for (const StepSummary& s : steps)
    seconds += s.seconds;
  if (seconds > 0) planned_rate = static_cast<double>(total.planned) / seconds;
  AppendLine(out,
             "achieved %.1f ops/s (2xx) of %.1f planned over %.1f s (seed %llu); sent %llu, "
             "failed %llu, dropped %llu (overload)%s\n",
             seconds > 0 ? static_cast<double>(total.ok) / seconds : 0.0, planned_rate, seconds,
             (unsigned long long)report.seed, (unsigned long long)total.sent,
             (unsigned long long)total.failed(), (unsigned long long)total.dropped,
             report.stopped_early ? "; stopped early" : "");
  return out;
}

std::string FormatReportJson(const GenReport& report, const std::string& command) {
  Json out = Json::object();
  out["command"] = command;
  out["seed"] = report.seed;
  out["conflict_mode"] = report.conflict_mode;
  out["stopped_early"] = report.stopped_early;
  if (report.ramp_stopped_after >= 0)
    out["ramp_stopped_after_step"] = report.ramp_stopped_after + 1;
  out["elapsed_s"] = report.elapsed_s;
  const std::vector<StepSummary> steps = SummarizeSteps(report);
  OpStats total;
  double seconds = 0;
  out["ops"] = Json::array();
  for (const auto& [key, stats] : ByClassAndOp(report)) {
    Json entry = Json::object();
    entry["class"] = OpClassName(key.first);
    entry["op"] = OpName(key.first, key.second);
    entry.update(StatsJson(stats));
    out["ops"].push_back(std::move(entry));
    total.Merge(stats);
  }
  out["steps"] = Json::array();
  for (const StepSummary& s : steps) {
    seconds += s.seconds;
    if (s.all.planned == 0) continue;  // after an early stop
    Json entry = Json::object();
    entry["step"] = s.step + 1;
    entry["target_ops_per_s"] = s.target_ops_per_s;
    entry["seconds"] = s.seconds;
    entry["achieved_ops_per_s"] = s.achieved_ops_per_s;
    entry["kept_up"] = s.kept_up;
    entry["all"] = StatsJson(s.all);
    entry["writes"] = StatsJson(s.writes);
    entry["reads"] = StatsJson(s.reads);
    out["steps"].push_back(std::move(entry));
  }
  Json totals = StatsJson(total);
  totals["seconds"] = seconds;
  totals["achieved_ops_per_s"] = seconds > 0 ? static_cast<double>(total.ok) / seconds : 0.0;
  out["totals"] = std::move(totals);
  if (std::optional<Ceiling> c = FindCeiling(steps)) {
    out["ceiling"] = {
        {"peak_ops_per_s", c->peak_ops_per_s},
        {"peak_step", c->peak_step + 1},
        {"half_peak_step", c->half_step + 1},
        {"half_peak_write_p99_ms", Ms(steps[c->half_step].writes.latency.ValueAt(0.99))},
        {"half_peak_read_p99_ms", Ms(steps[c->half_step].reads.latency.ValueAt(0.99))}};
  }
  return out.dump(2) + "\n";
}

}  // namespace meridian
