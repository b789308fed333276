#include "router/forward_policy.h"

#include <gtest/gtest.h>

#include "router/healthz.h"
#include "router/router_options.h"

namespace meridian::router {
namespace {

std::string HeaderOf(const HttpClientRequest& request, std::string_view name) {
  for (const auto& [field, value] : request.headers) {
    if (field == name) return value;
  }
  return "<absent>";
}

std::string HeaderOf(const HttpResponse& response, std::string_view name) {
  for (const auto& [field, value] : response.headers) {
    if (field == name) return value;
  }
  return "<absent>";
}

HttpRequest ClientRequest(std::string method, std::string target) {
  HttpRequest request;
  request.method = std::move(method);
  request.target = std::move(target);
  request.path = request.target.substr(0, request.target.find('?'));
  return request;
}

TEST(ForwardPolicyTest, OnlyGetAndHeadAreReads) {
  EXPECT_FALSE(IsWriteMethod("GET"));
  EXPECT_FALSE(IsWriteMethod("HEAD"));
  for (const char* method : {"PUT", "POST", "DELETE", "PATCH"}) {
    EXPECT_TRUE(IsWriteMethod(method)) << method;
  }
}

TEST(ForwardPolicyTest, JudgesAttempts) {
  EXPECT_EQ(JudgeAttempt(StatusCode::kOk, 200), AttemptVerdict::kDeliver);
  EXPECT_EQ(JudgeAttempt(StatusCode::kOk, 404), AttemptVerdict::kDeliver);
  EXPECT_EQ(JudgeAttempt(StatusCode::kOk, 409), AttemptVerdict::kDeliver);
  // A region's verdict on the request itself: another region would say the same.
  EXPECT_EQ(JudgeAttempt(StatusCode::kOk, 500), AttemptVerdict::kDeliver);
  EXPECT_EQ(JudgeAttempt(StatusCode::kOk, 501), AttemptVerdict::kDeliver);
  for (int status : {502, 503}) {
    EXPECT_EQ(JudgeAttempt(StatusCode::kOk, status), AttemptVerdict::kTryNext) << status;
  }
  // The region waited its full bound (rule 6): another would wait as long again.
  EXPECT_EQ(JudgeAttempt(StatusCode::kOk, 504), AttemptVerdict::kDeliver);
  EXPECT_EQ(JudgeAttempt(StatusCode::kUnavailable, 0), AttemptVerdict::kMarkDownAndTryNext);
  EXPECT_EQ(JudgeAttempt(StatusCode::kDeadlineExceeded, 0), AttemptVerdict::kMarkDownAndTryNext);
  EXPECT_EQ(JudgeAttempt(StatusCode::kResourceExhausted, 0), AttemptVerdict::kTryNext);
  EXPECT_EQ(JudgeAttempt(StatusCode::kInvalidArgument, 0), AttemptVerdict::kRefuse);
}

TEST(ForwardPolicyTest, IdempotencyKeyIs128BitsOfLowerCaseHex) {
  EXPECT_EQ(FormatIdempotencyKey(0, 1), "00000000000000000000000000000001");
  EXPECT_EQ(FormatIdempotencyKey(0xfedcba9876543210ULL, 0x0123456789abcdefULL),
            "fedcba98765432100123456789abcdef");
}

TEST(ForwardPolicyTest, WriteWithoutKeyGetsTheGeneratedOne) {
  HttpRequest request = ClientRequest("POST", "/counter/c/incr?by=2");
  request.headers["content-type"] = "application/json";
  const HttpClientRequest out = BuildUpstreamRequest(request, "k1");
  EXPECT_EQ(out.method, "POST");
  EXPECT_EQ(out.target, "/counter/c/incr?by=2");
  EXPECT_EQ(HeaderOf(out, "Idempotency-Key"), "k1");
}

TEST(ForwardPolicyTest, ClientKeyAndSessionTokenPassUntouched) {
  HttpRequest request = ClientRequest("PUT", "/profile/p");
  request.headers["idempotency-key"] = "client-key";
  request.headers["x-session-token"] = "token";
  request.body = R"({"name":"x"})";
  request.headers["content-type"] = "application/json";
  const HttpClientRequest out = BuildUpstreamRequest(request, "generated");
  EXPECT_EQ(HeaderOf(out, "idempotency-key"), "client-key");
  EXPECT_EQ(HeaderOf(out, "Idempotency-Key"), "<absent>");
  EXPECT_EQ(HeaderOf(out, "x-session-token"), "token");
  EXPECT_EQ(out.body, R"({"name":"x"})");
  EXPECT_EQ(out.content_type, "application/json");
}

TEST(ForwardPolicyTest, ReadsGetNoKey) {
  HttpRequest request = ClientRequest("GET", "/profile/p");
  request.headers["x-session-token"] = "token";
  const HttpClientRequest out = BuildUpstreamRequest(request, "generated");
  EXPECT_EQ(HeaderOf(out, "Idempotency-Key"), "<absent>");
  EXPECT_EQ(HeaderOf(out, "x-session-token"), "token");
}

TEST(ForwardPolicyTest, HopByHopAndRouterHeadersStayBehind) {
  HttpRequest request = ClientRequest("GET", "/tags/t");
  for (const char* name : {"connection", "keep-alive", "te", "transfer-encoding", "upgrade",
                           "content-length", "host", "x-client-region", "proxy-authorization"}) {
    request.headers[name] = "x";
  }
  request.headers["accept"] = "application/json";
  const HttpClientRequest out = BuildUpstreamRequest(request, "k");
  ASSERT_EQ(out.headers.size(), 1u);
  EXPECT_EQ(out.headers[0].first, "accept");
}

TEST(ForwardPolicyTest, ClientResponseNamesTheRegionAndDropsFraming) {
  HttpResponse upstream = HttpResponse::Json(201, R"({"ok":true})");
  upstream.headers = {{"Content-Type", "application/json"},
                      {"Content-Length", "11"},
                      {"Server", "meridian"},
                      {"Connection", "keep-alive"},
                      {"Retry-After", "1"},
                      {"X-Meridian-Region", "spoof"}};
  const HttpResponse out = BuildClientResponse(upstream, "eu");
  EXPECT_EQ(out.status, 201);
  EXPECT_EQ(out.body, R"({"ok":true})");
  EXPECT_EQ(out.content_type, "application/json");
  ASSERT_EQ(out.headers.size(), 2u);
  EXPECT_EQ(HeaderOf(out, "Retry-After"), "1");
  EXPECT_EQ(HeaderOf(out, "X-Meridian-Region"), "eu");
}

TEST(ForwardPolicyTest, RouterErrorsLookLikeRegionErrors) {
  const HttpResponse busy = RouterError(503, "unavailable", "no \"healthy\" region");
  EXPECT_EQ(busy.status, 503);
  EXPECT_EQ(busy.body, R"({"error":{"code":"unavailable","message":"no \"healthy\" region"}})");
  EXPECT_EQ(HeaderOf(busy, "Retry-After"), "1");
  EXPECT_EQ(HeaderOf(RouterError(400, "invalid_argument", "\xff"), "Retry-After"), "<absent>");
}

