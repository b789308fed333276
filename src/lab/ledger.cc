#include "lab/ledger.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>

namespace meridian {

namespace {

struct ClassModel {
  const char* name;
  const char* write_op;  // the op name `tax` measures: "<region> <class> <op> p99"
  const char* model;
  const char* promise;
  const char* rpo;
  const char* evidence;  // the experiment that measures it
};

// What each class promises (DESIGN.md section 3); the experiments below measure it.
constexpr ClassModel kClassModels[] = {
    {"profile", "put", "LWW map (per field, HLC timestamp, region id tiebreak)",
     "local write; all regions converge; concurrent writes to one field: one is lost",
     "replication lag of an async write", "tax (latency), lww (lost updates, skew)"},
    {"counter", "incr", "PN-counter (CRDT)", "local write; no acknowledged increment is ever lost",
     "replication lag of an async write", "tax (latency), crdt"},
    {"tags", "add", "OR-set (CRDT, add wins)", "local write; no acknowledged add is lost",
     "replication lag of an async write", "tax (latency), crdt"},
    {"handle", "claim", "strong (majority consensus)",
     "linearizable claim; one owner; unavailable without a majority", "0 (acked = replicated)",
     "tax (claim latency)"},
};

// Figures shown per class: every metric of `experiment` whose name starts with `prefix`, in the
// experiment's order.
struct ClassFigure {
  const char* class_name;
  const char* experiment;
  const char* prefix;
};
constexpr ClassFigure kClassFigures[] = {
    {"profile", "lww", "pairs where one write was lost (LWW overwrite, expected)"},
    {"profile", "lww", "conflict pairs"},
    {"profile", "lag", "lag p99 at the lowest rate"},
    {"profile", "kill", "RPO profile"},
    {"profile", "kill", "RTO profile"},
    {"profile", "kill", "resurrected profile"},
    {"counter", "crdt", "lost increments (largest over regions)"},
    {"counter", "lag", "lag p99 at the lowest rate"},
    {"counter", "kill", "RPO counter"},
    {"counter", "kill", "RTO counter"},
    {"counter", "kill", "double-applied increments"},
    {"tags", "crdt", "lost members (largest over regions)"},
    {"tags", "lag", "lag p99 at the lowest rate"},
    {"tags", "kill", "RPO tags"},
    {"tags", "kill", "RTO tags"},
    {"tags", "kill", "resurrected tags"},
    {"handle", "kill", "RPO handle"},
    {"handle", "kill", "RTO handle"},
};

bool StartsWith(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

const ClassModel* FindClass(const std::string& name) {
  for (const ClassModel& c : kClassModels) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

const ExperimentResult* FindExperiment(const Ledger& ledger, const std::string& name) {
  for (const ExperimentResult& e : ledger.experiments) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

bool EndsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// "1.05-1.31 ms" over every tax metric ending in `suffix`, or "" when there is none.
std::string RangeOf(const ExperimentResult& tax, const std::string& suffix) {
  bool any = false;
  double low = 0;
  double high = 0;
  std::string unit;
  for (const LabMetric& m : tax.metrics) {
    if (!EndsWith(m.name, suffix)) continue;
    low = any ? std::min(low, m.value) : m.value;
    high = any ? std::max(high, m.value) : m.value;
    unit = m.unit;
    any = true;
  }
  if (!any) return "";
  const std::string range =
      low == high ? FormatLabNumber(low) : FormatLabNumber(low) + "-" + FormatLabNumber(high);
  return range + " " + unit;
}

// "plots/<file><extension>": the path ledger.md and ledger.json use, relative to DIR.
std::string PlotPath(const LabPlot& plot, const std::string& extension) {
  return "plots/" + plot.file + extension;
}

void RenderPlotLinks(std::ostringstream& out, const ExperimentResult& e, bool rendered) {
  bool first = true;
  for (const LabPlot& plot : e.plots) {
    if (!plot.HasPoints()) continue;
    out << (first ? "\n" : "");
    first = false;
    if (rendered) {
      out << "![" << plot.title << "](" << PlotPath(plot, ".svg") << ")\n\n";
    } else {
      out << "- " << plot.title << ": [" << PlotPath(plot, ".gp") << "](" << PlotPath(plot, ".gp")
          << ") (data " << PlotPath(plot, ".dat") << ", not rendered)\n";
    }
  }
}

}  // namespace

std::string MeasuredForClass(const Ledger& ledger, const std::string& class_name) {
  const ClassModel* model = FindClass(class_name);
  std::vector<std::string> parts;
  if (const ExperimentResult* tax = FindExperiment(ledger, "tax"); tax != nullptr && model) {
    const std::string op = " " + class_name + " " + model->write_op;
    const std::string p50 = RangeOf(*tax, op + " p50");
    const std::string p99 = RangeOf(*tax, op + " p99");
    if (!p50.empty()) parts.push_back(std::string(model->write_op) + " p50 " + p50);
    if (!p99.empty()) parts.push_back("p99 " + p99 + " (range over regions)");
  }
  for (const ClassFigure& figure : kClassFigures) {
    if (class_name != figure.class_name) continue;
    const ExperimentResult* e = FindExperiment(ledger, figure.experiment);
    if (e == nullptr) continue;
    for (const LabMetric& m : e->metrics) {
      if (StartsWith(m.name, figure.prefix)) {
        parts.push_back(m.name + ": " + FormatLabNumber(m.value) +
                        (m.unit.empty() ? "" : " " + m.unit));
      }
    }
  }
  if (parts.empty()) return "not measured in this run";
  std::string text;
  for (const std::string& part : parts)
    text += (text.empty() ? "" : "; ") + part;
  return text;
}

std::string CommandsForClass(const Ledger& ledger, const std::string& class_name) {
  std::vector<std::string> names = {"tax"};
  for (const ClassFigure& figure : kClassFigures) {
    if (class_name == figure.class_name &&
        std::find(names.begin(), names.end(), figure.experiment) == names.end()) {
      names.push_back(figure.experiment);
    }
  }
  std::string text;
  for (const std::string& name : names) {
    const ExperimentResult* e = FindExperiment(ledger, name);
    if (e != nullptr) text += (text.empty() ? "`" : "; `") + e->command + "`";
  }
  return text.empty() ? "-" : text;
}

void ExperimentResult::Metric(std::string metric_name, double value, std::string unit) {
  metrics.push_back({std::move(metric_name), value, std::move(unit)});
}

void ExperimentResult::Assert(std::string assertion_name, bool passed, std::string detail) {
  assertions.push_back({std::move(assertion_name), passed, std::move(detail)});
}

bool ExperimentResult::Passed() const {
  for (const LabAssertion& assertion : assertions) {
    if (!assertion.passed) return false;
  }
  return true;
}

bool LabPlot::HasPoints() const {
  for (const PlotSeries& one : series) {
    for (const auto& [x, y] : one.points) {
      if ((!log_x || x > 0) && (!log_y || y > 0)) return true;
    }
  }
  return false;
}

bool Ledger::Passed() const {
  for (const ExperimentResult& experiment : experiments) {
    if (!experiment.Passed()) return false;
  }
  return true;
}

std::string FormatLabNumber(double value) {
  char buffer[64];
  if (std::isfinite(value) && value == std::floor(value) && std::fabs(value) < 1e15) {
    std::snprintf(buffer, sizeof buffer, "%.0f", value);
  } else {
    std::snprintf(buffer, sizeof buffer, "%.2f", value);
  }
  return buffer;
}

std::string RenderLedgerJson(const Ledger& ledger) {
  nlohmann::ordered_json doc;
  doc["passed"] = ledger.Passed();
  doc["quick"] = ledger.quick;
  doc["cluster"] = ledger.cluster;
  doc["plots"] = {{"rendered", ledger.plots_rendered}, {"note", ledger.plots_note}};
  nlohmann::ordered_json classes = nlohmann::ordered_json::array();
  for (const ClassModel& c : kClassModels) {
    classes.push_back({{"class", c.name},
                       {"model", c.model},
                       {"promise", c.promise},
                       {"rpo_model", c.rpo},
                       {"measured_by", c.evidence},
                       {"measured", MeasuredForClass(ledger, c.name)},
                       {"reproduce", CommandsForClass(ledger, c.name)}});
  }
  doc["classes"] = classes;
  nlohmann::ordered_json experiments = nlohmann::ordered_json::array();
  for (const ExperimentResult& e : ledger.experiments) {
    nlohmann::ordered_json item;
    item["name"] = e.name;
    item["title"] = e.title;
    item["passed"] = e.Passed();
    item["seed"] = e.seed;
    item["command"] = e.command;
    nlohmann::ordered_json metrics = nlohmann::ordered_json::array();
    for (const LabMetric& m : e.metrics) {
      metrics.push_back({{"name", m.name}, {"value", m.value}, {"unit", m.unit}});
    }
    item["metrics"] = metrics;
    nlohmann::ordered_json assertions = nlohmann::ordered_json::array();
    for (const LabAssertion& a : e.assertions) {
      assertions.push_back({{"name", a.name}, {"passed", a.passed}, {"detail", a.detail}});
    }
    item["assertions"] = assertions;
    item["notes"] = e.notes;
    nlohmann::ordered_json plots = nlohmann::ordered_json::array();
    for (const LabPlot& plot : e.plots) {
      if (plot.HasPoints()) plots.push_back({{"title", plot.title}, {"file", PlotPath(plot, "")}});
    }
    item["plots"] = plots;
    experiments.push_back(item);
  }
  doc["experiments"] = experiments;
  return doc.dump(2) + "\n";
}

std::string RenderLedgerMarkdown(const Ledger& ledger) {
  std::ostringstream out;
  out << "# Meridian consistency ledger\n\n"
      << "Mode: " << (ledger.quick ? "quick (CI-sized; figures are indicative only)" : "full")
      << ". Overall: **" << (ledger.Passed() ? "PASS" : "FAIL") << "**.\n\n"
      << "Cluster: " << ledger.cluster << "\n\n"
      << "Timings are reported, never asserted; only correctness outcomes pass or fail, and, in "
         "full mode, the handle claims issue 18 sets a time bound on (`partition`: zero stall on "
         "the majority side, 503 within 1 s on the minority side).\n\n"
      << "Plots: " << ledger.plots_note << "\n\n"
      << "## Classes\n\n"
      << "| class | model | promise | RPO (model) | measured | reproduce |\n"
      << "|---|---|---|---|---|---|\n";
  for (const ClassModel& c : kClassModels) {
    out << "| " << c.name << " | " << c.model << " | " << c.promise << " | " << c.rpo << " | "
        << MeasuredForClass(ledger, c.name) << " | " << CommandsForClass(ledger, c.name) << " |\n";
  }
  out << "\n## Summary\n\n| experiment | result | seed |\n|---|---|---|\n";
  for (const ExperimentResult& e : ledger.experiments) {
    out << "| " << e.name << " | " << (e.Passed() ? "pass" : "FAIL") << " | " << e.seed << " |\n";
  }
  for (const ExperimentResult& e : ledger.experiments) {
    out << "\n## " << e.name << ": " << e.title << "\n\n"
        << "Reproduce: `" << e.command << "`\n\n";
    if (!e.metrics.empty()) {
      out << "| measured | value | unit |\n|---|---|---|\n";
      for (const LabMetric& m : e.metrics) {
        out << "| " << m.name << " | " << FormatLabNumber(m.value) << " | " << m.unit << " |\n";
      }
      out << "\n";
    }
    if (!e.assertions.empty()) {
      out << "| asserted | result | detail |\n|---|---|---|\n";
      for (const LabAssertion& a : e.assertions) {
        out << "| " << a.name << " | " << (a.passed ? "pass" : "FAIL") << " | " << a.detail
            << " |\n";
      }
      out << "\n";
    }
    for (const std::string& note : e.notes) {
      out << "- " << note << "\n";
    }
    RenderPlotLinks(out, e, ledger.plots_rendered);
  }
  return out.str();
}

}  // namespace meridian
