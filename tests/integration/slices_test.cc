// A sliced region (docs/slices.md): three regions of two slices each, every slice its own loop,
// storage and peer streams. Real cluster clients (redis-py's RedisCluster, redis-cli -c,
// redis-benchmark --cluster) route keys to slices, and so does the router for plain clients; the
// checks are in resp_slices.py, which names each one. This test starts and stops the cluster,
// the WAN emulator (the router's health probes) and the router, and backs a region up.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "base/hash_slot.h"
#include "tests/integration/cluster_harness.h"

namespace meridian::testing {
namespace {

constexpr uint32_t kSlices = 2;

TEST(SlicesTest, ClusterClientsRouteKeysToSlicesThatReplicateAndConverge) {
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/redis-cli")) << "redis-tools is not installed";
  ClusterHarness cluster({"us", "eu", "ap"}, "mesh", ClusterHarness::Links::kTls, kSlices);
  ASSERT_TRUE(cluster.StartAll().ok());
  ASSERT_TRUE(cluster.StartWan().ok());
  const Status router = cluster.StartRouter("us");
  ASSERT_TRUE(router.ok()) << router.ToString() << "\n" << cluster.router_log();
  const ClusterHarness::ScriptResult script = cluster.RunScript(
      MERIDIAN_SOURCE_DIR "/tests/integration/resp_slices.py",
      {cluster.JoinedPorts(true), cluster.JoinedPorts(false), std::to_string(kSlices),
       cluster.client_key(), std::to_string(cluster.router_resp_port())},
      std::chrono::seconds(240));
  EXPECT_EQ(script.code, std::optional<int>(0)) << script.output << "\n--- region us ---\n"
                                                << cluster.ReadLog(0);
  EXPECT_NE(script.output.find("all slice checks passed"), std::string::npos) << script.output;
  std::cout << script.output;

  // Each slice keeps its own storage under the region's data directory.
  for (uint32_t slice = 0; slice < kSlices; ++slice) {
    EXPECT_TRUE(std::filesystem::exists(cluster.dir() + "/data/us/slice-" + std::to_string(slice) +
                                        "/CURRENT"));
  }
  std::ifstream count_file(cluster.dir() + "/data/us/SLICES");
  uint32_t written = 0;
  EXPECT_TRUE(count_file >> written);
  EXPECT_EQ(written, kSlices);

  // `meridian backup` takes every slice's backup through its own admin listener; `meridian
  // restore` puts them back in the layout a sliced region starts on.
  const std::string backups = cluster.dir() + "/backups";
  ChildProcess backup;
  ASSERT_TRUE(backup
                  .Start({MeridianBinary(), "backup", "--config", cluster.config_path(), "--region",
                          "us", "--to", backups, "--key", cluster.admin_key(), "--no-progress"},
                         cluster.dir() + "/backup.log")
                  .ok());
  EXPECT_EQ(backup.Wait(std::chrono::seconds(60)), std::optional<int>(0));
  const std::string restored = cluster.dir() + "/restored";
  ChildProcess restore;
  ASSERT_TRUE(restore
                  .Start({MeridianBinary(), "restore", "--from", backups, "--data-dir", restored,
                          "--no-progress"},
                         cluster.dir() + "/restore.log")
                  .ok());
  EXPECT_EQ(restore.Wait(std::chrono::seconds(60)), std::optional<int>(0));
  std::stringstream restore_log;
  restore_log << std::ifstream(cluster.dir() + "/restore.log").rdbuf();
  for (uint32_t slice = 0; slice < kSlices; ++slice) {
    EXPECT_TRUE(std::filesystem::exists(restored + "/slice-" + std::to_string(slice) + "/CURRENT"))
        << restore_log.str();
  }
  std::ifstream restored_count(restored + "/SLICES");
  written = 0;
  EXPECT_TRUE(restored_count >> written);
  EXPECT_EQ(written, kSlices);
}

}  // namespace
}  // namespace meridian::testing
