// The router against fake regions on loopback. Every wait is bounded; assertions are about
// outcomes (who served, which headers arrived), never about how long anything took.
#include "router/router.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <set>
#include <thread>

#include "api/request_log.h"
#include "net/http_client.h"
#include "net/testing/test_socket.h"
#include "router/fake_region.h"

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sstream>

namespace meridian::router {
namespace {

using namespace std::chrono_literals;
using testing::FakeRegion;

constexpr RegionId kUs = 0;
constexpr RegionId kEu = 1;
constexpr RegionId kAp = 2;
// Bounds every wait for the router to notice something; far above what it needs.
constexpr auto kPatience = 10s;

std::string HeaderOf(const HttpResponse& response, std::string_view name) {
  for (const auto& [field, value] : response.headers) {
    if (field == name) return value;
  }
  return "<absent>";
}

bool IsLowerHex(const std::string& text) {
  return text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

class RouterTest : public ::testing::Test {
 protected:
  // Regions us, eu, ap answer /healthz after 0, 60 and 150 ms: us is nearest, ap farthest, with
  // gaps that a loaded machine's jitter, smoothed, does not bridge.
  void SetUp() override {
    regions_.push_back(std::make_unique<FakeRegion>("us", 0ms));
    regions_.push_back(std::make_unique<FakeRegion>("eu", 60ms));
    regions_.push_back(std::make_unique<FakeRegion>("ap", 150ms));
    for (auto& region : regions_) {
      region->Start();
    }
  }
  void TearDown() override {
    if (router_) router_->Stop();
  }

  // Every location dials every region directly, except the paths listed in `cut`.
  void StartRouter(std::vector<std::pair<RegionId, RegionId>> cut = {},
                   RouterOptions options = TestRouterOptions(),
                   const std::function<void(RouterTopology&)>& adjust = nullptr) {
    RouterTopology topology;
    topology.region_names = {"us", "eu", "ap"};
    topology.dial.assign(3, {});
    topology.link_rtt_ms.assign(3, std::vector<int64_t>(3, 0));
    for (RegionId location = 0; location < 3; ++location) {
      for (RegionId region = 0; region < 3; ++region) {
        topology.dial[location].push_back(regions_[region]->address());
      }
    }
    if (!cut.empty()) {
      const std::string refused = RefusingAddress();
      for (auto [location, region] : cut) {
        topology.dial[location][region] = refused;
      }
    }
    if (adjust) adjust(topology);
    router_ = std::make_unique<Router>(std::move(topology), std::move(options));
    Status started = router_->Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
    ASSERT_TRUE(router_->WaitUntilProbed(kPatience));
  }

  // An address where nothing listens: a server's port, once the server has gone.
  static std::string RefusingAddress() {
    HttpServer server("127.0.0.1:0", [](HttpRequest, HttpResponder) {});
    EXPECT_TRUE(server.Start().ok());
    std::string address = server.address();
    server.Stop();
    return address;
  }

  nlohmann::json RouterStatus() const { return nlohmann::json::parse(router_->StatusJson()); }

  nlohmann::json PathStatus(RegionId location, RegionId region) const {
    static const char* const kNames[] = {"us", "eu", "ap"};
    return RouterStatus()["by_location"][kNames[location]][region];
  }

  // Polls (every 10 ms, at most kPatience) until `done` holds; returns whether it did.
  static bool WaitFor(const std::function<bool()>& done) {
    const auto give_up = std::chrono::steady_clock::now() + kPatience;
    while (!done()) {
      if (std::chrono::steady_clock::now() > give_up) return false;
      std::this_thread::sleep_for(10ms);
    }
    return true;
  }

  // Until every region is healthy from us and ranked us < eu < ap by smoothed RTT.
  bool WaitForAllHealthyInOrder() {
    return WaitFor([&] {
      const nlohmann::json regions = RouterStatus()["regions"];
      for (const auto& region : regions) {
        if (!region["healthy"].get<bool>()) return false;
      }
      return regions[0]["rtt_ms"].get<double>() < regions[1]["rtt_ms"].get<double>() &&
             regions[1]["rtt_ms"].get<double>() < regions[2]["rtt_ms"].get<double>();
    });
  }

  bool WaitForHealthy(RegionId region, bool healthy) {
    return WaitFor([&] { return PathStatus(kUs, region)["healthy"].get<bool>() == healthy; });
  }

  HttpResponse Send(const std::string& method, const std::string& target,
                    std::vector<std::pair<std::string, std::string>> headers = {},
                    std::string body = "") {
    HttpClientRequest request;
    request.method = method;
    request.target = target;
    request.headers = std::move(headers);
    request.body = std::move(body);
    Result<HttpResponse> response = HttpFetch(router_->address(), request, kPatience);
    EXPECT_TRUE(response.ok()) << response.status().ToString();
    return response.ok() ? *response : HttpResponse::Text(0, "fetch failed");
  }

  std::vector<std::unique_ptr<FakeRegion>> regions_;
  std::unique_ptr<Router> router_;
};

TEST_F(RouterTest, NearestHealthyRegionServes) {
  StartRouter();
  ASSERT_TRUE(WaitForAllHealthyInOrder()) << router_->StatusJson();
  const HttpResponse response =
      Send("GET", "/profile/alice?consistency=local", {{"X-Session-Token", "opaque-token"}});
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(HeaderOf(response, "X-Meridian-Region"), "us");
  EXPECT_EQ(response.body, R"({"served_by":"us"})");
  const auto seen = regions_[kUs]->seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "GET");
  EXPECT_EQ(seen[0].target, "/profile/alice?consistency=local");
  EXPECT_EQ(seen[0].session_token, "opaque-token");  // passed through untouched
  EXPECT_EQ(seen[0].idempotency_key, "");            // reads get no key
  EXPECT_TRUE(regions_[kEu]->seen().empty());
  EXPECT_TRUE(regions_[kAp]->seen().empty());
}

// Pinned keys, pinned handles (by their canonical name) and a pinned subject's erasure go only
// to their set, nearest first; the rest to the nearest region.
TEST_F(RouterTest, PinnedKeysHandlesAndSubjectsErasuresGoOnlyToTheirRegions) {
  StartRouter({}, TestRouterOptions(), [](RouterTopology& topology) {
    topology.residency =
        Residency::Make(
            {{"gdpr:", std::nullopt, {kEu, kAp}}, {"ap.", std::nullopt, {kAp}, /*handle=*/true}}, 3)
            .value();
    topology.subject_patterns = {ParseSubjectPattern("gdpr:{subject}:").value()};
  });
  ASSERT_TRUE(WaitForAllHealthyInOrder());
  auto served_by = [](const HttpResponse& response) {
    return nlohmann::json::parse(response.body, nullptr, false).value("served_by", "?");
  };
  EXPECT_EQ(served_by(Send("PUT", "/register/plain", {}, R"({"value":"x"})")), "us");
  EXPECT_EQ(served_by(Send("PUT", "/register/gdpr:bob:name", {}, R"({"value":"x"})")), "eu");
  EXPECT_EQ(served_by(Send("DELETE", "/subjects/bob")), "eu");
  EXPECT_EQ(served_by(Send("PUT", "/handle/ap.bob", {}, R"({"owner":"o"})")), "ap");
  EXPECT_EQ(served_by(Send("GET", "/handle/AP.bob")), "ap");
  EXPECT_EQ(served_by(Send("PUT", "/handle/carol", {}, R"({"owner":"o"})")), "us");
  for (const auto& seen : regions_[kUs]->seen()) {
    EXPECT_EQ(seen.target.find("bob"), std::string::npos) << seen.method << " " << seen.target;
  }
}

// X-Request-Id: generated when the client sends none (or one that is not plain), passed on
// when it is plain; the region sees it and the client gets it back; with slow_request_ms 0 the
// router logs every request as one JSON line naming it.
TEST_F(RouterTest, RequestIdsArePassedOnReturnedAndLoggedWhenSlow) {
  std::ostringstream log;
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(
      "test", std::make_shared<spdlog::sinks::ostream_sink_mt>(log)));
  RouterOptions options = TestRouterOptions();
  options.slow_request_ms = 0;
  StartRouter({}, options);
  ASSERT_TRUE(WaitForAllHealthyInOrder()) << router_->StatusJson();

