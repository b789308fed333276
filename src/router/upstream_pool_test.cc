#include "router/upstream_pool.h"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>

#include <filesystem>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "net/endpoint.h"
#include "net/http_server.h"
#include "net/testing/test_socket.h"
#include "net/tls_context.h"
#include "tls/cert_files.h"

namespace meridian::router {
namespace {

using namespace std::chrono_literals;

// Far beyond what any exchange here needs; only a broken pool would reach it.
constexpr auto kPatience = 10s;

// An upstream that answers /ok at once, holds /hang until released, and records the remote
// address of every request.
class Upstream {
 public:
  explicit Upstream(HttpServerOptions options = {}) {
    options.stop_grace_ms = 100;
    server_ = std::make_unique<HttpServer>(
        "127.0.0.1:0",
        [this](HttpRequest request, HttpResponder respond) {
          std::lock_guard<std::mutex> lock(mu_);
          sources_.insert(request.remote_address);
          if (request.path == "/hang") {
            held_.push_back(std::move(respond));
            return;
          }
          respond(HttpResponse::Text(200, request.method + " " + request.target));
        },
        options);
    EXPECT_TRUE(server_->Start().ok());
  }
  ~Upstream() { server_->Stop(); }

  std::string address() const { return server_->address(); }
  uint16_t port() const { return server_->port(); }
  size_t sources() {
    std::lock_guard<std::mutex> lock(mu_);
    return sources_.size();
  }

 private:
  std::mutex mu_;
  std::set<std::string> sources_;
  std::vector<HttpResponder> held_;
  std::unique_ptr<HttpServer> server_;
};

class UpstreamPoolTest : public ::testing::Test {
 protected:
  UpstreamPoolTest() : work_(ioc_.get_executor()), thread_([this] { ioc_.run(); }) {}
  ~UpstreamPoolTest() override {
    if (pool_) pool_->Close();
    work_.reset();
    thread_.join();
  }

  void MakePool(const std::string& address, UpstreamPoolOptions options = {}) {
    Result<boost::asio::ip::tcp::endpoint> endpoint = ResolveEndpoint(address);
    ASSERT_TRUE(endpoint.ok());
    pool_ = std::make_shared<UpstreamPool>(ioc_, address, *endpoint, options);
  }

  std::future<Result<HttpResponse>> Send(const std::string& target,
                                         std::chrono::milliseconds timeout = kPatience) {
    auto promise = std::make_shared<std::promise<Result<HttpResponse>>>();
    HttpClientRequest request;
    request.target = target;
    pool_->Send(request, UpstreamClock::now() + timeout,
                [promise](Result<HttpResponse> result) { promise->set_value(std::move(result)); });
    return promise->get_future();
  }

  static Result<HttpResponse> Get(std::future<Result<HttpResponse>> future) {
    if (future.wait_for(kPatience) != std::future_status::ready) {
      return Internal("the pool never called back");
    }
    return future.get();
  }

  boost::asio::io_context ioc_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::thread thread_;
  std::shared_ptr<UpstreamPool> pool_;
};

TEST_F(UpstreamPoolTest, ReusesOneKeptAliveConnection) {
  Upstream upstream;
  MakePool(upstream.address());
  for (int i = 0; i < 4; ++i) {
    Result<HttpResponse> response = Get(Send("/ok?i=" + std::to_string(i)));
    ASSERT_TRUE(response.ok()) << response.status().ToString();
    EXPECT_EQ(response->body, "GET /ok?i=" + std::to_string(i));
  }
  EXPECT_EQ(upstream.sources(), 1u);
}

TEST_F(UpstreamPoolTest, AConnectionTheServerClosedWhileIdleIsReplacedTransparently) {
  HttpServerOptions options;
  options.idle_timeout_ms = 20;  // the upstream drops idle connections almost at once
  Upstream upstream(options);
  MakePool(upstream.address());
  ASSERT_TRUE(Get(Send("/ok")).ok());
  // The event, not a sleep: a connection opened after the pool's has been closed for idleness,
  // so the pool's older idle one has been too.
  testing::TestSocket later(upstream.port());
  ASSERT_TRUE(later.valid());
  later.ReadAll(kPatience);
  ASSERT_TRUE(later.closed_by_peer()) << "the upstream never closed an idle connection";
  Result<HttpResponse> response = Get(Send("/ok"));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
}

TEST_F(UpstreamPoolTest, RefusedConnectionIsUnavailable) {
  std::string address;
  {
    Upstream gone;
    address = gone.address();
  }
  MakePool(address);
  Result<HttpResponse> response = Get(Send("/ok"));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kUnavailable) << response.status().ToString();
}

TEST_F(UpstreamPoolTest, SilentUpstreamIsDeadlineExceeded) {
  Upstream upstream;
  MakePool(upstream.address());
  Result<HttpResponse> response = Get(Send("/hang", 100ms));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kDeadlineExceeded)
      << response.status().ToString();
}