TEST(HealthzTest, ReadsTheStatusOfTheExpectedRegion) {
  const HttpResponse answer = HttpResponse::Json(
      200, R"({"region":"eu","status":"catching_up","version_vector":{},"peers":[]})");
  Result<std::string> status = ParseHealthz(answer, "eu");
  ASSERT_TRUE(status.ok()) << status.status().ToString();
  EXPECT_EQ(*status, "catching_up");
}

TEST(HealthzTest, RefusesWhatIsNotAHealthyAnswerOfThatRegion) {
  EXPECT_FALSE(
      ParseHealthz(HttpResponse::Json(200, R"({"region":"us","status":"ok"})"), "eu").ok());
  EXPECT_FALSE(
      ParseHealthz(HttpResponse::Json(503, R"({"region":"eu","status":"ok"})"), "eu").ok());
  EXPECT_FALSE(ParseHealthz(HttpResponse::Json(200, R"({"region":"eu"})"), "eu").ok());
  EXPECT_FALSE(ParseHealthz(HttpResponse::Json(200, R"({"region":"eu","status":1})"), "eu").ok());
  EXPECT_FALSE(ParseHealthz(HttpResponse::Json(200, "not json"), "eu").ok());
  EXPECT_FALSE(ParseHealthz(HttpResponse::Json(200, "[]"), "eu").ok());
}

TEST(RouterOptionsTest, ProbeTimeoutIsOneIntervalButNeverUnderTwiceTheRtt) {
  RouterOptions options;
  options.health_interval_ms = 500;
  EXPECT_EQ(ProbeTimeoutMs(options, 0), 500);
  EXPECT_EQ(ProbeTimeoutMs(options, 150), 500);
  EXPECT_EQ(ProbeTimeoutMs(options, 300), 2 * 300 + kProbeTimeoutSlackMs);
  options.probe_timeout_ms = 42;
  EXPECT_EQ(ProbeTimeoutMs(options, 300), 42);
}

TEST(RouterOptionsTest, TopologyDialsThroughTheClientProxies) {
  Result<ClusterConfig> config = ParseClusterConfig(R"(
regions:
  - {name: us, http: 127.0.0.1:7101, replication: 127.0.0.1:7201, data_dir: d/us}
  - {name: eu, http: 127.0.0.1:7102, replication: 127.0.0.1:7202, data_dir: d/eu}
links:
  - {between: [us, eu], rtt_ms: 80, jitter_ms: 10}
wan: {admin: 127.0.0.1:8474, base_port: 9000}
router: {http: 127.0.0.1:7000, health_interval_ms: 250}
)",
                                                    "test.yaml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  const RouterTopology topology = RouterTopologyFromConfig(*config).value();
  EXPECT_EQ(topology.region_names, (std::vector<std::string>{"us", "eu"}));
  EXPECT_EQ(topology.dial[0][0], "127.0.0.1:7101");
  EXPECT_EQ(topology.dial[0][1], ClientDialAddress(*config, 0, 1).ToString());
  EXPECT_EQ(topology.link_rtt_ms[1][0], 80);
  EXPECT_EQ(topology.link_rtt_ms[1][1], 0);
  const RouterOptions options = RouterOptionsFromConfig(*config, 1);
  EXPECT_EQ(options.http_address, "127.0.0.1:7000");
  EXPECT_EQ(options.health_interval_ms, 250);
  EXPECT_EQ(options.location, 1u);
}

}  // namespace
}  // namespace meridian::router
