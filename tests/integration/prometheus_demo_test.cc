// `meridian demo` with its Prometheus: Debian's real `prometheus` scraping the demo's regions,
// router and WAN emulator on free ports, the committed rules loaded, and a killed region seen as
// down, all through Prometheus' own HTTP API (/api/v1/targets, /api/v1/query, /api/v1/rules,
// /api/v1/alerts); then Debian's `prometheus-alertmanager` delivering the firing and the resolved
// MeridianRegionDown to the demo's webhook (GET /alerts on the control API, and its log).
// Skipped, saying so, when the `prometheus` binary is not installed. And the
// router's /dashboard over it in headless Chromium (dashboard_browser.py), when installed.
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "cluster/local_cluster.h"
#include "tests/integration/cluster_harness.h"

namespace meridian::testing {
namespace {

using Json = nlohmann::json;
using std::chrono::seconds;

std::string PercentEncoded(const std::string& text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

class PrometheusDemoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access("/usr/bin/prometheus", X_OK) != 0) {
      GTEST_SKIP() << "Debian's prometheus is not installed (scripts/build installs it)";
    }
    const std::vector<uint16_t> ports = PickFreePorts(3);
    control_ = "127.0.0.1:" + std::to_string(ports[0]);
    prometheus_ = "127.0.0.1:" + std::to_string(ports[1]);
    alertmanager_ = "127.0.0.1:" + std::to_string(ports[2]);
    alertmanager_installed_ = ::access("/usr/bin/prometheus-alertmanager", X_OK) == 0;
    endpoints_ = cluster_.dir() + "/endpoints.json";
    ASSERT_TRUE(
        demo_
            .Start({MeridianBinary(), "demo", "--config", cluster_.config_path(), "--data-dir",
                    cluster_.dir() + "/demo", "--endpoints-file", endpoints_, "--control", control_,
                    "--prometheus", prometheus_, "--alertmanager", alertmanager_,
                    "--prometheus-rules", MERIDIAN_SOURCE_DIR "/deploy/prometheus"},
                   cluster_.dir() + "/demo.log")
            .ok());
    const bool ready =
        Eventually([&] { return std::filesystem::exists(endpoints_) || demo_.Poll().has_value(); },
                   seconds(90));
    ASSERT_TRUE(ready && std::filesystem::exists(endpoints_)) << DemoLog();
    std::ifstream in(endpoints_);
    endpoints_json_ = Json::parse(in);
  }

  void TearDown() override {
    if (demo_.running()) {
      EXPECT_EQ(demo_.Stop(SIGINT, seconds(60)).value_or(-1), 0);
    }
  }

  std::string DemoLog() const {
    std::ifstream in(cluster_.dir() + "/demo.log");
    std::stringstream out;
    out << in.rdbuf();
    return out.str();
  }

  // GET `target` from Prometheus; its JSON "data", or null on any failure.
  Json Api(const std::string& target) {
    HttpClientRequest request;
    request.target = target;
    auto response = HttpFetch(prometheus_, request, seconds(5));
    if (!response.ok() || response->status != 200) return Json();
    Json body = Json::parse(response->body, nullptr, /*allow_exceptions=*/false);
    if (!body.is_object() || body.value("status", "") != "success") return Json();
    return body["data"];
  }

  // The instant vector for `promql`: [{"metric": {...}, "value": [t, "v"]}, ...] (or null).
  Json Query(const std::string& promql) {
    return Api("/api/v1/query?query=" + PercentEncoded(promql))["result"];
  }

  std::string AdminKey() const { return endpoints_json_["admin_key"]; }

  ClusterHarness cluster_;  // config with free ports; the demo starts the processes
  ChildProcess demo_;
  // The alerts the demo's webhook received (GET /alerts on the control API), or null.
  Json ReceivedAlerts() {
    HttpClientRequest request;
    request.target = "/alerts";
    request.headers.emplace_back("Authorization", "Bearer " + AdminKey());
    auto response = HttpFetch(control_, request, seconds(5));
    if (!response.ok() || response->status != 200) return Json();
    return Json::parse(response->body, nullptr, /*allow_exceptions=*/false);
  }