  const HttpResponse generated = Send("GET", "/profile/alice");
  const std::string id = HeaderOf(generated, "X-Request-Id");
  EXPECT_TRUE(IsValidRequestId(id)) << id;
  EXPECT_EQ(id.size(), 16u);
  const HttpResponse passed = Send("GET", "/profile/bob", {{"X-Request-Id", "trace-42"}});
  EXPECT_EQ(HeaderOf(passed, "X-Request-Id"), "trace-42");
  const HttpResponse replaced = Send("GET", "/profile/eve", {{"X-Request-Id", "two words"}});
  EXPECT_TRUE(IsValidRequestId(HeaderOf(replaced, "X-Request-Id")));
  const auto seen = regions_[kUs]->seen();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].request_id, id);
  EXPECT_EQ(seen[1].request_id, "trace-42");
  EXPECT_EQ(seen[2].request_id, HeaderOf(replaced, "X-Request-Id"));

  router_->Stop();  // the last responder has run: the log is complete
  spdlog::set_default_logger(previous);
  const std::string text = log.str();
  std::printf("the router's log:\n%s", text.c_str());
  EXPECT_NE(text.find(R"({"duration_ms":)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("request_id":"trace-42")"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("region":"us")"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("slow_request":"router")"), std::string::npos) << text;
  EXPECT_EQ(text.find("two words"), std::string::npos) << text;
}

