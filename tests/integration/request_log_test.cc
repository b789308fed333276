// A region's side of request ids: the X-Request-Id a caller (the router) sends comes back on
// the answer, and with --slow-request-ms 0 the region logs the request as one JSON line naming
// it; an id that is not plain is neither echoed nor logged. Refusals (401, 403) and 404s for
// admin routes, on the client and the admin listener, carry the id back too.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>

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

TEST(RegionRequestLogTest, RefusalsAndAdminNotFoundCarryTheRequestId) {
  ClusterHarness cluster({"us", "eu"});
  ASSERT_TRUE(cluster.StartAll().ok());
  struct Case {
    const char* what;
    Result<HttpResponse> response;
    int status;
  };
  const std::string reader = "Bearer " + cluster.reader_key();
  std::vector<Case> cases;
  cases.push_back({"unknown key",
                   cluster.Call(0, "GET", "/profile/ids", "",
                                {{"Authorization", "Bearer nope"}, {"X-Request-Id", "trace-401"}}),
                   401});
  cases.push_back({"reader writes",
                   cluster.Call(0, "PUT", "/profile/ids", R"({"name":"x"})",
                                {{"Authorization", reader}, {"X-Request-Id", "trace-403"}}),
                   403});
  cases.push_back({"admin route on the client listener",
                   cluster.Call(0, "POST", "/admin/skew", "", {{"X-Request-Id", "trace-404"}}),
                   404});
  cases.push_back(
      {"unknown admin route",
       cluster.AdminCall(0, "GET", "/admin/nothing", {{"X-Request-Id", "trace-admin-404"}}), 404});
  cases.push_back(
      {"admin listener, reader key",
       cluster.AdminCall(0, "POST", "/admin/skew",
                         {{"Authorization", reader}, {"X-Request-Id", "trace-admin-403"}}),
       403});
  cases.push_back(
      {"admin listener, unknown key",
       cluster.AdminCall(0, "POST", "/admin/skew",
                         {{"Authorization", "Bearer nope"}, {"X-Request-Id", "trace-admin-401"}}),
       401});
  for (const Case& c : cases) {
    ASSERT_TRUE(c.response.ok()) << c.what;
    EXPECT_EQ(c.response->status, c.status) << c.what << ": " << c.response->body;
    const std::string id = HeaderOf(*c.response, "X-Request-Id");
    EXPECT_EQ(id.rfind("trace-", 0), 0u) << c.what;
    EXPECT_EQ(std::count_if(c.response->headers.begin(), c.response->headers.end(),
                            [](const auto& field) {
                              std::string name = field.first;
                              for (char& ch : name)
                                ch = static_cast<char>(std::tolower(ch));
                              return name == "x-request-id";
                            }),
              1)
        << c.what << ": one header, not two";
  }
  EXPECT_EQ(HeaderOf(*cases[0].response, "X-Request-Id"), "trace-401");
  EXPECT_EQ(HeaderOf(*cases[1].response, "X-Request-Id"), "trace-403");
  EXPECT_EQ(HeaderOf(*cases[2].response, "X-Request-Id"), "trace-404");
  EXPECT_EQ(HeaderOf(*cases[3].response, "X-Request-Id"), "trace-admin-404");
  EXPECT_EQ(HeaderOf(*cases[4].response, "X-Request-Id"), "trace-admin-403");
  EXPECT_EQ(HeaderOf(*cases[5].response, "X-Request-Id"), "trace-admin-401");
  // Without an id, a refusal carries none (the region does not invent one).
  auto bare = cluster.Call(0, "GET", "/profile/ids", "", {{"Authorization", "Bearer nope"}});
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->status, 401);
  EXPECT_EQ(HeaderOf(*bare, "X-Request-Id"), "");
}

}  // namespace
}  // namespace meridian::testing
