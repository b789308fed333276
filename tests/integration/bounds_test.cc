// Bounds on what clients can make a region hold (docs/security.md "Bounds"), against real
// `meridian region` processes: past each limit the region refuses (503 with Retry-After, RESP
// errors) or pushes back, and it still answers a normal client afterwards. Every wait is bounded;
// nothing asserts a duration.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "api/session_token.h"
#include "clock/version_vector.h"
#include "net/testing/test_socket.h"
#include "tests/integration/cluster_harness.h"

namespace meridian::testing {
namespace {

using namespace std::chrono_literals;

constexpr auto kWait = 10s;

// Reads until `lines` CRLF-terminated lines arrived, the peer closed, or `timeout` passed.
std::string ReadLines(TestSocket& socket, size_t lines, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string out;
  size_t seen = 0;
  while (seen < lines) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    const std::string byte = socket.Read(1, left);
    if (byte.empty()) break;
    out += byte;
    if (out.ends_with("\r\n")) ++seen;
  }
  return out;
}

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
    ++n;
  return n;
}

// Region `region` answers a write and a read of it: what a normal client needs.
bool AnswersANormalClient(ClusterHarness& cluster, size_t region, const std::string& key) {
  return Eventually(
      [&] {
        Result<HttpResponse> put =
            cluster.Call(region, "PUT", "/register/" + key, R"({"value":"v"})");
        if (!put.ok() || put->status != 200) return false;
        Result<HttpResponse> get = cluster.Call(region, "GET", "/register/" + key);
        return get.ok() && get->status == 200;
      },
      kWait);
}

// The value of one series of region `region`'s /metrics (e.g.
// `meridian_requests_refused_total{listener="http",reason="inflight"}`); -1 when absent.
double MetricValue(ClusterHarness& cluster, size_t region, const std::string& series) {
  Result<HttpResponse> metrics = cluster.Call(region, "GET", "/metrics");
  if (!metrics.ok()) return -1;
  const size_t at = metrics->body.find(series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(metrics->body.substr(at + series.size() + 1));
}

class BoundsTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> flags) {
    cluster_.set_region_flags(std::move(flags));
    Status started = cluster_.StartAll();
    ASSERT_TRUE(started.ok()) << started.ToString() << "\n" << cluster_.ReadLog(0);
  }

  // The harness runs with API keys: raw connections name the client key like any client.
  std::string AuthHeader() const {
    return "Authorization: Bearer " + cluster_.client_key() + "\r\n";
  }
  void Authenticate(TestSocket& socket) {
    ASSERT_TRUE(socket.Send("AUTH " + cluster_.client_key() + "\r\n"));
    ASSERT_EQ(ReadLines(socket, 1, kWait), "+OK\r\n");
  }

  ClusterHarness cluster_{std::vector<std::string>{"us", "eu"}};
};