TEST_F(RouterTest, ConnectionsToARegionAreReused) {
  StartRouter();
  ASSERT_TRUE(WaitForAllHealthyInOrder()) << router_->StatusJson();
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Send("GET", "/counter/c").status, 200);
  }
  std::set<std::string> sources;
  for (const auto& seen : regions_[kUs]->seen()) {
    sources.insert(seen.remote_address);
  }
  EXPECT_EQ(sources.size(), 1u);  // one kept-alive connection served all five
}

TEST_F(RouterTest, WritesGetAKeyThatStaysTheSameAcrossARetry) {
  StartRouter();
  ASSERT_TRUE(WaitForAllHealthyInOrder()) << router_->StatusJson();
  regions_[kUs]->set_data_mode(FakeRegion::DataMode::kUnavailable);
  const HttpResponse response = Send("PUT", "/profile/alice", {}, R"({"name":"Alice"})");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(HeaderOf(response, "X-Meridian-Region"), "eu");
  const auto us = regions_[kUs]->seen();
  const auto eu = regions_[kEu]->seen();
  ASSERT_EQ(us.size(), 1u);
  ASSERT_EQ(eu.size(), 1u);
  EXPECT_EQ(us[0].idempotency_key.size(), 32u);
  EXPECT_TRUE(IsLowerHex(us[0].idempotency_key)) << us[0].idempotency_key;
  EXPECT_EQ(us[0].idempotency_key, eu[0].idempotency_key);
  // A 503 says "not now", not "dead": us stays in the ranking.
  EXPECT_TRUE(PathStatus(kUs, kUs)["healthy"].get<bool>());
  EXPECT_NE(router_->MetricsText().find("meridian_router_reroutes_total 1"), std::string::npos)
      << router_->MetricsText();

  // The next write gets a fresh key; a client's own key passes untouched.
  EXPECT_EQ(Send("POST", "/counter/c/incr").status, 200);
  EXPECT_EQ(Send("POST", "/counter/c/incr", {{"Idempotency-Key", "client-key-1"}}).status, 200);
  const auto eu_later = regions_[kEu]->seen();
  ASSERT_EQ(eu_later.size(), 3u);
  EXPECT_NE(eu_later[1].idempotency_key, eu_later[0].idempotency_key);
  EXPECT_EQ(eu_later[2].idempotency_key, "client-key-1");
  EXPECT_EQ(regions_[kUs]->seen().back().idempotency_key, "client-key-1");
}

TEST_F(RouterTest, WhenEveryRegionIsUnavailableTheLastAnswerIsDelivered) {
  StartRouter();
  ASSERT_TRUE(WaitForAllHealthyInOrder()) << router_->StatusJson();
  for (auto& region : regions_) {
    region->set_data_mode(FakeRegion::DataMode::kUnavailable);
  }
  const HttpResponse response = Send("GET", "/tags/t");
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(HeaderOf(response, "X-Meridian-Region"), "ap");  // tried last
  for (auto& region : regions_) {
    EXPECT_EQ(region->seen().size(), 1u);  // each region at most once
  }
}

