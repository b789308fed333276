// Real Redis clients (python3-redis, redis-cli, redis-benchmark) on a three-region cluster: the
// checks are in resp_clients.py, which names each one; this test starts and stops the cluster.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <iostream>

#include "tests/integration/cluster_harness.h"

namespace meridian::testing {
namespace {

TEST(RespClientsTest, RealClientsOnThreeRegions) {
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/redis-cli")) << "redis-tools is not installed";
  ClusterHarness cluster;
  ASSERT_TRUE(cluster.StartAll().ok());
  const ClusterHarness::ScriptResult script = cluster.RunScript(
      MERIDIAN_SOURCE_DIR "/tests/integration/resp_clients.py",
      {cluster.JoinedPorts(true), cluster.JoinedPorts(false), cluster.client_key()},
      std::chrono::seconds(180));
  EXPECT_EQ(script.code, std::optional<int>(0)) << script.output << "\n--- region us ---\n"
                                                << cluster.ReadLog(0);
  EXPECT_NE(script.output.find("all RESP client checks passed"), std::string::npos)
      << script.output;
  std::cout << script.output;
}

}  // namespace
}  // namespace meridian::testing