// Past --max-connections, HTTP and RESP connections are refused at once with the documented
// answers; the connections within the limit keep being served, and a slot a client frees serves
// a new one.
TEST_F(BoundsTest, ConnectionsPastTheLimitAreRefusedAndTheRegionStillAnswers) {
  Start({"--max-connections", "3"});
  std::vector<std::unique_ptr<TestSocket>> http;
  for (int i = 0; i < 3; ++i) {
    http.push_back(std::make_unique<TestSocket>(cluster_.http_port(0)));
    ASSERT_TRUE(http.back()->Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    const std::string reply = http.back()->ReadHttpResponse(kWait);
    ASSERT_EQ(reply.rfind("HTTP/1.1 200", 0), 0u) << reply;  // served: counted by the server
  }
  for (int i = 0; i < 5; ++i) {
    TestSocket extra(cluster_.http_port(0));
    ASSERT_TRUE(extra.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    const std::string reply = extra.ReadAll(kWait);
    EXPECT_EQ(reply.rfind("HTTP/1.1 503", 0), 0u) << reply;
    EXPECT_NE(reply.find("Retry-After: 1"), std::string::npos) << reply;
    EXPECT_NE(reply.find(R"({"error":{"code":"unavailable")"), std::string::npos) << reply;
    EXPECT_TRUE(extra.closed_by_peer());
  }
  std::vector<std::unique_ptr<TestSocket>> resp;
  for (int i = 0; i < 3; ++i) {
    resp.push_back(std::make_unique<TestSocket>(cluster_.resp_port(0)));
    ASSERT_TRUE(resp.back()->Send("PING\r\n"));
    ASSERT_EQ(ReadLines(*resp.back(), 1, kWait), "+PONG\r\n");
  }
  for (int i = 0; i < 5; ++i) {
    TestSocket extra(cluster_.resp_port(0));
    ASSERT_TRUE(extra.Send("PING\r\n"));
    EXPECT_EQ(extra.ReadAll(kWait), "-ERR max number of clients reached\r\n");
    EXPECT_TRUE(extra.closed_by_peer());
  }
  // A connection within the limit is served as before.
  ASSERT_TRUE(http[0]->Send("PUT /register/held HTTP/1.1\r\nHost: x\r\n" + AuthHeader() +
                            "Content-Length: 13\r\n\r\n{\"value\":\"v\"}"));
  EXPECT_EQ(http[0]->ReadHttpResponse(kWait).rfind("HTTP/1.1 200", 0), 0u);
  Authenticate(*resp[0]);
  ASSERT_TRUE(resp[0]->Send("SET held-resp v\r\n"));
  EXPECT_EQ(ReadLines(*resp[0], 1, kWait), "+OK\r\n");
  // The held clients leave; new ones are served.
  http.clear();
  resp.clear();
  EXPECT_TRUE(AnswersANormalClient(cluster_, 0, "after-connections"));
  bool resp_served = Eventually(
      [&] {
        TestSocket socket(cluster_.resp_port(0));
        return socket.Send("PING\r\n") && ReadLines(socket, 1, kWait) == "+PONG\r\n";
      },
      kWait);
  EXPECT_TRUE(resp_served);
  // At least the refusals above (a retry of the normal client may have met a slot not yet freed).
  EXPECT_GE(MetricValue(cluster_, 0,
                        R"(meridian_requests_refused_total{listener="http",reason="connections"})"),
            5);
  EXPECT_GE(MetricValue(cluster_, 0,
                        R"(meridian_requests_refused_total{listener="resp",reason="connections"})"),
            5);
}

// Past --max-inflight-requests, an HTTP request gets 503 with Retry-After and changes nothing;
// once the requests in flight are answered, the region serves normally.
TEST_F(BoundsTest, HttpRequestsPastTheInflightLimitGet503) {
  Start({"--max-inflight-requests", "1", "--session-wait-ms", "3000"});
  // A read whose session token names a write that never happens stays in flight for the
  // session wait, filling the region's one slot.
  VersionVector future;
  future.Set(1, 1'000'000);
  TestSocket waiting(cluster_.http_port(0));
  ASSERT_TRUE(waiting.Send("GET /register/x HTTP/1.1\r\nHost: x\r\n" + AuthHeader() +
                           "X-Session-Token: " + EncodeSessionToken(future) + "\r\n\r\n"));
  std::string refusal;
  const bool refused = Eventually(
      [&] {
        Result<HttpResponse> put = cluster_.Call(0, "PUT", "/register/refused", R"({"value":"v"})");
        if (!put.ok() || put->status != 503) return false;
        refusal = put->body;
        for (const auto& [name, value] : put->headers) {
          if (name == "Retry-After") return value == "1";
        }
        return false;
      },
      kWait);
  ASSERT_TRUE(refused);
  EXPECT_NE(refusal.find("requests in flight"), std::string::npos) << refusal;
  // The waiting read ends (504, its bound), and then the region answers a normal client.
  EXPECT_EQ(waiting.ReadHttpResponse(kWait).rfind("HTTP/1.1 504", 0), 0u);
  EXPECT_TRUE(AnswersANormalClient(cluster_, 0, "after-inflight"));
  EXPECT_GE(MetricValue(cluster_, 0,
                        R"(meridian_requests_refused_total{listener="http",reason="inflight"})"),
            1);
}

// A RESP pipeline longer than --max-inflight-requests, sent at once: the commands past the
// limit are answered with an error, every command is answered, in order, and the region then
// serves normally.
TEST_F(BoundsTest, RespCommandsPastTheInflightLimitAreRefused) {
  Start({"--max-inflight-requests", "8"});
  TestSocket socket(cluster_.resp_port(0));
  Authenticate(socket);
  std::string pipeline;
  constexpr size_t kCommands = 200;  // about 6 KB: one read, so the whole pipeline meets the limit
  for (size_t i = 0; i < kCommands; ++i)
    pipeline += "SET pipelined-" + std::to_string(i) + " v\r\n";
  ASSERT_TRUE(socket.Send(pipeline));
  const std::string replies = ReadLines(socket, kCommands, kWait);
  EXPECT_EQ(Count(replies, "\r\n"), kCommands) << replies;
  EXPECT_GE(Count(replies, "+OK\r\n"), 1u) << replies;
  EXPECT_GE(Count(replies, "-ERR region us already has its maximum of 8 requests in flight"), 1u)
      << replies;
  EXPECT_TRUE(AnswersANormalClient(cluster_, 0, "after-pipeline"));
  ASSERT_TRUE(socket.Send("SET after v\r\nGET after\r\n"));
  EXPECT_EQ(ReadLines(socket, 3, kWait), "+OK\r\n$1\r\nv\r\n");
  EXPECT_GE(MetricValue(cluster_, 0,
                        R"(meridian_requests_refused_total{listener="resp",reason="inflight"})"),
            1);
}

// --max-pipelined-commands is backpressure, not refusal: a connection pipelining far more than
// it lets into the region at once has every command served, none refused by the region's
// (larger) in-flight limit. With a per-connection bound above the region's, some would be.
TEST_F(BoundsTest, ALongRespPipelineIsReadOnlyAsFastAsItIsAnswered) {
  Start({"--max-pipelined-commands", "4", "--max-inflight-requests", "8"});
  TestSocket socket(cluster_.resp_port(0));
  Authenticate(socket);
  std::string pipeline;
  constexpr size_t kCommands = 2000;
  for (size_t i = 0; i < kCommands; ++i)
    pipeline += "SET backpressure-" + std::to_string(i) + " v\r\n";
  ASSERT_TRUE(socket.Send(pipeline));
  const std::string replies = ReadLines(socket, kCommands, 60s);
  EXPECT_EQ(Count(replies, "+OK\r\n"), kCommands) << replies.substr(0, 500);
}

// The command limit is per command: a steady pipeline for several times --request-timeout-ms,
// every send ending mid-command (so every read the region makes does too), is not a slow client.
// It was closed as one: the clock of "the incomplete command" started at the first partial tail
// and never restarted while later commands completed (redis-cli --pipe of 1 M SETs hit it).
TEST_F(BoundsTest, ASteadyPipelineEndingEachSendMidCommandIsNotASlowClient) {
  Start({"--request-timeout-ms", "300"});
  TestSocket socket(cluster_.resp_port(0));
  Authenticate(socket);
  const std::string ping = "*1\r\n$4\r\nPING\r\n";
  const size_t half = ping.size() / 2;
  size_t sent = 0;
  std::string replies;
  // Five times the limit; each pass's read both paces the sends and drains the replies.
  const auto until = std::chrono::steady_clock::now() + 1500ms;
  ASSERT_TRUE(socket.Send(ping.substr(0, half)));
  while (std::chrono::steady_clock::now() < until && !socket.closed_by_peer()) {
    ASSERT_TRUE(socket.Send(ping.substr(half) + ping + ping + ping + ping.substr(0, half)));
    sent += 4;
    replies += socket.Read(1 << 16, 20ms);
  }
  ASSERT_TRUE(socket.Send(ping.substr(half)));
  ++sent;
  replies += ReadLines(socket, sent - Count(replies, "+PONG\r\n"), kWait);
  EXPECT_FALSE(socket.closed_by_peer());
  EXPECT_EQ(Count(replies, "+PONG\r\n"), sent);
  EXPECT_EQ(
      MetricValue(cluster_, 0,
                  R"(meridian_connections_timed_out_total{listener="resp",reason="command"})"),
      0);
}

// Slow and idle RESP connections are closed: a command left incomplete past
// --request-timeout-ms, and a connection silent past --resp-idle-timeout-ms.
TEST_F(BoundsTest, SlowAndIdleRespConnectionsAreClosed) {
  Start({"--request-timeout-ms", "300", "--resp-idle-timeout-ms", "500"});
  TestSocket slow(cluster_.resp_port(0));
  ASSERT_TRUE(slow.Send("*1\r\n$4\r\nPI"));  // never finished
  EXPECT_EQ(slow.ReadAll(kWait), "");
  EXPECT_TRUE(slow.closed_by_peer());

  TestSocket idle(cluster_.resp_port(0));
  ASSERT_TRUE(idle.Send("PING\r\n"));
  EXPECT_EQ(ReadLines(idle, 1, kWait), "+PONG\r\n");
  EXPECT_EQ(idle.ReadAll(kWait), "");
  EXPECT_TRUE(idle.closed_by_peer());

  EXPECT_GE(
      MetricValue(cluster_, 0,
                  R"(meridian_connections_timed_out_total{listener="resp",reason="command"})"),
      1);
  EXPECT_GE(MetricValue(cluster_, 0,
                        R"(meridian_connections_timed_out_total{listener="resp",reason="idle"})"),
            1);
  // A client that keeps talking is served.
  TestSocket busy(cluster_.resp_port(0));
  Authenticate(busy);
  ASSERT_TRUE(busy.Send("SET k v\r\nGET k\r\n"));
  EXPECT_EQ(ReadLines(busy, 3, kWait), "+OK\r\n$1\r\nv\r\n");
}

}  // namespace
}  // namespace meridian::testing
