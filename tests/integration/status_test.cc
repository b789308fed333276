// `meridian status` against real regions started by the harness: every region named, a killed
// one shown as down (text and JSON), and `--watch` redrawing until SIGTERM stops it cleanly.
// No timing is asserted: the p99s are whatever this machine measures.
#include <signal.h>

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/integration/cluster_harness.h"

namespace meridian::testing {
namespace {

using Json = nlohmann::json;
using std::chrono::seconds;

class StatusTest : public ::testing::Test {
 protected:
  // Runs `meridian status ARGS --config <the harness config>`; its exit code and output.
  std::pair<std::optional<int>, std::string> Status(std::vector<std::string> args) {
    std::vector<std::string> argv = {MeridianBinary(), "status", "--config",
                                     cluster_.config_path()};
    argv.insert(argv.end(), args.begin(), args.end());
    const std::string log = cluster_.dir() + "/status-" + std::to_string(runs_++) + ".log";
    ChildProcess status;
    EXPECT_TRUE(status.Start(argv, log).ok());
    const std::optional<int> code = status.Wait(seconds(60));
    return {code, ReadFile(log)};
  }

  static std::string ReadFile(const std::string& path) {
    std::ifstream in(path);
    std::stringstream out;
    out << in.rdbuf();
    return out.str();
  }

  ClusterHarness cluster_;
  int runs_ = 0;
};

TEST_F(StatusTest, NamesEveryRegionAndShowsAKilledOneDown) {
  ASSERT_TRUE(cluster_.StartAll().ok());
  // Some traffic, so the p99 columns have something to read.
  for (size_t i = 0; i < cluster_.regions().size(); ++i) {
    EXPECT_TRUE(
        cluster_.Call(i, "PUT", "/profile/status-" + std::to_string(i), R"({"name":"x"})").ok());
  }

  auto [code, text] = Status({});
  ASSERT_EQ(code, std::optional<int>(0)) << text;
  for (size_t i = 0; i < cluster_.regions().size(); ++i) {
    const std::string line =
        "region " + cluster_.regions()[i] + "  " + cluster_.http_address(i) + "  ok  peers up 2/2";
    EXPECT_NE(text.find(line), std::string::npos) << line << "\n" << text;
  }
  // The config names a router, which this test does not start.
  EXPECT_NE(text.find("router 127.0.0.1:" + std::to_string(cluster_.router_port()) + "  DOWN"),
            std::string::npos)
      << text;

  auto [json_code, json_text] = Status({"--json"});
  ASSERT_EQ(json_code, std::optional<int>(0)) << json_text;
  Json before = Json::parse(json_text);
  ASSERT_EQ(before["regions"].size(), 3u) << json_text;
  for (const Json& r : before["regions"]) {
    EXPECT_EQ(r["health"], "ok") << json_text;
    EXPECT_EQ(r["peers_total"], 2) << json_text;
    EXPECT_EQ(r["links"].size(), 2u) << json_text;
  }

  cluster_.KillRegion(1);  // eu
  auto [down_code, down_json] = Status({"--json"});
  ASSERT_EQ(down_code, std::optional<int>(0)) << down_json;
  Json after = Json::parse(down_json);
  ASSERT_EQ(after["regions"].size(), 3u);
  for (const Json& r : after["regions"]) {
    EXPECT_EQ(r["health"], r["name"] == "eu" ? "down" : "ok") << down_json;
  }
  auto [text_code, down_text] = Status({});
  EXPECT_NE(down_text.find("region eu  " + cluster_.http_address(1) + "  DOWN"), std::string::npos)
      << down_text;
}

TEST_F(StatusTest, WatchRedrawsUntilSigtermAndStopsCleanly) {
  ASSERT_TRUE(cluster_.StartAll().ok());
  const std::string log = cluster_.dir() + "/watch.log";
  ChildProcess watch;
  ASSERT_TRUE(
      watch
          .Start({MeridianBinary(), "status", "--config", cluster_.config_path(), "--watch", "1"},
                 log)
          .ok());
  // Two draws: the second one counts p99s over its interval.
  const bool redrawn = Eventually(
      [&] {
        const std::string out = ReadFile(log);
        const size_t first = out.find("meridian status");
        return first != std::string::npos &&
               out.find("meridian status", first + 1) != std::string::npos;
      },
      seconds(30));
  EXPECT_TRUE(redrawn) << ReadFile(log);
  EXPECT_EQ(watch.Stop(SIGTERM, seconds(10)), std::optional<int>(0)) << ReadFile(log);
}

TEST_F(StatusTest, BadInputGetsAClearError) {
  auto [code, text] = Status({"--watch", "0"});
  EXPECT_EQ(code, std::optional<int>(2)) << text;
  EXPECT_NE(text.find("--watch takes whole seconds"), std::string::npos) << text;
}

}  // namespace
}  // namespace meridian::testing
