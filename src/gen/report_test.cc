#include "gen/report.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace meridian {
namespace {

// A ramp of 1000, 2000, 3000, 4000 ops/s for 1 s each; the last step drops half its ops.
GenReport Ramp() {
  GenReport report;
  report.seed = 3;
  for (double rate : {1000.0, 2000.0, 3000.0, 4000.0})
    report.steps.push_back(RateStep{rate, 1'000'000'000});
  for (uint32_t step = 0; step < 4; ++step) {
    const auto planned = static_cast<uint64_t>(report.steps[step].ops_per_s);
    OpStats& writes = report.ops[{step, OpClass::kCounter, OpKind::kWrite}];
    OpStats& reads = report.ops[{step, OpClass::kCounter, OpKind::kRead}];
    writes.planned = reads.planned = planned / 2;
    writes.sent = reads.sent = planned / 2;
    const uint64_t dropped = step == 3 ? planned / 4 : 0;
    writes.dropped = reads.dropped = dropped;
    writes.sent -= dropped;
    reads.sent -= dropped;
    writes.ok = writes.sent;
    reads.ok = reads.sent;
    for (uint64_t i = 0; i < writes.ok; ++i)
      writes.latency.Record((step + 1) * 1'000'000);  // (step+1) ms
    for (uint64_t i = 0; i < reads.ok; ++i)
      reads.latency.Record(100'000);  // 0.1 ms
  }
  return report;
}

TEST(ReportTest, CeilingIsTheLastStepThatKeptUp) {
  const std::vector<StepSummary> steps = SummarizeSteps(Ramp());
  ASSERT_EQ(steps.size(), 4u);
  EXPECT_TRUE(steps[2].kept_up);
  EXPECT_FALSE(steps[3].kept_up);
  EXPECT_DOUBLE_EQ(steps[1].achieved_ops_per_s, 2000);
  EXPECT_DOUBLE_EQ(steps[3].achieved_ops_per_s, 2000);
  std::optional<Ceiling> ceiling = FindCeiling(steps);
  ASSERT_TRUE(ceiling.has_value());
  EXPECT_DOUBLE_EQ(ceiling->peak_ops_per_s, 3000);
  EXPECT_EQ(ceiling->peak_step, 2u);
  EXPECT_EQ(ceiling->half_step, 0u);  // 1000 and 2000 are equally near 1500: the first wins
  EXPECT_NEAR(static_cast<double>(steps[0].writes.latency.ValueAt(0.99)), 1e6, 1e4);
}

TEST(ReportTest, NoCeilingWithOneStep) {
  GenReport report = Ramp();
  report.steps.resize(1);
  for (auto it = report.ops.begin(); it != report.ops.end();) {
    it = std::get<0>(it->first) == 0 ? std::next(it) : report.ops.erase(it);
  }
  EXPECT_FALSE(FindCeiling(SummarizeSteps(report)).has_value());
}

TEST(ReportTest, TableAndJsonNameTheNumbers) {
  const GenReport report = Ramp();
  const std::string table = FormatReportTable(report);
  EXPECT_NE(table.find("ceiling: 3000 ops/s"), std::string::npos) << table;
  EXPECT_NE(table.find("(fell behind)"), std::string::npos);
  EXPECT_NE(table.find("counter   incr"), std::string::npos);
  const nlohmann::json json = nlohmann::json::parse(FormatReportJson(report, "meridian gen x"));
  EXPECT_EQ(json.at("command"), "meridian gen x");
  EXPECT_EQ(json.at("steps").size(), 4u);
  EXPECT_EQ(json.at("ceiling").at("peak_ops_per_s"), 3000.0);
  EXPECT_EQ(json.at("totals").at("dropped"), 2000);
  EXPECT_EQ(json.at("ops").size(), 2u);
}

}  // namespace
}  // namespace meridian
