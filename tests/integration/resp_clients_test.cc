// Real Redis clients (python3-redis, redis-cli, redis-benchmark) on a three-region cluster: the
// checks are in resp_clients.py, which names each one; this test starts and stops the cluster.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "tests/integration/cluster_harness.h"

namespace meridian::testing {
namespace {

std::string Joined(const ClusterHarness& cluster, bool resp) {
  std::string out;
  for (size_t i = 0; i < cluster.regions().size(); ++i) {
    out += (i ? "," : "") + std::to_string(resp ? cluster.resp_port(i) : cluster.http_port(i));
  }
  return out;
}

TEST(RespClientsTest, RealClientsOnThreeRegions) {
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/redis-cli")) << "redis-tools is not installed";
  ClusterHarness cluster;
  ASSERT_TRUE(cluster.StartAll().ok());
  const std::string log = cluster.dir() + "/resp_clients.log";
  ChildProcess script;
  ASSERT_TRUE(
      script
          .Start({"/usr/bin/python3", MERIDIAN_SOURCE_DIR "/tests/integration/resp_clients.py",
                  Joined(cluster, true), Joined(cluster, false), cluster.client_key()},
                 log)
          .ok());
  const std::optional<int> code = script.Wait(std::chrono::seconds(180));
  std::stringstream output;
  output << std::ifstream(log).rdbuf();
  EXPECT_EQ(code, std::optional<int>(0)) << output.str() << "\n--- region us ---\n"
                                         << cluster.ReadLog(0);
  EXPECT_NE(output.str().find("all RESP client checks passed"), std::string::npos) << output.str();
  std::cout << output.str();
}

}  // namespace
}  // namespace meridian::testing
