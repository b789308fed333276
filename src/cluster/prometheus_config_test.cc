#include "cluster/prometheus_config.h"

#include <gtest/gtest.h>

namespace meridian {
namespace {

ClusterConfig ThreeRegions(const std::string& topology_line) {
  const std::string yaml = R"(
regions:
  - {name: us, http: 127.0.0.1:7101, replication: 127.0.0.1:7201, data_dir: d/us}
  - {name: eu, http: 127.0.0.1:7102, replication: 127.0.0.1:7202, data_dir: d/eu}
  - {name: ap, http: 127.0.0.1:7103, replication: 127.0.0.1:7203, data_dir: d/ap}
)" + topology_line + R"(
links:
  - {between: [us, eu], rtt_ms: 80, jitter_ms: 10}
  - {between: [us, ap], rtt_ms: 150, jitter_ms: 10}
  - {between: [eu, ap], rtt_ms: 120, jitter_ms: 10}
wan: {admin: 127.0.0.1:8474, base_port: 9000}
router: {http: 127.0.0.1:7000}
)";
  Result<ClusterConfig> config = ParseClusterConfig(yaml, "test.yaml");
  EXPECT_TRUE(config.ok()) << config.status().ToString();
  return *config;
}

TEST(PrometheusConfigTest, ScrapesEveryRegionAndTheRouterWithRegionLabels) {
  PrometheusFiles files;
  files.rule_files = {"/rules/alerts.yml"};
  const std::string text = PrometheusScrapeConfig(ThreeRegions("topology: mesh"), files);
  EXPECT_NE(text.find("scrape_interval: 2000ms"), std::string::npos) << text;
  EXPECT_NE(text.find("  - '/rules/alerts.yml'"), std::string::npos) << text;
  EXPECT_NE(text.find("job_name: meridian_region\n    metrics_path: /metrics"), std::string::npos);
  EXPECT_NE(text.find("job_name: meridian_router\n    metrics_path: /router/metrics"),
            std::string::npos);
  for (const std::string target :
       {"['127.0.0.1:7101']\n        labels: {region: us}",
        "['127.0.0.1:7102']\n        labels: {region: eu}",
        "['127.0.0.1:7103']\n        labels: {region: ap}",
        "job_name: meridian_router\n    metrics_path: /router/metrics\n    static_configs:\n"
        "      - targets: ['127.0.0.1:7000']\n"}) {
    EXPECT_NE(text.find(target), std::string::npos) << target << "\n" << text;
  }
  EXPECT_NE(text.find("job_name: meridian_wan\n    metrics_path: /metrics\n    static_configs:\n"
                      "      - targets: ['127.0.0.1:8474']\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("region: router"), std::string::npos);  // its series own `region`
  EXPECT_EQ(text.find("alerting:"), std::string::npos);       // no Alertmanager unless given
}

TEST(PrometheusConfigTest, ASlicedRegionIsScrapedOnEverySlicesPort) {
  ClusterConfig config = ThreeRegions("topology: mesh");
  config.regions[1].http.port = 7112;  // each region's slice 1 takes its port + 1
  config.regions[2].http.port = 7123;
  config.slices = 2;
  const std::string text = PrometheusScrapeConfig(config, PrometheusFiles{});
  for (const std::string target :
       {"['127.0.0.1:7101']\n        labels: {region: us, slice: '0'}",
        "['127.0.0.1:7102']\n        labels: {region: us, slice: '1'}",
        "['127.0.0.1:7124']\n        labels: {region: ap, slice: '1'}"}) {
    EXPECT_NE(text.find(target), std::string::npos) << target << "\n" << text;
  }
}

TEST(PrometheusConfigTest, OneWayDelayIsHalfTheRttOnAMeshAndAddsUpAlongRelays) {
  const ClusterConfig mesh = ThreeRegions("topology: mesh");
  EXPECT_EQ(OneWayDelayMs(mesh, 0, 1), 40);
  EXPECT_EQ(OneWayDelayMs(mesh, 2, 0), 75);
  EXPECT_EQ(OneWayDelayMs(mesh, 1, 2), 60);
  EXPECT_EQ(OneWayDelayMs(mesh, 1, 1), 0);
  // Hub eu: us and ap reach each other through eu, 40 + 60 ms, not over their 75 ms link.
  const ClusterConfig hub = ThreeRegions("topology: hub\nhub: eu");
  EXPECT_EQ(OneWayDelayMs(hub, 0, 2), 100);
  EXPECT_EQ(OneWayDelayMs(hub, 2, 0), 100);
  EXPECT_EQ(OneWayDelayMs(hub, 0, 1), 40);
}

TEST(PrometheusConfigTest, LinkRulesRecordEveryOrderedPair) {
  const std::string text = LinkDelayRules(ThreeRegions("topology: mesh"));
  size_t records = 0;
  for (size_t at = text.find("record: "); at != std::string::npos;
       at = text.find("record: ", at + 1))
    ++records;
  EXPECT_EQ(records, 6u);
  EXPECT_NE(text.find("expr: vector(0.04)\n        labels: {region: eu, origin: us}"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("expr: vector(0.075)\n        labels: {region: us, origin: ap}"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace meridian