// Issue 19, item 6: each retry would wait the region's bound again, and the client would hear
// about a region other than its own.
TEST_F(RouterTest, ARegionsTimeoutIsDeliveredNotRetriedElsewhere) {
  StartRouter();
  ASSERT_TRUE(WaitForAllHealthyInOrder()) << router_->StatusJson();
  for (auto& region : regions_) {
    region->set_data_mode(FakeRegion::DataMode::kTimedOut);
  }
  const HttpResponse response = Send("GET", "/profile/p", {{"X-Session-Token", "t"}});
  EXPECT_EQ(response.status, 504);
  EXPECT_EQ(HeaderOf(response, "X-Meridian-Region"), "us");
  EXPECT_EQ(regions_[kUs]->seen().size(), 1u);
  EXPECT_TRUE(regions_[kEu]->seen().empty());
  EXPECT_TRUE(regions_[kAp]->seen().empty());
}

TEST_F(RouterTest, StoppedRegionIsRoutedAround) {
  StartRouter();
  ASSERT_TRUE(WaitForAllHealthyInOrder()) << router_->StatusJson();
  EXPECT_EQ(HeaderOf(Send("GET", "/profile/p"), "X-Meridian-Region"), "us");
  regions_[kUs]->Stop();
  // Whether a probe or this very request finds us gone first, eu serves it.
  const HttpResponse response = Send("PUT", "/profile/p", {}, R"({"a":"b"})");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(HeaderOf(response, "X-Meridian-Region"), "eu");
  ASSERT_TRUE(WaitForHealthy(kUs, false)) << router_->StatusJson();
  EXPECT_NE(PathStatus(kUs, kUs)["last_error"].get<std::string>(), "");
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(HeaderOf(Send("GET", "/profile/p"), "X-Meridian-Region"), "eu");
  }
  const std::string metrics = router_->MetricsText();
  EXPECT_NE(metrics.find(R"(meridian_router_region_healthy{region="us"} 0)"), std::string::npos);
  EXPECT_NE(metrics.find(R"(meridian_router_region_healthy{region="eu"} 1)"), std::string::npos);
  EXPECT_EQ(metrics.find("meridian_router_failure_detection_seconds_count 0"), std::string::npos)
      << metrics;
}

TEST_F(RouterTest, HangingRegionTimesOutAndTheRetryCarriesTheSameKey) {
  StartRouter();
  ASSERT_TRUE(WaitForAllHealthyInOrder()) << router_->StatusJson();
  regions_[kUs]->set_data_mode(FakeRegion::DataMode::kHang);  // its /healthz still answers
  const HttpResponse response = Send("POST", "/counter/c/incr?by=5");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(HeaderOf(response, "X-Meridian-Region"), "eu");
  const auto us = regions_[kUs]->seen();
  const auto eu = regions_[kEu]->seen();
  ASSERT_EQ(us.size(), 1u);
  ASSERT_EQ(eu.size(), 1u);
  EXPECT_EQ(us[0].idempotency_key, eu[0].idempotency_key);
  EXPECT_EQ(PathStatus(kUs, kUs)["forwards_failed"].get<int>(), 1);
}

TEST_F(RouterTest, CutOffRegionIsRoutedAroundWithoutWaitingForTheForwardTimeout) {
  RouterOptions options = TestRouterOptions();
  options.probe_timeout_ms = 300;
  options.forward_timeout_ms = 60'000;  // far beyond the fetch's patience: only probes can help
  StartRouter({}, options);
  ASSERT_TRUE(WaitForAllHealthyInOrder()) << router_->StatusJson();
  // us goes silent, as behind a cut link: connections open, nothing comes back.
  regions_[kUs]->set_data_mode(FakeRegion::DataMode::kHang);
  regions_[kUs]->set_healthz_hangs(true);
  const HttpResponse response = Send("DELETE", "/tags/t/x");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(HeaderOf(response, "X-Meridian-Region"), "eu");
  // The probe found it (the abort it caused is what the failed forward reports).
  EXPECT_NE(PathStatus(kUs, kUs)["last_error"].get<std::string>().find("probe:"), std::string::npos)
      << router_->StatusJson();
  const auto us = regions_[kUs]->seen();
  const auto eu = regions_[kEu]->seen();
  ASSERT_EQ(eu.size(), 1u);
  ASSERT_LE(us.size(), 1u);  // a slow machine may have noticed the silence before we sent
  if (!us.empty()) {
    EXPECT_EQ(us[0].idempotency_key, eu[0].idempotency_key);
  }
}

