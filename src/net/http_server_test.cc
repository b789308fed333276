#include "net/http_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

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

// The handler returns at once and a worker thread answers later: no I/O thread is held. On a
// one-thread server the second request reaches the handler while the first is still unanswered,
// which could not happen if the first held the thread; both are answered later from a worker.
TEST_F(HttpServerTest, DelayedResponseFromAnotherThread) {
  std::mutex mu;
  std::condition_variable arrived;
  std::vector<HttpResponder> pending;
  StartServer([&](HttpRequest, HttpResponder respond) {
    std::lock_guard<std::mutex> lock(mu);
    pending.push_back(std::move(respond));
    arrived.notify_all();
  });
  auto first = std::async(std::launch::async, [&] { return HttpFetch(server_->address(), {}); });
  auto second = std::async(std::launch::async, [&] { return HttpFetch(server_->address(), {}); });
  std::vector<HttpResponder> both;
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(arrived.wait_for(lock, 10s, [&] { return pending.size() == 2; }))
        << "the second request never reached the handler while the first was unanswered";
    both.swap(pending);
  }
  std::thread worker([both] {
    for (const HttpResponder& respond : both)
      respond(HttpResponse::Text(200, "late"));
  });
  worker.join();
  Result<HttpResponse> first_result = first.get();
  Result<HttpResponse> second_result = second.get();
  ASSERT_TRUE(first_result.ok()) << first_result.status().ToString();
  ASSERT_TRUE(second_result.ok()) << second_result.status().ToString();
  EXPECT_EQ(first_result->body, "late");
  EXPECT_EQ(second_result->body, "late");
}

TEST_F(HttpServerTest, DroppedResponderAnswers500) {
  StartServer([](HttpRequest, HttpResponder) {});
  Result<HttpResponse> response = HttpFetch(server_->address(), {});
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 500);
  EXPECT_EQ(response->content_type, "application/json");
}

// Stop() waits for the in-flight request: it returns only after the answer, which the client gets.
TEST_F(HttpServerTest, StopLetsInFlightRequestFinish) {
  HttpServerOptions options;
  options.stop_grace_ms = 60'000;  // far longer than the test: only the answer may end the wait
  std::promise<HttpResponder> held;
  StartServer([&](HttpRequest, HttpResponder respond) { held.set_value(std::move(respond)); },
              options);
  auto fetch = std::async(std::launch::async, [&] { return HttpFetch(server_->address(), {}); });
  HttpResponder respond = held.get_future().get();  // the request is now in flight
  std::promise<void> stopping;
  std::atomic<bool> answered{false};
  std::thread answer([respond, &answered, stopping_now = stopping.get_future()]() mutable {
    stopping_now.wait();
    answered = true;
    respond(HttpResponse::Text(200, "finished"));
  });
  stopping.set_value();
  server_->Stop();
  EXPECT_TRUE(answered.load()) << "Stop returned before the in-flight request was answered";
  answer.join();
  Result<HttpResponse> response = fetch.get();
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->body, "finished");
}