TEST_F(UpstreamPoolTest, QueueIsBoundedAndAbortFailsEverythingInFlight) {
  Upstream upstream;
  UpstreamPoolOptions options;
  options.connections_max = 1;
  options.waiters_max = 1;
  MakePool(upstream.address(), options);
  auto running = Send("/hang");
  auto waiting = Send("/ok");
  Result<HttpResponse> refused = Get(Send("/ok"));  // neither a connection nor a queue slot
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kResourceExhausted);

  pool_->Abort("region marked down");
  for (auto* future : {&running, &waiting}) {
    Result<HttpResponse> aborted = Get(std::move(*future));
    ASSERT_FALSE(aborted.ok());
    EXPECT_EQ(aborted.status().code(), StatusCode::kUnavailable);
    EXPECT_EQ(aborted.status().message(), "region marked down");
  }
  // The pool still works after an abort.
  Result<HttpResponse> after = Get(Send("/ok"));
  ASSERT_TRUE(after.ok()) << after.status().ToString();
}

TEST_F(UpstreamPoolTest, WaiterGivesUpAtItsDeadline) {
  Upstream upstream;
  UpstreamPoolOptions options;
  options.connections_max = 1;
  MakePool(upstream.address(), options);
  auto running = Send("/hang");
  Result<HttpResponse> waited = Get(Send("/ok", 100ms));
  ASSERT_FALSE(waited.ok());
  EXPECT_EQ(waited.status().code(), StatusCode::kDeadlineExceeded);
}

TEST_F(UpstreamPoolTest, ClosedPoolRefuses) {
  Upstream upstream;
  MakePool(upstream.address());
  pool_->Close();
  Result<HttpResponse> response = Get(Send("/ok"));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kUnavailable);
}

// Contract 5: TLS towards an upstream, verified against the cluster CA. Two CAs, each with its
// listener certificate; the pool trusts the first.
class UpstreamPoolTlsTest : public UpstreamPoolTest {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() / ("pool_tls_" + std::to_string(::getpid())))
               .string();
    std::filesystem::remove_all(dir_);
    ASSERT_TRUE(WriteClusterCertificates(dir_ + "/ca", {"us"}, {}).ok());
    ASSERT_TRUE(WriteClusterCertificates(dir_ + "/rogue", {"us"}, {}).ok());
    Result<TlsContextPtr> client = MakeClientTlsContext(CaCertPath(dir_ + "/ca"));
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    options_.tls = *client;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  HttpServerOptions ServerOptions(const std::string& ca) const {
    HttpServerOptions options;
    Result<TlsContextPtr> tls =
        MakeServerTlsContext(ListenerCertPath(dir_ + "/" + ca), ListenerKeyPath(dir_ + "/" + ca));
    EXPECT_TRUE(tls.ok()) << tls.status().ToString();
    if (tls.ok()) options.tls = *tls;
    return options;
  }

  std::string dir_;
  UpstreamPoolOptions options_;
};

TEST_F(UpstreamPoolTlsTest, TalksTlsToAnUpstreamItsCaSignedAndReusesTheConnection) {
  Upstream upstream(ServerOptions("ca"));
  MakePool(upstream.address(), options_);
  for (int i = 0; i < 3; ++i) {
    Result<HttpResponse> response = Get(Send("/ok?i=" + std::to_string(i)));
    ASSERT_TRUE(response.ok()) << response.status().ToString();
    EXPECT_EQ(response->body, "GET /ok?i=" + std::to_string(i));
  }
  EXPECT_EQ(upstream.sources(), 1u);
}

TEST_F(UpstreamPoolTlsTest, RefusesAnUpstreamWhoseCertificateAnotherCaSigned) {
  Upstream upstream(ServerOptions("rogue"));
  MakePool(upstream.address(), options_);
  Result<HttpResponse> response = Get(Send("/ok"));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(response.status().message().find("TLS handshake"), std::string::npos)
      << response.status().ToString();
  EXPECT_EQ(upstream.sources(), 0u);  // no request reached it
}

TEST_F(UpstreamPoolTlsTest, RefusesAPlaintextUpstream) {
  Upstream upstream;
  MakePool(upstream.address(), options_);
  Result<HttpResponse> response = Get(Send("/ok"));
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(upstream.sources(), 0u);
}

}  // namespace
}  // namespace meridian::router
