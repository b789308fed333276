#include "lab/ledger.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace meridian {
namespace {

ExperimentResult Sample(bool passed) {
  ExperimentResult e;
  e.name = "crdt";
  e.title = "no lost increments";
  e.command = "meridian lab run crdt --seed 7";
  e.seed = 7;
  e.Metric("increments acknowledged", 60, "ops");
  e.Metric("converge time", 0.25, "s");
  e.Assert("zero lost increments", passed, passed ? "" : "us: 59 != 60");
  e.notes.push_back("a note");
  return e;
}

TEST(LedgerTest, PassesOnlyWhenEveryAssertionPasses) {
  Ledger ledger;
  ledger.experiments.push_back(Sample(true));
  EXPECT_TRUE(ledger.Passed());
  ledger.experiments.back().Assert("another", false, "seen");
  EXPECT_FALSE(ledger.experiments.back().Passed());
  EXPECT_FALSE(ledger.Passed());
}

TEST(LedgerTest, EmptyLedgerAndMetricsOnlyExperimentPass) {
  Ledger ledger;
  EXPECT_TRUE(ledger.Passed());
  ExperimentResult figures;
  figures.Metric("p99", 3.5, "ms");
  ledger.experiments.push_back(figures);
  EXPECT_TRUE(ledger.Passed());
}

TEST(LedgerTest, JsonCarriesEveryField) {
  Ledger ledger;
  ledger.quick = true;
  ledger.experiments.push_back(Sample(false));
  const auto doc = nlohmann::json::parse(RenderLedgerJson(ledger));
  EXPECT_FALSE(doc["passed"].get<bool>());
  EXPECT_TRUE(doc["quick"].get<bool>());
  ASSERT_EQ(doc["experiments"].size(), 1u);
  const auto& e = doc["experiments"][0];
  EXPECT_EQ(e["command"], "meridian lab run crdt --seed 7");
  EXPECT_EQ(e["seed"], 7);
  EXPECT_EQ(e["metrics"][1]["value"], 0.25);
  EXPECT_EQ(e["assertions"][0]["detail"], "us: 59 != 60");
  EXPECT_EQ(doc["classes"].size(), 4u);
}

TEST(LedgerTest, MarkdownShowsTablesAndVerdicts) {
  Ledger ledger;
  ledger.experiments.push_back(Sample(true));
  const std::string md = RenderLedgerMarkdown(ledger);
  EXPECT_NE(md.find("Overall: **PASS**"), std::string::npos);
  EXPECT_NE(md.find("| increments acknowledged | 60 | ops |"), std::string::npos);
  EXPECT_NE(md.find("| converge time | 0.25 | s |"), std::string::npos);
  EXPECT_NE(md.find("Reproduce: `meridian lab run crdt --seed 7`"), std::string::npos);
  EXPECT_NE(md.find("| zero lost increments | pass |"), std::string::npos);
  EXPECT_NE(md.find("Plots: plots were not written"), std::string::npos);
  EXPECT_EQ(md, RenderLedgerMarkdown(ledger));  // deterministic
}

TEST(LedgerTest, ClassMeasurementsAggregateOverRegions) {
  Ledger ledger;
  ExperimentResult tax;
  tax.name = "tax";
  tax.command = "meridian lab run tax --seed 1 --out DIR";
  tax.Metric("us counter incr p50", 1, "ms");
  tax.Metric("us counter incr p99", 4, "ms");
  tax.Metric("eu counter incr p50", 1.5, "ms");
  tax.Metric("eu counter incr p99", 9, "ms");
  tax.Metric("us handle claim p99", 160, "ms");
  ledger.experiments.push_back(tax);
  ledger.experiments.push_back(Sample(true));  // crdt, without the lost-increments metric
  ledger.experiments.back().Metric("lost increments (largest over regions)", 0, "");
  EXPECT_EQ(MeasuredForClass(ledger, "counter"),
            "incr p50 1-1.50 ms; p99 4-9 ms (range over regions); "
            "lost increments (largest over regions): 0");
  EXPECT_EQ(MeasuredForClass(ledger, "handle"), "p99 160 ms (range over regions)");
  EXPECT_EQ(CommandsForClass(ledger, "counter"),
            "`meridian lab run tax --seed 1 --out DIR`; `meridian lab run crdt --seed 7`");
  EXPECT_EQ(MeasuredForClass(Ledger{}, "profile"), "not measured in this run");
  EXPECT_EQ(CommandsForClass(Ledger{}, "profile"), "-");
}

TEST(LedgerTest, ClassTableShowsLagAndKillFigures) {
  Ledger ledger;
  ExperimentResult lag;
  lag.name = "lag";
  lag.command = "meridian lab run lag --seed 1 --out DIR";
  lag.Metric("step 250 ops/s, us->eu: lag p99", 63, "ms");
  lag.Metric("lag p99 at the lowest rate (250 ops/s), largest over links", 127, "ms");
  ExperimentResult kill;
  kill.name = "kill";
  kill.command = "meridian lab run kill --seed 1 --out DIR";
  kill.Metric("RTO counter: kill to the first write acknowledged by another region", 88, "ms");
  kill.Metric("RPO counter if eu had not returned: acknowledged increments only on eu", 4, "ops");
  kill.Metric("RPO counter: acknowledged increments missing after recovery", 0, "ops");
  kill.Metric("RPO handle: acknowledged claims not held after recovery", 0, "claims");
  kill.Metric("double-applied increments after replay", 0, "ops");
  ledger.experiments = {lag, kill};
  EXPECT_EQ(MeasuredForClass(ledger, "counter"),
            "lag p99 at the lowest rate (250 ops/s), largest over links: 127 ms; "
            "RPO counter if eu had not returned: acknowledged increments only on eu: 4 ops; "
            "RPO counter: acknowledged increments missing after recovery: 0 ops; "
            "RTO counter: kill to the first write acknowledged by another region: 88 ms; "
            "double-applied increments after replay: 0 ops");
  EXPECT_EQ(MeasuredForClass(ledger, "handle"),
            "RPO handle: acknowledged claims not held after recovery: 0 claims");
  EXPECT_EQ(
      CommandsForClass(ledger, "counter"),
      "`meridian lab run lag --seed 1 --out DIR`; `meridian lab run kill --seed 1 --out DIR`");
  EXPECT_EQ(CommandsForClass(ledger, "handle"), "`meridian lab run kill --seed 1 --out DIR`");
}

TEST(LedgerTest, PlotsAreLinkedRelativelyOnlyWhenTheyHavePoints) {
  Ledger ledger;
  ExperimentResult e = Sample(true);
  LabPlot drawn{.file = "crdt_plot", .title = "Drawn", .x_label = "x", .y_label = "y"};
  drawn.series.push_back({"s", {{1, 2}}});
  LabPlot empty{.file = "empty_plot", .title = "Empty", .x_label = "x", .y_label = "y"};
  empty.series.push_back({"s", {}});
  e.plots = {drawn, empty};
  ledger.experiments.push_back(e);
  ledger.plots_rendered = true;
  ledger.plots_note = "1 plots in plots/";
  std::string md = RenderLedgerMarkdown(ledger);
  EXPECT_NE(md.find("Plots: 1 plots in plots/"), std::string::npos);
  EXPECT_NE(md.find("![Drawn](plots/crdt_plot.svg)"), std::string::npos);
  EXPECT_EQ(md.find("empty_plot"), std::string::npos);
  ledger.plots_rendered = false;
  md = RenderLedgerMarkdown(ledger);
  EXPECT_EQ(md.find(".svg"), std::string::npos);
  EXPECT_NE(md.find("[plots/crdt_plot.gp](plots/crdt_plot.gp) (data plots/crdt_plot.dat"),
            std::string::npos);
  const auto doc = nlohmann::json::parse(RenderLedgerJson(ledger));
  EXPECT_EQ(doc["plots"]["rendered"], false);
  ASSERT_EQ(doc["experiments"][0]["plots"].size(), 1u);
  EXPECT_EQ(doc["experiments"][0]["plots"][0]["file"], "plots/crdt_plot");
}

TEST(LedgerTest, NumbersPrintIntegersWithoutDecimals) {
  EXPECT_EQ(FormatLabNumber(42), "42");
  EXPECT_EQ(FormatLabNumber(0.5), "0.50");
  EXPECT_EQ(FormatLabNumber(-3), "-3");
}

}  // namespace
}  // namespace meridian
