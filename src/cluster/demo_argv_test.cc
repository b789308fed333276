// `meridian demo --slow-request-ms N` reaches every region and the router it starts.
#include "cluster/demo_argv.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace meridian {
namespace {

using Argv = std::vector<std::string>;

// The value following `flag`, or "" when the flag is absent.
std::string ValueOf(const Argv& argv, const std::string& flag) {
  auto it = std::find(argv.begin(), argv.end(), flag);
  return it == argv.end() || it + 1 == argv.end() ? "" : *(it + 1);
}

TEST(DemoArgvTest, SlowRequestThresholdReachesRegionsAndRouter) {
  DemoOptions options;
  options.slow_request_ms = 250;
  options.wal_sync = "periodic";
  options.region_args = {"--extra", "x"};
  for (const char* region : {"us", "eu", "ap"}) {
    const Argv argv = RegionArgv(options, "/bin/meridian", "/d/cluster.yaml", region);
    EXPECT_EQ(Argv(argv.begin(), argv.begin() + 6),
              (Argv{"/bin/meridian", "region", "--config", "/d/cluster.yaml", "--region", region}));
    EXPECT_EQ(ValueOf(argv, "--slow-request-ms"), "250") << region;
    EXPECT_EQ(ValueOf(argv, "--wal-sync"), "periodic");
    EXPECT_EQ(Argv(argv.end() - 2, argv.end()), (Argv{"--extra", "x"})) << "region_args last";
  }
  EXPECT_EQ(
      RouterArgv(options, "/bin/meridian", "/d/cluster.yaml"),
      (Argv{"/bin/meridian", "router", "--config", "/d/cluster.yaml", "--slow-request-ms", "250"}));
}

TEST(DemoArgvTest, ZeroAndMinusOneArePassedAsGiven) {
  DemoOptions options;
  options.slow_request_ms = 0;
  EXPECT_EQ(ValueOf(RegionArgv(options, "m", "c", "us"), "--slow-request-ms"), "0");
  options.slow_request_ms = -1;
  EXPECT_EQ(ValueOf(RouterArgv(options, "m", "c"), "--slow-request-ms"), "-1");
}

TEST(DemoArgvTest, UnsetThresholdLeavesTheChildrensDefault) {
  const DemoOptions options;
  const Argv region = RegionArgv(options, "m", "c", "us");
  EXPECT_EQ(region, (Argv{"m", "region", "--config", "c", "--region", "us"}));
  EXPECT_EQ(RouterArgv(options, "m", "c"), (Argv{"m", "router", "--config", "c"}));
}

}  // namespace
}  // namespace meridian