// A response that never comes does not hold Stop() past its grace, nor does an idle connection:
// Stop() returns (bounded wait for that event), and the late responder is ignored.
TEST_F(HttpServerTest, StopIsBoundedWhenAResponseNeverComes) {
  HttpServerOptions options;
  options.stop_grace_ms = 200;
  std::promise<HttpResponder> held;
  StartServer([&](HttpRequest, HttpResponder respond) { held.set_value(std::move(respond)); },
              options);
  TestSocket idle(server_->port());  // an idle keep-alive connection must not hold Stop either
  auto fetch = std::async(std::launch::async, [&] { return HttpFetch(server_->address(), {}); });
  HttpResponder respond = held.get_future().get();
  auto stopped = std::async(std::launch::async, [&] { server_->Stop(); });
  ASSERT_EQ(stopped.wait_for(30s), std::future_status::ready) << "Stop() never returned";
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

// --- Issue 19, item 7: the transport's own answers -----------------------------------------------

// The status line and the body of a raw response; the body must be a JSON error naming `needle`.
void ExpectJsonError(const std::string& reply, int status, std::string_view needle) {
  EXPECT_EQ(reply.rfind("HTTP/1.1 " + std::to_string(status), 0), 0u) << reply;
  EXPECT_NE(reply.find("Content-Type: application/json"), std::string::npos) << reply;
  const size_t body = reply.find("\r\n\r\n");
  ASSERT_NE(body, std::string::npos) << reply;
  EXPECT_EQ(reply.compare(body + 4, 18, R"({"error":{"code":")"), 0) << reply;
  EXPECT_NE(reply.find(needle, body), std::string::npos) << reply;
}

TEST_F(HttpServerTest, TransportErrorsAreJsonLikeEveryOtherError) {
  HttpServerOptions options;
  options.body_bytes_max = 1000;
  options.header_bytes_max = 2000;
  StartServer(EchoHandler{&calls_}, options);
  struct Case {
    std::string request;
    int status;
    std::string needle;
  };
  const Case cases[] = {
      {"\x01\x02 / HTTP/1.1\r\n\r\n", 400, "malformed request"},
      {"GET /echo?q=%zz HTTP/1.1\r\nHost: x\r\n\r\n", 400, "query"},
      {"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n", 413,
       "larger than 1000 bytes"},
      {"GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(3000, 'b') + "\r\n\r\n", 431,
       "header"},
  };
  for (const Case& c : cases) {
    TestSocket socket(server_->port());
    ASSERT_TRUE(socket.Send(c.request));
    ExpectJsonError(socket.ReadAll(5s), c.status, c.needle);
  }
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(HttpServerTest, ABodyShorterThanItsContentLengthGets408) {
  HttpServerOptions options;
  options.request_timeout_ms = 100;  // short, so the test is fast; nothing asserts the time
  StartServer(EchoHandler{&calls_}, options);
  TestSocket socket(server_->port());
  ASSERT_TRUE(socket.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"));
  ASSERT_TRUE(socket.Send(std::string(10, 'x')));
  ExpectJsonError(socket.ReadAll(10s), 408, "100");
  EXPECT_TRUE(socket.closed_by_peer());
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(HttpServerTest, AConnectionThatNeverSendsIsClosedWithoutAnAnswer) {
  HttpServerOptions options;
  options.idle_timeout_ms = 100;
  StartServer(EchoHandler{&calls_}, options);
  TestSocket socket(server_->port());
  EXPECT_EQ(socket.ReadAll(10s), "");
  EXPECT_TRUE(socket.closed_by_peer());
}

TEST_F(HttpServerTest, ARequestSentSlowlyWithinTheBoundIsServed) {
  // The bound is on the whole request, not on each read: pieces arriving apart still make one.
  StartServer(EchoHandler{&calls_});
  TestSocket socket(server_->port());
  ASSERT_TRUE(socket.Send("POST /echo HTTP/1.1\r\nHo"));
  ASSERT_TRUE(socket.Send("st: x\r\nContent-Length: 4\r\n\r\nab"));
  ASSERT_TRUE(socket.Send("cd"));
  const std::string reply = socket.ReadHttpResponse(5s);
  EXPECT_EQ(reply.rfind("HTTP/1.1 200", 0), 0u) << reply;
  EXPECT_NE(reply.find("body=abcd"), std::string::npos) << reply;
}

TEST_F(HttpServerTest, TransferCodingsOtherThanChunkedAreRefused) {
  StartServer(EchoHandler{&calls_});
  const std::string chunked_body = "5\r\nhello\r\n0\r\n\r\n";
  for (std::string_view field : {"Transfer-Encoding: gzip, chunked", "Transfer-Encoding: gzip",
                                 "TE: gzip, chunked", "TE: deflate"}) {
    TestSocket socket(server_->port());
    const bool has_body = field.starts_with("Transfer-Encoding: gzip, ");
    ASSERT_TRUE(socket.Send("POST /echo HTTP/1.1\r\nHost: x\r\n" + std::string(field) + "\r\n" +
                            (field.starts_with("TE") ? "Content-Length: 0\r\n" : "") + "\r\n" +
                            (has_body ? chunked_body : "")));
    const std::string reply = socket.ReadAll(5s);
    if (field == "Transfer-Encoding: gzip") {
      // Not chunked last: the body's length is unknowable (RFC 9112 6.3), so 400.
      ExpectJsonError(reply, 400, "Transfer-Encoding");
    } else {
      ExpectJsonError(reply, 501,
                      field.find("deflate") != std::string_view::npos ? "deflate" : "gzip");
    }
  }
  EXPECT_EQ(calls_.load(), 0);
  // Plain chunked, and TE: trailers (which asks for nothing we would have to do), are served.
  TestSocket socket(server_->port());
  ASSERT_TRUE(
      socket.Send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                  "TE: trailers\r\n\r\n" +
                  chunked_body));
  const std::string reply = socket.ReadHttpResponse(5s);
  EXPECT_EQ(reply.rfind("HTTP/1.1 200", 0), 0u) << reply;
  EXPECT_NE(reply.find("body=hello"), std::string::npos) << reply;
}

TEST_F(HttpServerTest, ARepeatedQueryParameterIsRefusedNamingIt) {
  StartServer(EchoHandler{&calls_});
  TestSocket socket(server_->port());
  ASSERT_TRUE(socket.Send("GET /echo?by=1&q=x&by=2 HTTP/1.1\r\nHost: x\r\n\r\n"));
  ExpectJsonError(socket.ReadAll(5s), 400, "'by'");
  EXPECT_EQ(calls_.load(), 0);
}

TEST_F(HttpServerTest, HeadAnswersAsGetWithoutTheBody) {
  StartServer(EchoHandler{&calls_});
  TestSocket socket(server_->port());
  ASSERT_TRUE(socket.Send("GET /echo?q=1 HTTP/1.1\r\nHost: x\r\n\r\n"));
  const std::string get = socket.ReadHttpResponse(5s);
  ASSERT_TRUE(socket.Send("HEAD /echo?q=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  const std::string head = socket.ReadAll(5s);
  EXPECT_EQ(head.rfind("HTTP/1.1 200", 0), 0u) << head;
  const size_t header_end = get.find("\r\n\r\n");
  ASSERT_NE(header_end, std::string::npos);
  const std::string get_body = get.substr(header_end + 4);
  EXPECT_EQ(get_body, "GET /echo q=1 h= body=");  // the handler sees a GET
  // Same header fields (Content-Length of the GET's body included), and nothing after them.
  EXPECT_NE(head.find("Content-Length: " + std::to_string(get_body.size()) + "\r\n"),
            std::string::npos)
      << head;
  EXPECT_NE(head.find("X-Reply: yes\r\n"), std::string::npos) << head;
  EXPECT_EQ(head.find("\r\n\r\n"), head.size() - 4) << head;
  EXPECT_EQ(calls_.load(), 2);
}

// Contract 6: past max_connections a new connection gets 503 with Retry-After at once; the
// connections already served keep being served, and a freed slot serves a new client.
TEST_F(HttpServerTest, ConnectionsPastTheLimitGet503AndTheServerStillAnswers) {
  HttpServerOptions options;
  options.max_connections = 2;
  StartServer(EchoHandler{&calls_}, options);
  // Each served once, so both are registered before the third connects.
  std::vector<std::unique_ptr<TestSocket>> held;
  for (int i = 0; i < 2; ++i) {
    held.push_back(std::make_unique<TestSocket>(server_->port()));
    ASSERT_TRUE(held.back()->Send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"));
    const std::string reply = held.back()->ReadHttpResponse(5s);
    ASSERT_EQ(reply.rfind("HTTP/1.1 200", 0), 0u) << reply;
  }
  for (int i = 0; i < 3; ++i) {
    TestSocket extra(server_->port());
    ASSERT_TRUE(extra.Send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"));
    const std::string reply = extra.ReadAll(10s);
    ExpectJsonError(reply, 503, "maximum of 2 connections");
    EXPECT_NE(reply.find("Retry-After: 1"), std::string::npos) << reply;
    EXPECT_TRUE(extra.closed_by_peer());
  }
  EXPECT_EQ(server_->connections_refused(), 3u);
  EXPECT_EQ(calls_.load(), 2);  // the refused requests never reached the handler
  // The connections within the limit are still served.
  ASSERT_TRUE(held[1]->Send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(held[1]->ReadHttpResponse(5s).rfind("HTTP/1.1 200", 0), 0u);
  // A slot freed by a client that left serves a new client (the server sees the close
  // asynchronously: retry, bounded).
  held[0]->Close();
  HttpClientRequest request;
  request.target = "/echo";
  bool served = false;
  const auto deadline = std::chrono::steady_clock::now() + 30s;  // a hang bound, not a timing
  while (!served && std::chrono::steady_clock::now() < deadline) {
    Result<HttpResponse> response = HttpFetch(server_->address(), request);
    served = response.ok() && response->status == 200;
    if (!served) std::this_thread::sleep_for(50ms);  // the poll's pace
  }
  EXPECT_TRUE(served) << "the freed slot never served a new client";
}

// Slowloris: a header block trickled a byte at a time does not hold the connection past
// request_timeout_ms: it gets 408 and is closed.
TEST_F(HttpServerTest, AHeaderTrickledSlowerThanTheRequestTimeoutGets408) {
  HttpServerOptions options;
  options.request_timeout_ms = 200;  // short, so the test is fast; nothing asserts the time
  StartServer(EchoHandler{&calls_}, options);
  TestSocket socket(server_->port());
  const std::string header = "GET /echo HTTP/1.1\r\nHost: x\r\nX-Slow: " + std::string(400, 'a');
  std::string reply;
  // Never ends the header block; stops once the server answers (bounded by the header's size).
  for (char c : header) {
    if (!socket.Send(std::string_view(&c, 1))) break;
    reply += socket.Read(SIZE_MAX, 20ms);
    if (!reply.empty() || socket.closed_by_peer()) break;
  }
  reply += socket.ReadAll(10s);
  ExpectJsonError(reply, 408, "within 200 ms");
  EXPECT_TRUE(socket.closed_by_peer());
  EXPECT_EQ(calls_.load(), 0);
}

TEST(HttpFetchTest, NothingListeningIsUnavailable) {
  Result<HttpResponse> response = HttpFetch("127.0.0.1:1", {}, 2s);
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace meridian
