#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "base/random.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "net/testing/test_socket.h"
#include "tools/wan/testing/echo_server.h"
#include "tools/wan/wan_admin.h"
#include "tools/wan/wan_emulator.h"
#include "tools/wan/wan_metrics.h"

namespace meridian::wan {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::TestSocket;
using Clock = std::chrono::steady_clock;

class WanTest : public ::testing::Test {
 protected:
  // One proxy "us->eu" in front of the echo server, and the admin API.
  void StartWan(std::vector<Toxic> baseline) {
    ProxySpec spec{"us->eu", "127.0.0.1:0", "127.0.0.1:" + std::to_string(echo_.port()),
                   std::move(baseline)};
    emulator_ = std::make_unique<WanEmulator>(std::vector<ProxySpec>{spec}, WanOptions{});
    Status started = emulator_->Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
    admin_ = std::make_unique<HttpServer>("127.0.0.1:0", MakeWanAdminHandler(*emulator_));
    ASSERT_TRUE(admin_->Start().ok());
  }
  void TearDown() override {
    if (admin_) admin_->Stop();
    if (emulator_) emulator_->Stop();
  }

  uint16_t ProxyPort() {
    const std::string listen = emulator_->GetProxy("us->eu")->listen;
    return static_cast<uint16_t>(std::stoi(listen.substr(listen.rfind(':') + 1)));
  }

  Result<HttpResponse> Admin(const std::string& method, const std::string& target,
                             const std::string& body = "") {
    HttpClientRequest request;
    request.method = method;
    request.target = target;
    request.body = body;
    return HttpFetch(admin_->address(), request);
  }