TEST_F(RouterTest, CatchingUpRegionGetsNoTrafficUntilItIsOk) {
  StartRouter();
  ASSERT_TRUE(WaitForAllHealthyInOrder()) << router_->StatusJson();
  regions_[kUs]->set_status("catching_up");
  ASSERT_TRUE(WaitForHealthy(kUs, false)) << router_->StatusJson();
  EXPECT_EQ(PathStatus(kUs, kUs)["status"], "catching_up");
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(HeaderOf(Send("GET", "/profile/p"), "X-Meridian-Region"), "eu");
  }
  EXPECT_TRUE(regions_[kUs]->seen().empty());
  // Caught up: failback to the nearest.
  regions_[kUs]->set_status("ok");
  ASSERT_TRUE(WaitForHealthy(kUs, true)) << router_->StatusJson();
  EXPECT_EQ(HeaderOf(Send("GET", "/profile/p"), "X-Meridian-Region"), "us");
}

// Issue 19, item 1: a catching-up region is a last resort, and its answers say they may be stale.
TEST_F(RouterTest, OnlyACatchingUpRegionLeftServesMarkedStale) {
  StartRouter();
  ASSERT_TRUE(WaitForAllHealthyInOrder()) << router_->StatusJson();
  regions_[kUs]->set_status("catching_up");
  regions_[kAp]->set_status("catching_up");
  ASSERT_TRUE(WaitForHealthy(kUs, false)) << router_->StatusJson();
  ASSERT_TRUE(WaitForHealthy(kAp, false)) << router_->StatusJson();
  // eu is caught up: it serves, unmarked.
  const HttpResponse fresh = Send("GET", "/profile/p");
  EXPECT_EQ(HeaderOf(fresh, "X-Meridian-Region"), "eu");
  EXPECT_EQ(HeaderOf(fresh, "X-Meridian-Stale"), "<absent>");
  // eu gone: the nearest catching-up region serves, marked.
  regions_[kEu]->Stop();
  ASSERT_TRUE(WaitForHealthy(kEu, false)) << router_->StatusJson();
  const HttpResponse stale = Send("GET", "/profile/p");
  EXPECT_EQ(stale.status, 200);
  EXPECT_EQ(HeaderOf(stale, "X-Meridian-Region"), "us");
  EXPECT_NE(HeaderOf(stale, "X-Meridian-Stale").find("catching up"), std::string::npos);
  // A catching-up region that stops answering is not offered either: ap serves next.
  regions_[kUs]->Stop();
  ASSERT_TRUE(WaitFor([&] {
    return PathStatus(kUs, kUs)["last_error"].get<std::string>().find("probe:") !=
           std::string::npos;
  })) << router_->StatusJson();
  EXPECT_EQ(HeaderOf(Send("GET", "/profile/p"), "X-Meridian-Region"), "ap");
  EXPECT_NE(router_->MetricsText().find("meridian_router_stale_answers_total 2"),
            std::string::npos);
}

TEST_F(RouterTest, RestartedRegionServesAgain) {
  StartRouter();
  ASSERT_TRUE(WaitForAllHealthyInOrder()) << router_->StatusJson();
  regions_[kUs]->Stop();
  ASSERT_TRUE(WaitForHealthy(kUs, false)) << router_->StatusJson();
  regions_[kUs]->Start();  // the same port
  ASSERT_TRUE(WaitForHealthy(kUs, true)) << router_->StatusJson();
  EXPECT_EQ(HeaderOf(Send("GET", "/profile/p"), "X-Meridian-Region"), "us");
}

TEST_F(RouterTest, ClientRegionChoosesThePathsItRoutesOver) {
  StartRouter({{kAp, kUs}});  // clients in ap cannot reach us
  ASSERT_TRUE(WaitForAllHealthyInOrder()) << router_->StatusJson();
  ASSERT_TRUE(WaitFor([&] { return PathStatus(kAp, kEu)["healthy"].get<bool>(); }));
  EXPECT_FALSE(PathStatus(kAp, kUs)["healthy"].get<bool>());
  EXPECT_EQ(HeaderOf(Send("GET", "/profile/p", {{"X-Client-Region", "ap"}}), "X-Meridian-Region"),
            "eu");
  EXPECT_EQ(HeaderOf(Send("GET", "/profile/p"), "X-Meridian-Region"), "us");
  const HttpResponse unknown = Send("GET", "/profile/p", {{"X-Client-Region", "mars"}});
  EXPECT_EQ(unknown.status, 400);
  EXPECT_NE(unknown.body.find("mars"), std::string::npos);
  EXPECT_EQ(regions_[kUs]->seen().size() + regions_[kEu]->seen().size(), 2u);
}

