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
  EXPECT_NE(md.find("Plots are not produced"), std::string::npos);
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

TEST(LedgerTest, NumbersPrintIntegersWithoutDecimals) {
  EXPECT_EQ(FormatLabNumber(42), "42");
  EXPECT_EQ(FormatLabNumber(0.5), "0.50");
  EXPECT_EQ(FormatLabNumber(-3), "-3");
}

}  // namespace
}  // namespace meridian
