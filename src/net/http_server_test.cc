#include "net/http_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <thread>

#include "net/http_client.h"
#include "net/testing/test_socket.h"

namespace meridian {
namespace {

using namespace std::chrono_literals;
using testing::TestSocket;

// Answers /echo with what it saw, /missing with 404; counts calls.
struct EchoHandler {
  std::atomic<int>* calls;
  void operator()(HttpRequest request, HttpResponder respond) const {
    calls->fetch_add(1);
    if (request.path != "/echo") return respond(HttpResponse::Json(404, R"({"error":"no route"})"));
    HttpResponse response = HttpResponse::Text(
        200, request.method + " " + request.path + " q=" + request.query["q"] +
                 " h=" + std::string(request.Header("x-test")) + " body=" + request.body);
    response.headers.emplace_back("X-Reply", "yes");
    respond(std::move(response));
  }
};

class HttpServerTest : public ::testing::Test {
 protected:
  void StartServer(HttpHandler handler, HttpServerOptions options = {}) {
    server_ = std::make_unique<HttpServer>("127.0.0.1:0", std::move(handler), options);
    Status started = server_->Start();
    ASSERT_TRUE(started.ok()) << started.ToString();
    ASSERT_NE(server_->port(), 0);
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }

  std::unique_ptr<HttpServer> server_;
  std::atomic<int> calls_{0};
};

TEST_F(HttpServerTest, RequestResponseRoundTrip) {
  StartServer(EchoHandler{&calls_});
  HttpClientRequest request;
  request.method = "POST";
  request.target = "/echo?q=a%20b";
  request.body = "payload";
  request.headers.emplace_back("X-Test", "42");
  Result<HttpResponse> response = HttpFetch(server_->address(), request);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "POST /echo q=a b h=42 body=payload");
  EXPECT_EQ(response->content_type, "text/plain; charset=utf-8");
  bool has_reply_header = false;
  for (const auto& [name, value] : response->headers) {
    has_reply_header |= name == "X-Reply";
  }
  EXPECT_TRUE(has_reply_header);
}

TEST_F(HttpServerTest, HandlerCanAnswer404) {
  StartServer(EchoHandler{&calls_});
  HttpClientRequest request;
  request.target = "/missing";
  Result<HttpResponse> response = HttpFetch(server_->address(), request);
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 404);
  EXPECT_EQ(response->content_type, "application/json");
}

TEST_F(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  StartServer(EchoHandler{&calls_});
  TestSocket socket(server_->port());
  ASSERT_TRUE(socket.valid());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(socket.Send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"));
    const std::string reply = socket.ReadHttpResponse(2s);
    EXPECT_EQ(reply.rfind("HTTP/1.1 200", 0), 0u) << reply;
  }
  EXPECT_EQ(calls_.load(), 3);
}