TEST_F(RouterTest, NoHealthyRegionIsA503FromTheRouter) {
  StartRouter();
  for (auto& region : regions_) {
    region->Stop();
  }
  ASSERT_TRUE(WaitFor([&] { return RouterStatus()["regions"][2]["healthy"] == false; }));
  ASSERT_TRUE(WaitForHealthy(kUs, false) && WaitForHealthy(kEu, false));
  const HttpResponse response = Send("GET", "/profile/p");
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(HeaderOf(response, "X-Meridian-Region"), "<absent>");
  EXPECT_EQ(HeaderOf(response, "Retry-After"), "1");
}

// The dashboard's data paths: a region's /metrics through the router, and PromQL passed to
// Prometheus (a fake here) as the page encoded it; without Prometheus the page is told to read
// /metrics.
TEST_F(RouterTest, DashboardProxiesMetricsAndPrometheusQueries) {
  FakeRegion prometheus("prometheus", 0ms);
  prometheus.Start();
  RouterOptions options = TestRouterOptions();
  options.prometheus_address = prometheus.address();
  StartRouter({}, options);
  ASSERT_TRUE(WaitForAllHealthyInOrder()) << router_->StatusJson();

  const HttpResponse page = Send("GET", "/dashboard");
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("panel-health"), std::string::npos);
  const nlohmann::json config = nlohmann::json::parse(Send("GET", "/dashboard/api/config").body);
  EXPECT_EQ(config["source"], "prometheus");
  EXPECT_EQ(config["metrics_urls"]["eu"], "/dashboard/api/metrics/eu");

  EXPECT_EQ(Send("GET", "/dashboard/api/metrics/eu").status, 200);
  ASSERT_EQ(regions_[kEu]->seen().size(), 1u);
  EXPECT_EQ(regions_[kEu]->seen()[0].target, "/metrics");
  EXPECT_EQ(Send("GET", "/dashboard/api/metrics/mars").status, 404);

  EXPECT_EQ(Send("GET", "/dashboard/api/query?query=up%7Bjob%3D%22r%22%7D").status, 200);
  ASSERT_EQ(prometheus.seen().size(), 1u);
  EXPECT_EQ(prometheus.seen()[0].target, "/api/v1/query?query=up%7Bjob%3D%22r%22%7D");
  EXPECT_EQ(Send("GET", "/dashboard/api/query").status, 400);
  EXPECT_EQ(Send("POST", "/dashboard/api/query?query=up").status, 405);
  EXPECT_EQ(prometheus.seen().size(), 1u);  // refused requests reach nobody

  prometheus.Stop();
  EXPECT_EQ(Send("GET", "/dashboard/api/query?query=up").status, 502);
}

TEST_F(RouterTest, DashboardWithoutPrometheusReadsMetrics) {
  StartRouter();
  const nlohmann::json config = nlohmann::json::parse(Send("GET", "/dashboard/api/config").body);
  EXPECT_EQ(config["source"], "metrics");
  EXPECT_EQ(config["metrics_urls"]["router"], "/router/metrics");
  EXPECT_EQ(Send("GET", "/dashboard/api/query?query=up").status, 404);
}

TEST_F(RouterTest, ConcurrentClientsOnSeveralThreads) {
  RouterOptions options = TestRouterOptions();
  options.threads = 3;
  StartRouter({}, options);
  ASSERT_TRUE(WaitForAllHealthyInOrder()) << router_->StatusJson();
  regions_[kUs]->set_data_mode(FakeRegion::DataMode::kUnavailable);  // every request reroutes
  constexpr int kClients = 8;
  constexpr int kRequestsEach = 10;
  std::atomic<int> served_by_eu{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < kRequestsEach; ++i) {
        const HttpResponse response =
            Send(i % 2 ? "GET" : "POST", "/counter/c" + std::to_string(c) + "/incr");
        if (response.status == 200 && HeaderOf(response, "X-Meridian-Region") == "eu") {
          served_by_eu.fetch_add(1);
        }
      }
    });
  }
  for (std::thread& client : clients) {
    client.join();
  }
  EXPECT_EQ(served_by_eu.load(), kClients * kRequestsEach);
  EXPECT_EQ(regions_[kUs]->seen().size(), size_t{kClients * kRequestsEach});
}