  // Whether the webhook received `alert` for region `region` with `status`.
  bool Received(const Json& alerts, const std::string& alert, const std::string& region,
                const std::string& status) {
    if (!alerts.is_array()) return false;
    for (const Json& a : alerts) {
      if (a.value("alert", "") == alert && a.value("status", "") == status &&
          a["labels"].value("region", "") == region) {
        return true;
      }
    }
    return false;
  }

  std::string control_, prometheus_, alertmanager_, endpoints_;
  bool alertmanager_installed_ = false;
  Json endpoints_json_;
};

TEST_F(PrometheusDemoTest, ScrapesEveryTargetLoadsTheRulesAndSeesAKilledRegionDown) {
  EXPECT_EQ(endpoints_json_.value("prometheus", ""), prometheus_);

  // 1. Every target (three regions, the router and the WAN emulator) is scraped and up.
  Json active;
  const bool all_up = Eventually(
      [&] {
        active = Api("/api/v1/targets")["activeTargets"];
        if (!active.is_array() || active.size() != 5) return false;
        for (const Json& target : active) {
          if (target.value("health", "") != "up") return false;
        }
        return true;
      },
      seconds(30));
  ASSERT_TRUE(all_up) << active.dump(1) << DemoLog();

  // 2. A region metric is queryable, labelled with its region.
  Json ok;
  ASSERT_TRUE(Eventually(
      [&] {
        ok = Query("meridian_region_status{status=\"ok\"} == 1");
        return ok.is_array() && ok.size() == 3;
      },
      seconds(30)))
      << ok.dump(1);
  // The WAN emulator's link counters, through Prometheus (replication crosses it).
  Json wan;
  ASSERT_TRUE(Eventually(
      [&] {
        wan = Query("meridian_wan_bytes_forwarded_total{link=\"us->eu\"} > 0");
        return wan.is_array() && wan.size() == 2;  // both directions
      },
      seconds(30)))
      << wan.dump(1);
  std::set<std::string> regions;
  for (const Json& sample : ok)
    regions.insert(sample["metric"].value("region", ""));
  EXPECT_EQ(regions, (std::set<std::string>{"us", "eu", "ap"}));

  // 3. The committed rules and the generated link delays are loaded.
  Json delay;
  ASSERT_TRUE(Eventually(
      [&] {
        delay = Query("meridian:link_one_way_delay_seconds");
        return delay.is_array() && delay.size() == 6;
      },
      seconds(30)))
      << delay.dump(1);
  const std::string rules = Api("/api/v1/rules").dump();
  for (const std::string alert : {"MeridianRegionDown", "MeridianReplicationLagHigh",
                                  "MeridianStorageFailed", "MeridianRouterRerouting"}) {
    EXPECT_NE(rules.find(alert), std::string::npos) << alert;
  }
  EXPECT_NE(rules.find("meridian:replication_lag_seconds:p99_1m"), std::string::npos);

  // 4. Kill eu: Prometheus sees it down, and MeridianRegionDown starts counting its 30 s.
  HttpClientRequest kill;
  kill.method = "POST";
  kill.target = "/processes/eu/kill";
  kill.headers.emplace_back("Authorization", "Bearer " + AdminKey());
  auto killed = HttpFetch(control_, kill, seconds(10));
  ASSERT_TRUE(killed.ok() && killed->status == 200);
  Json down;
  ASSERT_TRUE(Eventually(
      [&] {
        down = Query("up{job=\"meridian_region\"} == 0");
        return down.is_array() && down.size() == 1;
      },
      seconds(30)))
      << down.dump(1);
  EXPECT_EQ(down[0]["metric"].value("region", ""), "eu");
  Json alerts;
  ASSERT_TRUE(Eventually(
      [&] {
        alerts = Api("/api/v1/alerts")["alerts"];
        if (!alerts.is_array()) return false;
        for (const Json& a : alerts) {
          if (a["labels"].value("alertname", "") == "MeridianRegionDown" &&
              a["labels"].value("region", "") == "eu") {
            return true;
          }
        }
        return false;
      },
      seconds(30)))
      << alerts.dump(1);
  for (const Json& a : alerts) {  // only eu: nothing else is down
    if (a["labels"].value("alertname", "") == "MeridianRegionDown") {
      EXPECT_EQ(a["labels"].value("region", ""), "eu");
    }
  }

  // 5. Once the alert fires (its `for` is 30 s), Alertmanager delivers it to the demo's webhook,
  // which keeps it (GET /alerts) and logs it as one line; a restart of eu resolves it.
  if (alertmanager_installed_) {
    EXPECT_EQ(endpoints_json_.value("alertmanager", ""), alertmanager_);
    Json received;
    ASSERT_TRUE(Eventually(
        [&] {
          received = ReceivedAlerts();
          return Received(received, "MeridianRegionDown", "eu", "firing");
        },
        seconds(120)))
        << received.dump(1) << DemoLog();
    EXPECT_NE(DemoLog().find("demo: alert {\"alert\":\"MeridianRegionDown\""), std::string::npos)
        << DemoLog();
    HttpClientRequest restart = kill;
    restart.target = "/processes/eu/restart";
    auto restarted = HttpFetch(control_, restart, seconds(30));
    ASSERT_TRUE(restarted.ok() && restarted->status == 200);
    ASSERT_TRUE(Eventually(
        [&] {
          received = ReceivedAlerts();
          return Received(received, "MeridianRegionDown", "eu", "resolved");
        },
        seconds(120)))
        << received.dump(1) << DemoLog();
  } else {
    std::cout << "Alertmanager not installed (package prometheus-alertmanager): its part skipped\n";
  }

  // 6. Ctrl-C stops Prometheus and Alertmanager with the rest.
  EXPECT_EQ(demo_.Stop(SIGINT, seconds(60)).value_or(-1), 0);
  HttpClientRequest ready;
  ready.target = "/-/ready";
  EXPECT_FALSE(HttpFetch(prometheus_, ready, seconds(2)).ok());
  EXPECT_FALSE(HttpFetch(alertmanager_, ready, seconds(2)).ok());
}

