// The embedded page and its config: what a browser fetches first.
#include "dashboard/dashboard.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace meridian::dashboard {
namespace {

TEST(DashboardTest, ServesTheEmbeddedFilesAndNothingElse) {
  const auto page = Asset("/dashboard");
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(page->content_type, "text/html; charset=utf-8");
  // Every panel the browser test checks is in the page, and the page loads the script.
  for (const char* id :
       {"panel-health", "panel-latency", "panel-lag", "panel-conflicts", "panel-handles",
        "panel-router", "panel-clock", "panel-wan", "/dashboard/app.js"}) {
    EXPECT_NE(page->body.find(id), std::string::npos) << id;
  }
  ASSERT_TRUE(Asset("/dashboard/").has_value());
  const auto script = Asset("/dashboard/app.js");
  ASSERT_TRUE(script.has_value());
  EXPECT_EQ(script->content_type, "text/javascript; charset=utf-8");
  EXPECT_NE(script->body.find("modelFromPrometheus"), std::string::npos);
  ASSERT_TRUE(Asset("/dashboard/app.css").has_value());
  EXPECT_FALSE(Asset("/dashboard/../etc/passwd").has_value());
  EXPECT_FALSE(Asset("/dashboard/app.jsx").has_value());
  EXPECT_TRUE(IsDashboardPath("/dashboard"));
  EXPECT_TRUE(IsDashboardPath("/dashboard/api/config"));
  EXPECT_FALSE(IsDashboardPath("/dashboards"));
}

TEST(DashboardTest, ConfigSaysWhereTheFiguresComeFrom) {
  View view;
  view.regions = {"us", "eu"};
  view.prometheus = true;
  view.metrics_urls = {{"us", "/dashboard/api/metrics/us"}, {"router", "/router/metrics"}};
  const HttpResponse response = ConfigResponse(view);
  EXPECT_EQ(response.status, 200);
  const nlohmann::json body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body["scope"], "cluster");
  EXPECT_EQ(body["source"], "prometheus");
  EXPECT_EQ(body["regions"], nlohmann::json({"us", "eu"}));
  EXPECT_EQ(body["metrics_urls"]["router"], "/router/metrics");
  view.cluster = false;
  view.prometheus = false;
  const nlohmann::json own = nlohmann::json::parse(ConfigResponse(view).body);
  EXPECT_EQ(own["scope"], "region");
  EXPECT_EQ(own["source"], "metrics");
}

}  // namespace
}  // namespace meridian::dashboard
