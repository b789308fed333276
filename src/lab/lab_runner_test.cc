#include "lab/lab_runner.h"

#include <gtest/gtest.h>

#include <set>

#include "cluster/local_cluster.h"
#include "lab/counter_load.h"

namespace meridian {
namespace {

ExperimentResult Noop(const LabContext&) {
  return {};
}

const std::vector<ExperimentEntry> kBuilt = {
    {"a", &Noop, false}, {"b", &Noop, false}, {"c", &Noop, false}};

TEST(ResolveExperimentsTest, EmptyMeansAllInOrder) {
  auto chosen = ResolveExperiments({}, kBuilt);
  ASSERT_TRUE(chosen.ok());
  ASSERT_EQ(chosen->size(), 3u);
  EXPECT_STREQ((*chosen)[0].name, "a");
  EXPECT_STREQ((*chosen)[2].name, "c");
}

TEST(ResolveExperimentsTest, KeepsTheGivenOrder) {
  auto chosen = ResolveExperiments({"c", "a"}, kBuilt);
  ASSERT_TRUE(chosen.ok());
  ASSERT_EQ(chosen->size(), 2u);
  EXPECT_STREQ((*chosen)[0].name, "c");
  EXPECT_STREQ((*chosen)[1].name, "a");
}

TEST(ResolveExperimentsTest, RefusesUnknownAndRepeated) {
  auto unknown = ResolveExperiments({"partition"}, kBuilt);  // not in this fake list
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("unknown experiment 'partition' (built: a, b, c)"),
            std::string::npos);
  EXPECT_FALSE(ResolveExperiments({"a", "a"}, kBuilt).ok());
}

TEST(ResolveExperimentsTest, BuiltListIsTheIssueOrder) {
  const auto& built = BuiltExperiments();
  ASSERT_EQ(built.size(), 17u);
  EXPECT_STREQ(built[0].name, "tax");
  EXPECT_STREQ(built[1].name, "lww");
  EXPECT_STREQ(built[2].name, "crdt");
  EXPECT_STREQ(built[3].name, "lag");
  EXPECT_STREQ(built[4].name, "sustain");
  EXPECT_STREQ(built[5].name, "ryw");
  EXPECT_STREQ(built[6].name, "partition");
  EXPECT_STREQ(built[7].name, "rejoin");           // issue 20
  EXPECT_STREQ(built[8].name, "restore");          // issue 15
  EXPECT_STREQ(built[9].name, "causal");           // issue 16
  EXPECT_STREQ(built[10].name, "text");            // issue 16
  EXPECT_STREQ(built[11].name, "sync-rpo");        // issue 16: restarts its victim empty
  EXPECT_STREQ(built[12].name, "inventory");       // issue 16
  EXPECT_STREQ(built[13].name, "kill");            // restarts its victim
  EXPECT_STREQ(built[14].name, "residency");       // issue 14: on a cluster with residency rules
  EXPECT_STREQ(built[15].name, "erasure");         // issue 14: needs that config's subject patterns
  EXPECT_STREQ(built[16].name, "causal-control");  // issue 16: regions with a testing flag
  for (size_t i = 0; i < built.size(); ++i) {
    EXPECT_EQ(built[i].needs_residency, i == 14 || i == 15) << built[i].name;
    EXPECT_EQ(built[i].region_flag != nullptr, i == 16) << built[i].name;
  }
}

// residency and erasure follow each other, so a default run starts one second cluster for both;
// the causal control runs last, on regions started with its flag.
TEST(PlanClustersTest, ResidencyAndErasureShareTheSecondClusterAndTheControlHasTheThird) {
  const auto plans = PlanClusters(BuiltExperiments(), "deploy/local.yaml", false);
  ASSERT_EQ(plans.size(), 3u);
  ASSERT_EQ(plans[1].experiments.size(), 2u);
  EXPECT_STREQ(plans[1].experiments[0].name, "residency");
  EXPECT_STREQ(plans[1].experiments[1].name, "erasure");
  ASSERT_EQ(plans[2].experiments.size(), 1u);
  EXPECT_STREQ(plans[2].experiments[0].name, "causal-control");
  EXPECT_EQ(plans[2].config_path, "deploy/local.yaml");
  EXPECT_EQ(plans[2].region_flag, "--TEST-plain-eventual-delivery");
  EXPECT_EQ(plans[2].suffix, "-TEST-plain-eventual-delivery");
  EXPECT_EQ(plans[0].region_flag, "");
}

const std::vector<ExperimentEntry> kMixed = {
    {"a", &Noop, false}, {"r", &Noop, true}, {"s", &Noop, true}, {"b", &Noop, false}};

TEST(PlanClustersTest, ResidencyExperimentsGetTheirOwnClusterWithoutRules) {
  const auto plans = PlanClusters(kMixed, "deploy/local.yaml", /*config_has_residency=*/false);
  ASSERT_EQ(plans.size(), 3u);
  EXPECT_EQ(plans[0].config_path, "deploy/local.yaml");
  EXPECT_EQ(plans[0].suffix, "");
  EXPECT_EQ(plans[1].config_path, "deploy/local-eu2.yaml");
  EXPECT_EQ(plans[1].suffix, "-local-eu2");
  ASSERT_EQ(plans[1].experiments.size(), 2u);  // consecutive ones share a cluster
  EXPECT_STREQ(plans[1].experiments[1].name, "s");
  EXPECT_EQ(plans[2].config_path, "deploy/local.yaml");
  EXPECT_STREQ(plans[2].experiments[0].name, "b");
}

TEST(PlanClustersTest, OneClusterWhenTheConfigHasRules) {
  const auto plans = PlanClusters(kMixed, "/etc/m/prod.yaml", /*config_has_residency=*/true);
  ASSERT_EQ(plans.size(), 1u);
  EXPECT_EQ(plans[0].config_path, "/etc/m/prod.yaml");
  EXPECT_EQ(plans[0].experiments.size(), 4u);
}

TEST(PlanClustersTest, TheResidencyConfigIsLookedUpBesideTheRunsConfig) {
  const auto plans = PlanClusters({kMixed[1]}, "/src/deploy/local.yaml", false);
  ASSERT_EQ(plans.size(), 1u);
  EXPECT_EQ(plans[0].config_path, "/src/deploy/local-eu2.yaml");
}

// The committed config the residency experiment uses has the rule it needs.
TEST(PlanClustersTest, CommittedResidencyConfigPinsGdprToEuAndEu2) {
  auto config =
      LoadClusterConfig(std::string(MERIDIAN_SOURCE_DIR) + "/deploy/" + kResidencyConfigName);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_GE(config->residency.size(), 1u);  // the first rule is the one the lab uses
  EXPECT_EQ(config->residency[0].prefix, "gdpr:");
  EXPECT_EQ(config->residency[0].regions.size(), 2u);
  EXPECT_EQ(config->regions.size(), 4u);
  // erasure: a pinned pattern under the rule and an unpinned one.
  ASSERT_TRUE(config->subjects.has_value());
  EXPECT_EQ(config->subjects->patterns,
            (std::vector<std::string>{"gdpr:user:{subject}:", "user:{subject}:"}));
}

TEST(LabOptionsTest, SustainDurationDefaultsByMode) {
  LabOptions options;
  EXPECT_EQ(SustainMinutes(options), kSustainMinutesFull);
  options.quick = true;
  EXPECT_EQ(SustainMinutes(options), kSustainMinutesQuick);
  options.sustain_minutes = 1;
  EXPECT_EQ(SustainMinutes(options), 1);
}

TEST(LabOptionsTest, OplogRetentionDefaultsByMode) {
  LabOptions options;
  EXPECT_EQ(OplogRetentionOps(options), kOplogRetentionOpsFull);
  options.quick = true;
  EXPECT_EQ(OplogRetentionOps(options), kOplogRetentionOpsQuick);
  options.oplog_retention_ops = 42;
  EXPECT_EQ(OplogRetentionOps(options), 42u);
}

TEST(LabContextTest, ReproduceCommandCarriesTheSustainSettings) {
  LabContext context;
  context.seed = 7;
  context.quick = true;
  context.sustain_minutes = 0.5;
  context.sustain_rate = 1000;
  EXPECT_EQ(context.ReproduceCommand("lag"), "meridian lab run lag --seed 7 --quick --out DIR");
  EXPECT_EQ(context.ReproduceCommand("sustain"),
            "meridian lab run sustain --seed 7 --quick --sustain-minutes 0.50 --sustain-rate 1000 "
            "--out DIR");
  context.oplog_retention_ops = 20000;
  EXPECT_EQ(context.ReproduceCommand("rejoin"),
            "meridian lab run rejoin --seed 7 --quick --oplog-retention-ops 20000 --out DIR");
  // The counter load's protocol is named only when it is not the default (resp).
  context.load_protocol = "http";
  EXPECT_EQ(context.ReproduceCommand("lag"),
            "meridian lab run lag --seed 7 --quick --load-protocol http --out DIR");
  EXPECT_EQ(context.ReproduceCommand("rejoin"),
            "meridian lab run rejoin --seed 7 --quick --oplog-retention-ops 20000 --out DIR");
}

TEST(LabContextTest, CounterLoadSpeaksTheContextsProtocol) {
  LabContext context;
  context.region_names = {"us", "eu"};
  context.region_http = {"127.0.0.1:1", "127.0.0.1:2"};
  context.region_resp = {"127.0.0.1:11", "127.0.0.1:12"};
  const CounterLoad load{.key_prefix = "lag-1-", .keyspace = 10, .ops_per_s = 100};
  GenOptions resp = CounterLoadOptions(context, load);
  EXPECT_EQ(resp.protocol, GenProtocol::kResp);
  ASSERT_EQ(resp.targets.size(), 2u);
  EXPECT_EQ(resp.targets[1].address, "127.0.0.1:12");
  EXPECT_NE(CounterLoadCommand(context, load)
                .find("--protocol resp --target us=US_RESP --target "
                      "eu=EU_RESP --mix counter=1"),
            std::string::npos)
      << CounterLoadCommand(context, load);
  context.load_protocol = "http";
  GenOptions http = CounterLoadOptions(context, load);
  EXPECT_EQ(http.protocol, GenProtocol::kHttp);
  EXPECT_EQ(http.targets[1].address, "127.0.0.1:2");
  EXPECT_NE(CounterLoadCommand(context, load).find("meridian gen --config CLUSTER --mix"),
            std::string::npos);
}

TEST(LabOptionsTest, RunLabRefusesAnUnknownLoadProtocol) {
  LabOptions options;
  options.names = {"lag"};
  options.out_dir = "/nonexistent-never-created";
  options.load_protocol = "udp";
  auto ledger = RunLab(options);
  ASSERT_FALSE(ledger.ok());
  EXPECT_NE(ledger.status().message().find("--load-protocol udp"), std::string::npos);
}

// The committed three-region config (us-eu 80, us-ap 150, eu-ap 120 ms, jitter 10).
ClusterConfig ThreeRegions() {
  auto config = LoadClusterConfig(MERIDIAN_SOURCE_DIR "/deploy/local.yaml");
  EXPECT_TRUE(config.ok()) << config.status().ToString();
  return *config;
}

TEST(LabClusterTest, RelocateMovesEveryListenerAndKeepsTheRest) {
  const ClusterConfig base = ThreeRegions();
  auto moved = RelocateClusterConfig(base, 12345);
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  const ClusterConfig& config = moved->config;
  ASSERT_EQ(config.regions.size(), 3u);
  std::set<uint16_t> ports;
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(config.regions[i].name, base.regions[i].name);
    EXPECT_NE(config.regions[i].http.port, base.regions[i].http.port);
    ports.insert(config.regions[i].http.port);
    ports.insert(config.regions[i].replication.port);
    ASSERT_TRUE(config.regions[i].resp.has_value());  // the committed config has RESP listeners
    EXPECT_NE(config.regions[i].resp->port, base.regions[i].resp->port);
    ports.insert(config.regions[i].resp->port);
  }
  ports.insert(config.wan.admin.port);
  ports.insert(config.router.http.port);
  ASSERT_TRUE(config.router.resp.has_value());
  ports.insert(config.router.resp->port);
  EXPECT_EQ(ports.size(), 12u);
  EXPECT_GE(config.wan.base_port, 20000);
  EXPECT_LT(config.wan.base_port + kWanPortSpan, 30000);
  for (uint16_t port : ports) {
    const bool inside = port >= config.wan.base_port && port < config.wan.base_port + kWanPortSpan;
    EXPECT_FALSE(inside) << port;
  }
  EXPECT_EQ(config.links.size(), base.links.size());
  EXPECT_EQ(config.links[1].rtt_ms, 150);
  EXPECT_EQ(config.topology, base.topology);
  EXPECT_EQ(moved->control.rfind("127.0.0.1:", 0), 0u);
}

TEST(LabContextTest, AllAgreeNeedsAtLeastOneValueAndEquality) {
  EXPECT_FALSE(AllAgree({}));
  EXPECT_TRUE(AllAgree({nlohmann::json{{"f0", "x"}}}));
  EXPECT_TRUE(AllAgree({nlohmann::json{{"f0", "x"}}, nlohmann::json{{"f0", "x"}}}));
  EXPECT_FALSE(AllAgree({nlohmann::json{{"f0", "x"}}, nlohmann::json{{"f0", "y"}}}));
}

TEST(LabClusterTest, DescribeClusterNamesRegionsAndLinks) {
  const std::string text = DescribeCluster(ThreeRegions());
  EXPECT_NE(text.find("us, eu, ap"), std::string::npos);
  EXPECT_NE(text.find("us-ap 150+-10 ms"), std::string::npos);
}

}  // namespace
}  // namespace meridian
