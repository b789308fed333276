// The Prometheus registry: exposition format details, concurrency, and promtool's verdict.
#include "obs/metrics.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace meridian {
namespace {

TEST(MetricsTest, CounterAndGaugeFormat) {
  MetricsRegistry registry;
  CounterFamily& requests = registry.AddCounter("meridian_http_requests_total",
                                                "HTTP requests served.", {"route", "code"});
  requests.WithLabels({"/profile/{key}", "200"}).Increment();
  requests.WithLabels({"/profile/{key}", "200"}).Increment(2);
  requests.WithLabels({"/counter/{key}", "404"}).Increment();
  registry.AddGauge("meridian_oplog_ops", "Ops held in the oplog.").Get().Set(12.5);
  EXPECT_EQ(registry.Render(),
            "# HELP meridian_http_requests_total HTTP requests served.\n"
            "# TYPE meridian_http_requests_total counter\n"
            "meridian_http_requests_total{route=\"/counter/{key}\",code=\"404\"} 1\n"
            "meridian_http_requests_total{route=\"/profile/{key}\",code=\"200\"} 3\n"
            "# HELP meridian_oplog_ops Ops held in the oplog.\n"
            "# TYPE meridian_oplog_ops gauge\n"
            "meridian_oplog_ops 12.5\n");
}

TEST(MetricsTest, HistogramFormat) {
  MetricsRegistry registry;
  HistogramFamily& latency = registry.AddHistogram("meridian_http_request_duration_seconds",
                                                   "Request latency.", {"class"}, {0.001, 0.01});
  Histogram& profile = latency.WithLabels({"profile"});
  profile.Observe(0.001);  // on the bound: counted in it (le is "less than or equal")
  profile.Observe(0.005);
  profile.Observe(2);
  EXPECT_EQ(registry.Render(),
            "# HELP meridian_http_request_duration_seconds Request latency.\n"
            "# TYPE meridian_http_request_duration_seconds histogram\n"
            "meridian_http_request_duration_seconds_bucket{class=\"profile\",le=\"0.001\"} 1\n"
            "meridian_http_request_duration_seconds_bucket{class=\"profile\",le=\"0.01\"} 2\n"
            "meridian_http_request_duration_seconds_bucket{class=\"profile\",le=\"+Inf\"} 3\n"
            "meridian_http_request_duration_seconds_sum{class=\"profile\"} 2.006\n"
            "meridian_http_request_duration_seconds_count{class=\"profile\"} 3\n");
}

TEST(MetricsTest, EscapingAndStableOrder) {
  MetricsRegistry registry;
  // Registered out of order: families render sorted by name, children by label values.
  registry.AddGauge("zeta", "Last.").Get().Set(-1);
  GaugeFamily& g = registry.AddGauge("alpha", "Help with \\ and\nnewline.", {"v"});
  g.WithLabels({"quote\" back\\slash\nnewline"}).Set(1);
  g.WithLabels({"a"}).Set(2);
  EXPECT_EQ(registry.Render(),
            "# HELP alpha Help with \\\\ and\\nnewline.\n"
            "# TYPE alpha gauge\n"
            "alpha{v=\"a\"} 2\n"
            "alpha{v=\"quote\\\" back\\\\slash\\nnewline\"} 1\n"
            "# HELP zeta Last.\n"
            "# TYPE zeta gauge\n"
            "zeta -1\n");
}

TEST(MetricsTest, ValueFormatting) {
  EXPECT_EQ(FormatMetricValue(0), "0");
  EXPECT_EQ(FormatMetricValue(1e6), "1000000");
  EXPECT_EQ(FormatMetricValue(-3), "-3");
  EXPECT_EQ(FormatMetricValue(0.25), "0.25");
  EXPECT_EQ(FormatMetricValue(1e300), "1e+300");
  EXPECT_EQ(FormatMetricValue(HUGE_VAL), "+Inf");
  EXPECT_EQ(FormatMetricValue(-HUGE_VAL), "-Inf");
  EXPECT_EQ(FormatMetricValue(std::nan("")), "NaN");
}

TEST(MetricsTest, EmptyFamiliesRenderHeadersOnly) {
  MetricsRegistry registry;
  registry.AddCounter("meridian_x_total", "X.", {"peer"});
  EXPECT_EQ(registry.Render(), "# HELP meridian_x_total X.\n# TYPE meridian_x_total counter\n");
  registry.AddCounter("meridian_y_total", "Y.");  // no labels: its one sample exists at once
  EXPECT_NE(registry.Render().find("meridian_y_total 0\n"), std::string::npos);
}

// Contract 1: a child's reference stays valid however many children are added after it, so hot
// paths (server/resp_command_metrics.h, server/http_request_metrics.h) keep pointers to them.
TEST(MetricsTest, AChildKeepsItsAddressAsOthersAreAdded) {
  MetricsRegistry registry;
  CounterFamily& family = registry.AddCounter("c_total", "C.", {"n"});
  HistogramFamily& histograms = registry.AddHistogram("h_seconds", "H.", {"n"}, {0.5});
  Counter& first = family.WithLabels({"first"});
  Histogram& first_histogram = histograms.WithLabels({"first"});
  for (int i = 0; i < 5000; ++i) {
    family.WithLabels({std::to_string(i)});
    histograms.WithLabels({std::to_string(i)});
  }
  first.Increment(3);
  first_histogram.Observe(0.25);
  EXPECT_EQ(&family.WithLabels({"first"}), &first);
  EXPECT_EQ(&histograms.WithLabels({"first"}), &first_histogram);
  const std::string text = registry.Render();
  EXPECT_NE(text.find("c_total{n=\"first\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("h_seconds_count{n=\"first\"} 1\n"), std::string::npos);
}

TEST(MetricsTest, ConcurrentUpdatesAreNotLost) {
  MetricsRegistry registry;
  CounterFamily& counter = registry.AddCounter("c_total", "C.", {"t"});
  HistogramFamily& histogram = registry.AddHistogram("h_seconds", "H.", {}, {0.5});
  constexpr int kThreads = 4, kPerThread = 20'000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        counter.WithLabels({"shared"}).Increment();
        histogram.Get().Observe(i % 2 ? 1.0 : 0.25);
        if (i % 1000 == 0) (void)registry.Render();  // scrapes race with updates
      }
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(counter.WithLabels({"shared"}).Value(), kThreads * kPerThread);
  const Histogram::Snapshot snapshot = histogram.Get().Read();
  EXPECT_EQ(snapshot.count, uint64_t{kThreads} * kPerThread);
  EXPECT_EQ(snapshot.cumulative[0], uint64_t{kThreads} * kPerThread / 2);
  EXPECT_DOUBLE_EQ(snapshot.sum, kThreads * kPerThread / 2 * 1.25);
}

TEST(MetricsDeathTest, NamingBugsAreCaught) {
  MetricsRegistry registry;
  EXPECT_DEATH(registry.AddCounter("meridian_requests", "No _total."), "_total");
  EXPECT_DEATH(registry.AddGauge("1bad", "Starts with a digit."), "bad metric name");
  EXPECT_DEATH(registry.AddGauge("g", "Reserved label.", {"__x"}), "reserved");
  EXPECT_DEATH(registry.AddHistogram("h", "Le.", {"le"}, {1}), "le is reserved");
  EXPECT_DEATH(registry.AddHistogram("h", "Order.", {}, {2, 1}), "strictly increase");
  registry.AddGauge("g", "Once.", {"a"});
  EXPECT_DEATH(registry.AddGauge("g", "Twice."), "registered twice");
  EXPECT_DEATH(registry.AddGauge("g2", "Labels.", {"a"}).WithLabels({}), "label values");
}

// Runs promtool (Debian package `prometheus`) on an exposition with every metric type, labels
// that need escaping and empty families; its lint rules are Prometheus's naming conventions.
TEST(MetricsPromtoolTest, PromtoolAcceptsTheExposition) {
  if (access("/usr/bin/promtool", X_OK) != 0) GTEST_SKIP() << "promtool is not installed";
  MetricsRegistry registry;
  CounterFamily& requests = registry.AddCounter("meridian_http_requests_total",
                                                "HTTP requests served.", {"route", "code"});
  requests.WithLabels({"/profile/{key}", "200"}).Increment(3);
  requests.WithLabels({"quote\" back\\slash\nnew line", "500"}).Increment();
  registry.AddCounter("meridian_conflicts_total", "Conflicts by class and outcome.",
                      {"class", "outcome"});  // empty family
  registry.AddGauge("meridian_replication_lag_seconds", "Replication lag by peer.", {"peer"})
      .WithLabels({"eu"})
      .Set(0.075);
  registry.AddGauge("meridian_up", "1 while the region serves.").Get().Set(1);
  HistogramFamily& latency =
      registry.AddHistogram("meridian_http_request_duration_seconds", "Request latency.", {"class"},
                            LatencyBucketsSeconds());
  latency.WithLabels({"profile"}).Observe(0.0003);
  latency.WithLabels({"counter"}).Observe(4.0);
  registry.AddHistogram("meridian_empty_seconds", "A histogram never observed.", {"x"}, {1});

  const std::filesystem::path dir = std::filesystem::temp_directory_path();
  const std::string stem = (dir / ("meridian_metrics_" + std::to_string(getpid()))).string();
  {
    std::ofstream out(stem + ".prom");
    out << registry.Render();
  }
  const std::string command =
      "/usr/bin/promtool check metrics < " + stem + ".prom > " + stem + ".out 2>&1";
  const int rc = std::system(command.c_str());
  std::ifstream report(stem + ".out");
  std::stringstream text;
  text << report.rdbuf();
  std::filesystem::remove(stem + ".prom");
  std::filesystem::remove(stem + ".out");
  EXPECT_EQ(rc, 0) << "promtool said:\n" << text.str() << "\non:\n" << registry.Render();
  EXPECT_EQ(text.str(), "");
}

}  // namespace
}  // namespace meridian
