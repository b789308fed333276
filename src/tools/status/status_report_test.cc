#include "tools/status/status_report.h"

#include <gtest/gtest.h>

#include "obs/metrics.h"
#include "tools/status/metrics_text.h"

namespace meridian {
namespace {

// A region's /metrics as the real registry renders it: latency and lag histograms, backlog.
std::string RegionMetrics(int reads_ms_10, int writes_ms_100, int lag_from_eu_ms_50) {
  MetricsRegistry registry;
  HistogramFamily& latency =
      registry.AddHistogram("meridian_http_request_duration_seconds", "h",
                            {"method", "class", "op"}, LatencyBucketsSeconds());
  HistogramFamily& lag = registry.AddHistogram("meridian_replication_lag_seconds", "h", {"origin"},
                                               ExponentialBuckets(0.001, 1.2, 48));
  for (int i = 0; i < reads_ms_10; ++i)
    latency.WithLabels({"GET", "profile", "read"}).Observe(0.010);
  for (int i = 0; i < writes_ms_100; ++i)
    latency.WithLabels({"PUT", "profile", "write"}).Observe(0.100);
  for (int i = 0; i < lag_from_eu_ms_50; ++i)
    lag.WithLabels({"eu"}).Observe(0.050);
  registry.AddGauge("meridian_replication_backlog_ops", "g", {"peer"}).WithLabels({"eu"}).Set(7);
  return registry.Render();
}

constexpr char kHealthz[] = R"({"region":"us","status":"ok","peers":[
  {"region":"eu","connected":true,"backlog_ops":7,"clock_offset_ms":41},
  {"region":"ap","connected":false,"backlog_ops":120,"clock_offset_ms":-3}]})";

TEST(MetricsTextTest, ParsesLabelsValuesAndRefusesGarbage) {
  Result<std::vector<MetricSample>> samples = ParseMetricsText(
      "# HELP x y\n# TYPE x gauge\nx{a=\"1\",b=\"q\\\"uote\"} 2.5\nup 1 1700000000\n\n");
  ASSERT_TRUE(samples.ok()) << samples.status().ToString();
  ASSERT_EQ(samples->size(), 2u);
  EXPECT_EQ((*samples)[0].labels.at("b"), "q\"uote");
  EXPECT_EQ((*samples)[0].value, 2.5);
  EXPECT_EQ((*samples)[1].name, "up");
  EXPECT_FALSE(ParseMetricsText("x{a=\"1\" 2\n").ok());
  EXPECT_FALSE(ParseMetricsText("x notanumber\n").ok());
}

TEST(MetricsTextTest, MergesAHistogramOverTheLabelSetsKept) {
  auto samples = ParseMetricsText(RegionMetrics(10, 5, 0));
  ASSERT_TRUE(samples.ok());
  Result<BucketCounts> all = MergeHistogram(*samples, "meridian_http_request_duration_seconds",
                                            [](const MetricLabels&) { return true; });
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->count(), 15u);
  Result<BucketCounts> none = MergeHistogram(*samples, "meridian_http_request_duration_seconds",
                                             [](const MetricLabels&) { return false; });
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->count(), 0u);
}

TEST(StatusReportTest, SummarizesHealthPeersP99sAndLinks) {
  const RegionScrape scrape{"us", "127.0.0.1:1", kHealthz, RegionMetrics(100, 100, 100)};
  const RegionStatus r = SummarizeRegion(scrape, nullptr);
  EXPECT_EQ(r.health, "ok");
  EXPECT_EQ(r.peers_up, 1);
  EXPECT_EQ(r.peers_total, 2);
  ASSERT_TRUE(r.read_p99_ms && r.write_p99_ms);
  // Bucket interpolation: within the bucket holding 10 ms and 100 ms respectively.
  EXPECT_GT(*r.read_p99_ms, 5.0);
  EXPECT_LE(*r.read_p99_ms, 12.8);
  EXPECT_GT(*r.write_p99_ms, 51.2);
  EXPECT_LE(*r.write_p99_ms, 102.4);
  ASSERT_EQ(r.links.size(), 2u);
  EXPECT_EQ(r.links[0].peer, "eu");
  ASSERT_TRUE(r.links[0].lag_p99_ms);
  EXPECT_NEAR(*r.links[0].lag_p99_ms, 50.0, 10.0);
  EXPECT_EQ(r.links[0].backlog_ops, 7);
  EXPECT_EQ(r.links[0].clock_offset_ms, 41);
  EXPECT_FALSE(r.links[1].connected);
  EXPECT_FALSE(r.links[1].lag_p99_ms);  // nothing from ap observed: no figure, not 0
}

TEST(StatusReportTest, AWatchRedrawCountsOnlyTheLastInterval) {
  const RegionScrape before{"us", "h", kHealthz, RegionMetrics(100, 0, 0)};
  const RegionScrape now{"us", "h", kHealthz, RegionMetrics(100, 0, 0)};
  const RegionStatus r = SummarizeRegion(now, &before);
  EXPECT_FALSE(r.read_p99_ms);  // no read since the previous draw
  EXPECT_TRUE(SummarizeRegion(now, nullptr).read_p99_ms);
}

TEST(StatusReportTest, ARegionThatDoesNotAnswerIsDownInTextAndJson) {
  ClusterStatus status;
  status.router = "127.0.0.1:9";
  status.router_up = true;
  status.regions.push_back(
      SummarizeRegion({"us", "127.0.0.1:1", kHealthz, RegionMetrics(1, 1, 1)}, nullptr));
  status.regions.push_back(
      SummarizeRegion({"eu", "127.0.0.1:2", std::nullopt, std::nullopt}, nullptr));
  status.regions[0].router_healthy = true;
  const std::string text = RenderStatusText(status);
  EXPECT_NE(text.find("region us  127.0.0.1:1  ok  peers up 1/2"), std::string::npos) << text;
  EXPECT_NE(text.find("region eu  127.0.0.1:2  DOWN"), std::string::npos) << text;
  EXPECT_NE(text.find("router 127.0.0.1:9  up"), std::string::npos) << text;
  const nlohmann::json json = StatusJson(status);
  EXPECT_EQ(json["regions"][0]["health"], "ok");
  EXPECT_EQ(json["regions"][1]["health"], "down");
  EXPECT_TRUE(json["regions"][1]["read_p99_ms"].is_null());
  EXPECT_EQ(json["regions"][0]["links"][0]["backlog_ops"], 7);
}

TEST(StatusReportTest, TheRouterViewComesFromItsHealthyGauge) {
  const std::map<std::string, bool> seen = RouterHealthy(
      "meridian_router_region_healthy{region=\"us\"} 1\n"
      "meridian_router_region_healthy{region=\"eu\"} 0\n");
  EXPECT_EQ(seen, (std::map<std::string, bool>{{"eu", false}, {"us", true}}));
}

}  // namespace
}  // namespace meridian
