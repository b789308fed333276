// A region's side of request ids: the X-Request-Id a caller (the router) sends comes back on
// the answer, and with --slow-request-ms 0 the region logs the request as one JSON line naming
// it; an id that is not plain is neither echoed nor logged.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/integration/cluster_harness.h"

namespace meridian::testing {
namespace {

std::string HeaderOf(const HttpResponse& response, const std::string& name) {
  for (const auto& [field, value] : response.headers) {
    if (field.size() == name.size() &&
        std::equal(field.begin(), field.end(), name.begin(),
                   [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
      return value;
    }
  }
  return "";
}

TEST(RegionRequestLogTest, EchoesTheRequestIdAndLogsSlowRequestsAsJson) {
  ClusterHarness cluster({"us", "eu"});
  cluster.set_region_flags({"--slow-request-ms", "0"});
  ASSERT_TRUE(cluster.StartAll().ok());
  auto put =
      cluster.Call(0, "PUT", "/profile/ids", R"({"name":"x"})", {{"X-Request-Id", "trace-7"}});
  ASSERT_TRUE(put.ok());
  EXPECT_EQ(put->status, 200) << put->body;
  EXPECT_EQ(HeaderOf(*put, "X-Request-Id"), "trace-7");
  auto odd = cluster.Call(0, "GET", "/profile/ids", "", {{"X-Request-Id", "no\"pe"}});
  ASSERT_TRUE(odd.ok());
  EXPECT_EQ(HeaderOf(*odd, "X-Request-Id"), "");

  std::string line;
  ASSERT_TRUE(Eventually(
      [&] {
        std::istringstream log(cluster.ReadLog(0));
        for (std::string l; std::getline(log, l);) {
          if (l.find(R"("request_id":"trace-7")") != std::string::npos) line = l;
        }
        return !line.empty();
      },
      std::chrono::seconds(10)))
      << cluster.ReadLog(0);
  const nlohmann::json parsed = nlohmann::json::parse(line.substr(line.find('{')));
  EXPECT_EQ(parsed["slow_request"], "region");
  EXPECT_EQ(parsed["region"], "us");
  EXPECT_EQ(parsed["method"], "PUT");
  EXPECT_EQ(parsed["target"], "/profile/ids");
  EXPECT_EQ(parsed["status"], 200);
  EXPECT_EQ(cluster.ReadLog(0).find("no\\\"pe"), std::string::npos);
}

}  // namespace
}  // namespace meridian::testing
