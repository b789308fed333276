#include "gen/inputs.h"

#include <gtest/gtest.h>

namespace meridian {
namespace {

TEST(InputsTest, ParseTarget) {
  Result<GenTarget> t = ParseTarget("us=127.0.0.1:7101");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->name, "us");
  EXPECT_EQ(t->address, "127.0.0.1:7101");
  EXPECT_FALSE(ParseTarget("127.0.0.1:7101").ok());
  EXPECT_FALSE(ParseTarget("us=").ok());
  EXPECT_FALSE(ParseTarget("us=nohost").ok());
}

TEST(InputsTest, ParseDuration) {
  EXPECT_EQ(*ParseDurationNs("10s"), 10'000'000'000u);
  EXPECT_EQ(*ParseDurationNs("500ms"), 500'000'000u);
  EXPECT_EQ(*ParseDurationNs("2m"), 120'000'000'000u);
  EXPECT_EQ(*ParseDurationNs("1.5"), 1'500'000'000u);
  EXPECT_FALSE(ParseDurationNs("").ok());
  EXPECT_FALSE(ParseDurationNs("ten").ok());
  EXPECT_FALSE(ParseDurationNs("0s").ok());
  EXPECT_FALSE(ParseDurationNs("-1s").ok());
}

TEST(InputsTest, ParseRamp) {
  Result<std::vector<RateStep>> steps = ParseRamp("1000:5000:5");
  ASSERT_TRUE(steps.ok()) << steps.status().ToString();
  ASSERT_EQ(steps->size(), 5u);
  EXPECT_DOUBLE_EQ((*steps)[0].ops_per_s, 1000);
  EXPECT_DOUBLE_EQ((*steps)[4].ops_per_s, 5000);
  EXPECT_EQ((*steps)[2].duration_ns, 5'000'000'000u);
  steps = ParseRamp("5000:50000:2s:15000");
  ASSERT_TRUE(steps.ok());
  ASSERT_EQ(steps->size(), 4u);  // 5000, 20000, 35000, 50000
  EXPECT_DOUBLE_EQ((*steps)[3].ops_per_s, 50000);
  EXPECT_FALSE(ParseRamp("5000:1000:5").ok());
  EXPECT_FALSE(ParseRamp("1000:5000").ok());
  EXPECT_FALSE(ParseRamp("0:5000:5").ok());
  EXPECT_FALSE(ParseRamp("1:100000:1:1").ok());  // too many steps
}

TEST(InputsTest, ParseEndpoints) {
  Result<Endpoints> e = ParseEndpoints(
      R"({"regions": {"us": {"http": "127.0.0.1:7101", "replication": "127.0.0.1:7201"},
                      "eu": {"http": "127.0.0.1:7102"}}, "router": "127.0.0.1:7000"})");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  ASSERT_EQ(e->regions.size(), 2u);
  EXPECT_EQ(e->regions[0].name, "us");  // the file's order
  EXPECT_EQ(e->regions[1].address, "127.0.0.1:7102");
  EXPECT_EQ(e->router, "127.0.0.1:7000");
  EXPECT_FALSE(ParseEndpoints("[]").ok());
  EXPECT_FALSE(ParseEndpoints(R"({"regions": {}})").ok());
  EXPECT_FALSE(ParseEndpoints(R"({"regions": {"us": {"http": 7}}})").ok());
  EXPECT_FALSE(ParseEndpoints("{").ok());
}

TEST(InputsTest, TargetsFromTheCommittedConfig) {
  Result<std::vector<GenTarget>> targets =
      LoadTargetsFromConfig(std::string(MERIDIAN_SOURCE_DIR) + "/deploy/local.yaml");
  ASSERT_TRUE(targets.ok()) << targets.status().ToString();
  ASSERT_GE(targets->size(), 2u);
  EXPECT_EQ((*targets)[0].name, "us");
  EXPECT_EQ((*targets)[0].address, "127.0.0.1:7101");
}

}  // namespace
}  // namespace meridian
