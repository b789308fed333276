#include "cluster/local_cluster.h"

#include <gtest/gtest.h>

#include <string>

namespace meridian {
namespace {

constexpr std::string_view kBase = R"(regions:
  - name: us
    http: 127.0.0.1:7101
    replication: 127.0.0.1:7201
    resp: 127.0.0.1:6401
    data_dir: data/us
  - name: eu
    http: 127.0.0.1:7102
    replication: 127.0.0.1:7202
    resp: 127.0.0.1:6402
    data_dir: data/eu
topology: mesh
links:
  - between: [us, eu]
    rtt_ms: 80
    jitter_ms: 10
wan:
  admin: 127.0.0.1:8474
  base_port: 9000
router:
  http: 127.0.0.1:7000
  resp: 127.0.0.1:6400
)";

TEST(OffsetClusterPortsTest, EveryListenerMovesByTheOffset) {
  Result<ClusterConfig> base = ParseClusterConfig(kBase, "test");
  ASSERT_TRUE(base.ok()) << base.status().ToString();
  Result<ClusterConfig> moved = OffsetClusterPorts(*base, 100);
  ASSERT_TRUE(moved.ok()) << moved.status().ToString();
  EXPECT_EQ(moved->regions[0].http.ToString(), "127.0.0.1:7201");
  EXPECT_EQ(moved->regions[0].replication.ToString(), "127.0.0.1:7301");
  EXPECT_EQ(moved->regions[0].resp->ToString(), "127.0.0.1:6501");
  EXPECT_EQ(moved->regions[1].http.ToString(), "127.0.0.1:7202");
  EXPECT_EQ(moved->regions[1].replication.ToString(), "127.0.0.1:7302");
  EXPECT_EQ(moved->wan.admin.ToString(), "127.0.0.1:8574");
  EXPECT_EQ(moved->wan.base_port, 9100);
  EXPECT_EQ(moved->router.http.ToString(), "127.0.0.1:7100");
  EXPECT_EQ(moved->router.resp->ToString(), "127.0.0.1:6500");
  // Everything else is the same cluster.
  EXPECT_EQ(moved->regions[0].name, "us");
  EXPECT_EQ(moved->links.size(), base->links.size());
  Result<ClusterConfig> same = OffsetClusterPorts(*base, 0);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(FormatClusterConfig(*same), FormatClusterConfig(*base));
}

// A lab's cluster must not bind the demo's RESP ports (6400-6403) either.
TEST(RelocateClusterConfigTest, RespListenersMoveToFreePorts) {
  Result<ClusterConfig> base = ParseClusterConfig(kBase, "test");
  ASSERT_TRUE(base.ok()) << base.status().ToString();
  Result<RelocatedCluster> relocated = RelocateClusterConfig(*base, 1);
  ASSERT_TRUE(relocated.ok()) << relocated.status().ToString();
  const ClusterConfig& config = relocated->config;
  ASSERT_TRUE(config.regions[0].resp && config.regions[1].resp && config.router.resp);
  for (const HostPort* moved : {&*config.regions[0].resp, &*config.regions[1].resp,
                                &*config.router.resp, &config.router.http}) {
    EXPECT_EQ(moved->host, "127.0.0.1");
    EXPECT_TRUE(moved->port < 6400 || moved->port > 6403) << moved->ToString();
  }
  // Without resp listeners in the base, none appear.
  ClusterConfig plain = *base;
  plain.router.resp.reset();
  for (RegionConfig& region : plain.regions)
    region.resp.reset();
  Result<RelocatedCluster> again = RelocateClusterConfig(plain, 2);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_FALSE(again->config.router.resp.has_value());
  EXPECT_FALSE(again->config.regions[0].resp.has_value());
}

TEST(OffsetClusterPortsTest, AnOffsetPastTheLastPortIsRefusedNamingWhat) {
  Result<ClusterConfig> base = ParseClusterConfig(kBase, "test");
  ASSERT_TRUE(base.ok());
  Result<ClusterConfig> moved = OffsetClusterPorts(*base, 60'000);
  ASSERT_FALSE(moved.ok());
  EXPECT_EQ(moved.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(moved.status().message().find("region us's http (127.0.0.1:7101) past port 65535"),
            std::string::npos)
      << moved.status().message();
  // The WAN block needs room for all its proxies, not only its first port.
  ClusterConfig near_top = *base;
  near_top.wan.base_port = 65'400;
  Result<ClusterConfig> wan = OffsetClusterPorts(near_top, 10);
  ASSERT_FALSE(wan.ok());
  EXPECT_NE(wan.status().message().find("proxy ports"), std::string::npos)
      << wan.status().message();
}

}  // namespace
}  // namespace meridian