TEST_F(HttpServerTest, OversizedBodyGets413WithoutReachingHandler) {
  HttpServerOptions options;
  options.body_bytes_max = 1000;
  StartServer(EchoHandler{&calls_}, options);
  TestSocket socket(server_->port());
  ASSERT_TRUE(socket.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n"));
  ASSERT_TRUE(socket.Send(std::string(2000, 'x')));
  const std::string reply = socket.ReadAll(3s);
  EXPECT_EQ(reply.rfind("HTTP/1.1 413", 0), 0u) << reply;
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(HttpServerTest, GarbageGets400WithoutReachingHandler) {
  StartServer(EchoHandler{&calls_});
  for (std::string_view garbage : {std::string_view("\x01\x02\x03 / HTTP/1.1\r\n\r\n"),
                                   std::string_view("GET / HTTP/9.9.9\r\n\r\n"),
                                   std::string_view("GET /echo?q=%zz HTTP/1.1\r\n\r\n")}) {
    TestSocket socket(server_->port());
    ASSERT_TRUE(socket.Send(garbage));
    const std::string reply = socket.ReadAll(3s);
    EXPECT_EQ(reply.rfind("HTTP/1.1 400", 0), 0u) << reply;
    EXPECT_TRUE(socket.closed_by_peer());
  }
  EXPECT_EQ(calls_.load(), 0);
}

// The handler returns at once and a worker thread answers later: no I/O thread is held.
TEST_F(HttpServerTest, DelayedResponseFromAnotherThread) {
  std::mutex mu;
  std::vector<std::thread> workers;
  StartServer([&](HttpRequest, HttpResponder respond) {
    std::lock_guard<std::mutex> lock(mu);
    workers.emplace_back([respond] {
      std::this_thread::sleep_for(200ms);
      respond(HttpResponse::Text(200, "late"));
    });
  });
  // Two concurrent slow requests on a one-thread server finish in ~200 ms, not ~400 ms.
  const auto start = std::chrono::steady_clock::now();
  auto first = std::async(std::launch::async, [&] { return HttpFetch(server_->address(), {}); });
  Result<HttpResponse> second = HttpFetch(server_->address(), {});
  Result<HttpResponse> first_result = first.get();
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(second.ok() && first_result.ok());
  EXPECT_EQ(second->body, "late");
  EXPECT_EQ(first_result->body, "late");
  EXPECT_GE(elapsed, 200ms);
  EXPECT_LT(elapsed, 390ms);
  std::lock_guard<std::mutex> lock(mu);
  for (std::thread& worker : workers) {
    worker.join();
  }
}

TEST_F(HttpServerTest, DroppedResponderAnswers500) {
  StartServer([](HttpRequest, HttpResponder) {});
  Result<HttpResponse> response = HttpFetch(server_->address(), {});
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 500);
}

TEST_F(HttpServerTest, StopLetsInFlightRequestFinish) {
  std::promise<HttpResponder> held;
  StartServer([&](HttpRequest, HttpResponder respond) { held.set_value(std::move(respond)); });
  auto fetch = std::async(std::launch::async, [&] { return HttpFetch(server_->address(), {}); });
  HttpResponder respond = held.get_future().get();  // the request is now in flight
  std::thread answer([respond] {
    std::this_thread::sleep_for(300ms);
    respond(HttpResponse::Text(200, "finished"));
  });
  const auto start = std::chrono::steady_clock::now();
  server_->Stop();
  const auto stop_time = std::chrono::steady_clock::now() - start;
  answer.join();
  Result<HttpResponse> response = fetch.get();
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->body, "finished");
  EXPECT_GE(stop_time, 250ms);
  EXPECT_LT(stop_time, 1500ms);
}

TEST_F(HttpServerTest, StopIsBoundedWhenAResponseNeverComes) {
  HttpServerOptions options;
  options.stop_grace_ms = 200;
  std::promise<HttpResponder> held;
  StartServer([&](HttpRequest, HttpResponder respond) { held.set_value(std::move(respond)); },
              options);
  TestSocket idle(server_->port());  // an idle keep-alive connection must not hold Stop either
  auto fetch = std::async(std::launch::async, [&] { return HttpFetch(server_->address(), {}); });
  HttpResponder respond = held.get_future().get();
  const auto start = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1500ms);
  respond(HttpResponse::Text(200, "too late"));  // after Stop: ignored, no crash
  EXPECT_FALSE(fetch.get().ok());
}

TEST_F(HttpServerTest, PortInUseIsAClearError) {
  StartServer(EchoHandler{&calls_});
  HttpServer second("127.0.0.1:" + std::to_string(server_->port()), EchoHandler{&calls_});
  Status status = second.Start();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::kUnavailable);
  EXPECT_NE(status.message().find("in use"), std::string::npos) << status.ToString();
  HttpServer bad("not-an-address", EchoHandler{&calls_});
  EXPECT_EQ(bad.Start().code(), StatusCode::kInvalidArgument);
}

TEST(HttpFetchTest, NothingListeningIsUnavailable) {
  Result<HttpResponse> response = HttpFetch("127.0.0.1:1", {}, 2s);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace meridian