  EchoServer echo_;
  std::unique_ptr<WanEmulator> emulator_;
  std::unique_ptr<HttpServer> admin_;
};

// One 32-byte ping through `socket`; returns the round trip, or -1 if no echo came back in 2 s.
double PingMs(TestSocket& socket) {
  const std::string ping(32, 'p');
  const Clock::time_point start = Clock::now();
  if (!socket.Send(ping) || socket.Read(ping.size(), 2s) != ping) return -1;
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// The link's delay is a floor: no round trip through an 80 ms link comes back sooner (load can
// only add to it, so no upper bound is asserted). How close to 80 ms it comes is a measurement:
// wan_benchmark (README, "Measured").
TEST_F(WanTest, ALinkNeverDeliversSoonerThanItsRtt) {
  StartWan(MatrixToxics(/*rtt_ms=*/80, /*jitter_ms=*/0));
  TestSocket socket(ProxyPort());
  ASSERT_TRUE(socket.valid());
  for (int i = 0; i < 3; ++i) {
    const double rtt_ms = PingMs(socket);
    ASSERT_GE(rtt_ms, 0) << "no echo came back";
    EXPECT_GE(rtt_ms, 80.0);
  }
}

TEST_F(WanTest, JitterNeverReordersBytes) {
  std::vector<Toxic> jittery = MatrixToxics(/*rtt_ms=*/10, /*jitter_ms=*/10);
  StartWan(jittery);
  TestSocket socket(ProxyPort());
  ASSERT_TRUE(socket.valid());
  constexpr uint32_t kNumbers = 20'000;
  std::thread sender([&] {
    Random rng(7);
    for (uint32_t next = 0; next < kNumbers;) {
      std::string batch;
      for (uint64_t k = 1 + rng.Uniform(64); k > 0 && next < kNumbers; --k, ++next) {
        batch.append(reinterpret_cast<const char*>(&next), sizeof(next));
      }
      if (!socket.Send(batch)) return;
      std::this_thread::sleep_for(200us);  // many chunks, each with its own jitter draw
    }
  });
  const std::string echoed = socket.Read(kNumbers * sizeof(uint32_t), 20s);
  sender.join();
  ASSERT_EQ(echoed.size(), kNumbers * sizeof(uint32_t));
  for (uint32_t i = 0; i < kNumbers; ++i) {
    uint32_t value = 0;
    std::memcpy(&value, echoed.data() + i * sizeof(uint32_t), sizeof(value));
    ASSERT_EQ(value, i) << "byte stream reordered at number " << i;
  }
}

TEST_F(WanTest, DisableStallsTrafficAndEnableLetsNewConnectionsThrough) {
  StartWan({});
  TestSocket before(ProxyPort());
  ASSERT_GE(PingMs(before), 0);
  ASSERT_TRUE(Admin("POST", "/proxies/us->eu", R"({"enabled": false})").ok());
  // The cut: an open connection stops delivering, a new one is accepted but goes nowhere.
  ASSERT_TRUE(before.Send("lost"));
  EXPECT_EQ(before.Read(4, 300ms), "");
  EXPECT_FALSE(before.closed_by_peer());
  TestSocket during(ProxyPort());
  ASSERT_TRUE(during.valid());
  ASSERT_TRUE(during.Send("held"));
  EXPECT_EQ(during.Read(4, 300ms), "");
  // The heal: connections that saw the cut are reset, new ones work.
  Result<HttpResponse> healed = Admin("POST", "/proxies/us-%3Eeu", R"({"enabled": true})");
  ASSERT_TRUE(healed.ok());
  EXPECT_EQ(json::parse(healed->body)["enabled"], true);
  EXPECT_EQ(before.Read(4, 2s), "");
  EXPECT_TRUE(before.closed_by_peer());
  EXPECT_EQ(during.Read(4, 2s), "");
  EXPECT_TRUE(during.closed_by_peer());
  TestSocket after(ProxyPort());
  EXPECT_GE(PingMs(after), 0);
}

TEST_F(WanTest, AdminApiIsToxiproxyShaped) {
  StartWan(MatrixToxics(80, 10));
  Result<HttpResponse> list = Admin("GET", "/proxies");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->status, 200);
  EXPECT_EQ(list->content_type, "application/json");
  const json proxies = json::parse(list->body);
  const json& proxy = proxies.at("us->eu");
  EXPECT_EQ(proxy["name"], "us->eu");
  EXPECT_EQ(proxy["listen"], "127.0.0.1:" + std::to_string(ProxyPort()));
  EXPECT_EQ(proxy["upstream"], "127.0.0.1:" + std::to_string(echo_.port()));
  EXPECT_EQ(proxy["enabled"], true);
  ASSERT_EQ(proxy["toxics"].size(), 2u);
  EXPECT_EQ(proxy["toxics"][0]["name"], "matrix_downstream");
  EXPECT_EQ(proxy["toxics"][0]["type"], "latency");
  EXPECT_EQ(proxy["toxics"][0]["attributes"]["latency"], 40);
  EXPECT_EQ(proxy["toxics"][0]["attributes"]["jitter"], 5);

  const std::string toxic =
      R"({"name":"slow","type":"latency","stream":"upstream","attributes":{"latency":100}})";
  Result<HttpResponse> added = Admin("POST", "/proxies/us->eu/toxics", toxic);
  ASSERT_TRUE(added.ok());
  EXPECT_EQ(added->status, 200) << added->body;
  EXPECT_EQ(json::parse(added->body)["attributes"]["latency"], 100);
  Result<HttpResponse> updated =
      Admin("POST", "/proxies/us->eu/toxics/slow", R"({"attributes":{"jitter":3}})");
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(json::parse(updated->body)["attributes"]["jitter"], 3);
  EXPECT_EQ(json::parse(Admin("GET", "/proxies/us->eu/toxics")->body).size(), 3u);
  EXPECT_EQ(Admin("DELETE", "/proxies/us->eu/toxics/slow")->status, 204);
  EXPECT_EQ(json::parse(Admin("GET", "/version")->body)["version"], kWanVersion);

  ASSERT_EQ(Admin("POST", "/proxies/us->eu/toxics", toxic)->status, 200);
  ASSERT_EQ(Admin("POST", "/proxies/us->eu", R"({"enabled":false})")->status, 200);
  EXPECT_EQ(Admin("POST", "/reset")->status, 204);
  const json reset = json::parse(Admin("GET", "/proxies/us->eu")->body);
  EXPECT_EQ(reset["enabled"], true);
  EXPECT_EQ(reset["toxics"].size(), 2u);
}

TEST_F(WanTest, BadAdminInputGetsJsonErrors) {
  StartWan(MatrixToxics(80, 0));
  struct Case {
    const char* method;
    const char* target;
    const char* body;
    int status;
  };
  const Case cases[] = {
      {"GET", "/proxies/mars->eu", "", 404},
      {"POST", "/proxies/us->eu", "{not json", 400},
      {"POST", "/proxies/us->eu", R"({"enabled":"no"})", 400},
      {"POST", "/proxies/us->eu", R"({"upstream":"1.2.3.4:5"})", 400},
      {"POST", "/proxies/us->eu/toxics", R"({"type":"teleport"})", 400},
      {"POST", "/proxies/us->eu/toxics", R"({"type":"latency","attributes":{"latency":-5}})", 400},
      {"POST", "/proxies/us->eu/toxics", R"({"type":"latency","attributes":{"rate":5}})", 400},
      {"POST", "/proxies/us->eu/toxics", R"({"type":"latency","stream":"sideways"})", 400},
      {"POST", "/proxies/us->eu/toxics", R"({"type":"latency","toxicity":0.5})", 400},
      {"POST", "/proxies/us->eu/toxics", R"({"name":"matrix_upstream","type":"latency"})", 409},
      {"DELETE", "/proxies/us->eu/toxics/nope", "", 404},
      {"POST", "/proxies/mars->eu/toxics", R"({"type":"latency"})", 404},
      {"GET", "/nothing/here", "", 404},
      {"DELETE", "/proxies/us->eu", "", 405},
      {"POST", "/proxies", R"({"name":"x"})", 405},
      {"GET", "/proxies/us-%zzeu", "", 400},
  };
  for (const Case& c : cases) {
    Result<HttpResponse> response = Admin(c.method, c.target, c.body);
    ASSERT_TRUE(response.ok()) << c.target;
    EXPECT_EQ(response->status, c.status) << c.method << " " << c.target << " " << c.body;
    const json error = json::parse(response->body, nullptr, false);
    ASSERT_TRUE(error.is_object()) << response->body;
    EXPECT_EQ(error["status"], c.status);
    EXPECT_FALSE(error["error"].get<std::string>().empty());
  }
}

TEST_F(WanTest, TimeoutToxicStopsDataThenCloses) {
  StartWan({});
  TestSocket socket(ProxyPort());
  ASSERT_GE(PingMs(socket), 0);
  // Taken before the toxic exists: the emulator's 300 ms cannot have begun earlier (taken after
  // the POST returned, the bound failed by 30 us once, the toxic's clock having started first).
  const Clock::time_point start = Clock::now();
  ASSERT_EQ(Admin("POST", "/proxies/us->eu/toxics",
                  R"({"type":"timeout","stream":"upstream","attributes":{"timeout":300}})")
                ->status,
            200);
  ASSERT_TRUE(socket.Send("dropped"));
  EXPECT_EQ(socket.Read(7, 2s), "");
  EXPECT_TRUE(socket.closed_by_peer());  // within Read's bound of 2 s
  // Not before the timeout (a lower bound: load can only make it later).
  EXPECT_GE(Clock::now() - start, 300ms);
}

TEST_F(WanTest, BandwidthToxicLimitsRate) {
  StartWan({});
  ASSERT_EQ(Admin("POST", "/proxies/us->eu/toxics",
                  R"({"type":"bandwidth","stream":"downstream","attributes":{"rate":100}})")
                ->status,
            200);
  TestSocket socket(ProxyPort());
  const std::string payload(30'000, 'b');  // 300 ms at 100 KB/s
  const Clock::time_point start = Clock::now();
  ASSERT_TRUE(socket.Send(payload));
  EXPECT_EQ(socket.Read(payload.size(), 5s).size(), payload.size());
  // The rate is a ceiling: 30 000 bytes at 100 KB/s cannot arrive in less than 300 ms (minus the
  // first token bucket's worth); load can only make it later, so no upper bound is asserted.
  EXPECT_GE(Clock::now() - start, 250ms);
}

TEST(WanLayoutTest, CommittedConfigGivesMatrixBaselines) {
  Result<ClusterConfig> config = LoadClusterConfig(MERIDIAN_SOURCE_DIR "/deploy/local.yaml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  const std::vector<ProxySpec> specs = ProxySpecsFromConfig(*config);
  ASSERT_EQ(specs.size(), 12u);
  EXPECT_EQ(specs[0].name, "us->eu");
  EXPECT_EQ(specs[0].listen, "127.0.0.1:9001");
  EXPECT_EQ(specs[0].upstream, "127.0.0.1:7202");
  ASSERT_EQ(specs[0].baseline_toxics.size(), 2u);
  EXPECT_EQ(specs[0].baseline_toxics[0].latency_ms + specs[0].baseline_toxics[1].latency_ms, 80);
  EXPECT_EQ(specs[0].baseline_toxics[0].jitter_ms + specs[0].baseline_toxics[1].jitter_ms, 10);
  const std::vector<Toxic> odd = MatrixToxics(75, 7);
  EXPECT_EQ(odd[0].latency_ms + odd[1].latency_ms, 75);
  EXPECT_EQ(odd[0].jitter_ms + odd[1].jitter_ms, 7);
}

}  // namespace
}  // namespace meridian::wan

namespace meridian::wan {
namespace {

// Polls `done` every 10 ms until it holds or `timeout` passes (counters are bumped on the
// emulator's thread just after the bytes leave it).
bool Within(std::chrono::milliseconds timeout, const std::function<bool()>& done) {
  const Clock::time_point deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

bool Contains(const std::string& text, const std::string& line) {
  return text.find(line + "\n") != std::string::npos;
}

TEST_F(WanTest, MetricsCountForwardedAndTimeoutDroppedBytesPerDirection) {
  StartWan(MatrixToxics(/*rtt_ms=*/20, /*jitter_ms=*/4));
  TestSocket socket(ProxyPort());
  ASSERT_GE(PingMs(socket), 0);  // 32 bytes each way
  ASSERT_TRUE(Within(2s, [&] {
    const TrafficSnapshot t = emulator_->GetProxy("us->eu")->traffic;
    return t.bytes_forwarded[0] == 32 && t.bytes_forwarded[1] == 32;
  }));
  const TrafficSnapshot t = emulator_->GetProxy("us->eu")->traffic;
  EXPECT_GE(t.chunks_forwarded[0], 1u);
  EXPECT_EQ(t.bytes_dropped_timeout[0] + t.bytes_dropped_partition[0], 0u);

  ASSERT_EQ(Admin("POST", "/proxies/us->eu/toxics",
                  R"({"type":"timeout","stream":"upstream","attributes":{"timeout":0}})")
                ->status,
            200);
  ASSERT_TRUE(socket.Send("dropped"));
  ASSERT_TRUE(Within(
      2s, [&] { return emulator_->GetProxy("us->eu")->traffic.bytes_dropped_timeout[0] == 7; }));

  const std::string text = RenderWanMetrics(emulator_->ListProxies());
  for (
      const std::string line :
      {R"(meridian_wan_bytes_forwarded_total{link="us->eu",direction="upstream"} 32)",
       R"(meridian_wan_bytes_forwarded_total{link="us->eu",direction="downstream"} 32)",
       R"(meridian_wan_bytes_dropped_total{link="us->eu",direction="upstream",reason="timeout"} 7)",
       R"(meridian_wan_bytes_dropped_total{link="us->eu",direction="upstream",reason="partition"} 0)",
       R"(meridian_wan_delay_seconds{link="us->eu",direction="upstream"} 0.01)",
       R"(meridian_wan_jitter_seconds{link="us->eu",direction="downstream"} 0.002)",
       R"(meridian_wan_blackholed{link="us->eu",direction="upstream"} 1)",
       R"(meridian_wan_blackholed{link="us->eu",direction="downstream"} 0)",
       R"(meridian_wan_link_enabled{link="us->eu"} 1)", "meridian_wan_partitions_active 0"}) {
    EXPECT_TRUE(Contains(text, line)) << line << "\n" << text;
  }
}

TEST_F(WanTest, MetricsCountACutAndItsDroppedBytes) {
  StartWan({});
  TestSocket before(ProxyPort());
  ASSERT_GE(PingMs(before), 0);
  ASSERT_TRUE(Admin("POST", "/proxies/us->eu", R"({"enabled": false})").ok());
  ASSERT_TRUE(before.Send("lost"));
  ASSERT_TRUE(Within(
      2s, [&] { return emulator_->GetProxy("us->eu")->traffic.bytes_dropped_partition[0] == 4; }));
  const std::string text = RenderWanMetrics(emulator_->ListProxies());
  EXPECT_TRUE(Contains(text, "meridian_wan_partitions_active 1")) << text;
  EXPECT_TRUE(Contains(text, R"(meridian_wan_link_enabled{link="us->eu"} 0)")) << text;
  EXPECT_TRUE(Contains(
      text,
      R"(meridian_wan_bytes_dropped_total{link="us->eu",direction="upstream",reason="partition"} 4)"))
      << text;
}

TEST_F(WanTest, TheAdminApiServesTheMetrics) {
  StartWan(MatrixToxics(80, 10));
  Result<HttpResponse> metrics = Admin("GET", "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find("# TYPE meridian_wan_bytes_forwarded_total counter"),
            std::string::npos)
      << metrics->body;
  EXPECT_TRUE(Contains(metrics->body,
                       R"(meridian_wan_delay_seconds{link="us->eu",direction="upstream"} 0.04)"))
      << metrics->body;
  EXPECT_EQ(Admin("POST", "/metrics")->status, 405);
}

}  // namespace
}  // namespace meridian::wan