TEST_F(RouterTest, OwnEndpoints) {
  StartRouter();
  ASSERT_TRUE(WaitForAllHealthyInOrder()) << router_->StatusJson();
  const HttpResponse status = Send("GET", "/router/status");
  EXPECT_EQ(status.status, 200);
  const nlohmann::json body = nlohmann::json::parse(status.body);
  EXPECT_EQ(body["location"], "us");
  ASSERT_EQ(body["regions"].size(), 3u);
  EXPECT_EQ(body["regions"][1]["region"], "eu");
  EXPECT_EQ(body["regions"][1]["status"], "ok");
  EXPECT_TRUE(body["regions"][1]["rtt_ms"].is_number());
  EXPECT_EQ(body["by_location"].size(), 3u);

  Send("GET", "/profile/p");
  const HttpResponse metrics = Send("GET", "/router/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find(R"(meridian_router_requests_total{region="us",code="200"} 1)"),
            std::string::npos)
      << metrics.body;
  for (const char* family : {"meridian_router_reroutes_total", "meridian_router_region_healthy",
                             "meridian_router_failure_detection_seconds_bucket",
                             "meridian_router_upstream_latency_seconds_bucket"}) {
    EXPECT_NE(metrics.body.find(family), std::string::npos) << family;
  }
  EXPECT_EQ(Send("GET", "/router/nope").status, 404);
  const HttpResponse refused = Send("POST", "/router/status");
  EXPECT_EQ(refused.status, 405);
  EXPECT_EQ(HeaderOf(refused, "Allow"), "GET, HEAD");
  EXPECT_TRUE(regions_[kUs]->seen().size() == 1u);  // only the one forwarded GET
}

// Issue 19, item 7: what the router's HTTP server answers itself is JSON like the router's own
// errors, and HEAD reaches a region as the GET it stands for, answered without the body.
TEST_F(RouterTest, TransportErrorsAreJsonAndHeadIsServed) {
  StartRouter();
  const std::string address = router_->address();
  const auto port = static_cast<uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
  for (const std::string& request :
       {std::string("\x01 / HTTP/1.1\r\n\r\n"),
        std::string("POST /counter/c/incr?by=1&by=2 HTTP/1.1\r\nHost: x\r\n\r\n"),
        std::string("POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                    "0\r\n\r\n")}) {
    ::meridian::testing::TestSocket socket(port);
    ASSERT_TRUE(socket.Send(request));
    const std::string reply = socket.ReadAll(kPatience);
    EXPECT_NE(reply.find("Content-Type: application/json"), std::string::npos) << reply;
    EXPECT_NE(reply.find(R"({"error":{"code":")"), std::string::npos) << reply;
  }
  EXPECT_TRUE(regions_[kUs]->seen().empty());  // refused before anything was forwarded

  ::meridian::testing::TestSocket socket(port);
  ASSERT_TRUE(socket.Send("HEAD /profile/p HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  const std::string head = socket.ReadAll(kPatience);
  EXPECT_EQ(head.rfind("HTTP/1.1 200", 0), 0u) << head;
  EXPECT_NE(head.find("X-Meridian-Region: us"), std::string::npos) << head;
  EXPECT_EQ(head.find("\r\n\r\n"), head.size() - 4) << head;  // no body
  ASSERT_EQ(regions_[kUs]->seen().size(), 1u);
  EXPECT_EQ(regions_[kUs]->seen()[0].method, "GET");
}

TEST_F(RouterTest, MetricsPassPromtool) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "promtool is not installed (scripts/build installs it)";
  }
  StartRouter();
  ASSERT_TRUE(WaitForAllHealthyInOrder()) << router_->StatusJson();
  regions_[kUs]->Stop();
  Send("GET", "/profile/p");
  Send("GET", "/router/nope");
  const std::string path = ::testing::TempDir() + "router_metrics.prom";
  std::ofstream(path) << router_->MetricsText();
  const std::string command = "promtool check metrics < " + path;
  EXPECT_EQ(std::system(command.c_str()), 0) << router_->MetricsText();
  std::remove(path.c_str());
}

}  // namespace
}  // namespace meridian::router
