#include "lab/plots.h"

#include <gtest/gtest.h>

namespace meridian {
namespace {

LabPlot TwoLinks() {
  LabPlot plot{.file = "lag_p99_vs_rate",
               .title = "Lag p99 vs rate",
               .x_label = "ops/s",
               .y_label = "ms",
               .log_x = true,
               .log_y = true};
  plot.series.push_back({"us->eu p99", {{250, 41.5}, {500, 0}, {1000, 1234567.0}}});
  plot.series.push_back({"empty", {}});
  plot.series.push_back({"eu->us p99", {{250, 40}}});
  return plot;
}

TEST(PlotsTest, DataHasOneBlockPerSeriesWithPoints) {
  const std::string data = RenderPlotData(TwoLinks());
  EXPECT_EQ(data,
            "# Lag p99 vs rate\n# x: ops/s; y: ms\n"
            "# us->eu p99\n250 41.5\n1000 1.23457e+06\n"  // y = 0 cannot sit on a log axis
            "\n\n# eu->us p99\n250 40\n");
}

TEST(PlotsTest, ScriptPlotsTheSameBlocksInOrder) {
  LabPlot plot = TwoLinks();
  plot.markers = {{3.5, "kill"}};
  const std::string script = RenderPlotScript(plot);
  EXPECT_NE(script.find("set terminal svg"), std::string::npos);
  EXPECT_NE(script.find("noenhanced"), std::string::npos);
  EXPECT_NE(script.find("set output 'lag_p99_vs_rate.svg'"), std::string::npos);
  EXPECT_NE(script.find("set logscale x\nset logscale y\n"), std::string::npos);
  EXPECT_NE(script.find("'lag_p99_vs_rate.dat' index 0 using 1:2 with linespoints title "
                        "'us->eu p99'"),
            std::string::npos);
  EXPECT_NE(script.find("index 1 using 1:2 with linespoints title 'eu->us p99'"),
            std::string::npos);
  EXPECT_EQ(script.find("'empty'"), std::string::npos);
  EXPECT_NE(script.find("set arrow 1 from 3.5, graph 0 to 3.5, graph 1 nohead"), std::string::npos);
  EXPECT_NE(script.find("set label 1 'kill' at 3.5"), std::string::npos);
  EXPECT_EQ(script, RenderPlotScript(plot));  // deterministic
}

TEST(PlotsTest, LinearAxesKeepZeroAndNegativePoints) {
  LabPlot plot{.file = "backlog", .title = "t", .x_label = "s", .y_label = "ops"};
  plot.series.push_back({"backlog", {{0, 0}, {1, -2}}});
  EXPECT_TRUE(plot.HasPoints());
  EXPECT_NE(RenderPlotData(plot).find("0 0\n1 -2\n"), std::string::npos);
  plot.log_y = true;
  EXPECT_FALSE(plot.HasPoints());
}

TEST(PlotsTest, QuotesAndFileNames) {
  EXPECT_EQ(GnuplotQuote("it's"), "'it''s'");
  EXPECT_EQ(GnuplotQuote("a\nb"), "'ab'");
  EXPECT_TRUE(ValidPlotFile("kill_counters-over_time2"));
  EXPECT_FALSE(ValidPlotFile(""));
  EXPECT_FALSE(ValidPlotFile("../x"));
  EXPECT_FALSE(ValidPlotFile("Upper"));
  EXPECT_FALSE(ValidPlotFile(std::string(65, 'a')));
}

}  // namespace
}  // namespace meridian