// The dashboard in a real browser: every panel shows data under load, and a killed region
// shows as down. The checks are in dashboard_browser.py, which names each one; the screenshot
// lands in the test's directory (docs/dashboard.png is one such, from a demo run).
TEST_F(PrometheusDemoTest, TheDashboardShowsEveryPanelAndAKilledRegionInChromium) {
  for (const char* needed : {"/usr/bin/chromium", "/usr/bin/chromedriver"}) {
    if (::access(needed, X_OK) != 0) {
      GTEST_SKIP() << needed
                   << " is not installed (scripts/build installs chromium and chromium-driver)";
    }
  }
  // MERIDIAN_DASHBOARD_PNG keeps the picture (the test's directory is removed afterwards).
  const char* keep = std::getenv("MERIDIAN_DASHBOARD_PNG");
  const std::string screenshot = keep ? keep : cluster_.dir() + "/dashboard.png";
  const std::string log = cluster_.dir() + "/dashboard_browser.log";
  ChildProcess script;
  ASSERT_TRUE(
      script
          .Start({"/usr/bin/python3", MERIDIAN_SOURCE_DIR "/tests/integration/dashboard_browser.py",
                  endpoints_, MeridianBinary(), screenshot},
                 log)
          .ok());
  const std::optional<int> code = script.Wait(seconds(300));
  std::stringstream output;
  output << std::ifstream(log).rdbuf();
  EXPECT_EQ(code, std::optional<int>(0)) << output.str() << DemoLog();
  EXPECT_NE(output.str().find("all dashboard checks passed"), std::string::npos) << output.str();
  EXPECT_TRUE(std::filesystem::exists(screenshot));
  std::cout << output.str();
}

}  // namespace
}  // namespace meridian::testing
