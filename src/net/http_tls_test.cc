// HttpServer with TLS (http_server.h contract 7) and HttpFetch's HTTPS, in process: certificates
// from the cluster CA code (tls/cert_files.h), a second CA for the client that must not trust.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "net/http_client.h"
#include "net/http_server.h"
#include "net/testing/test_socket.h"
#include "net/tls_context.h"
#include "tls/cert_files.h"

namespace meridian {
namespace {

using namespace std::chrono_literals;

class HttpTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() / ("http_tls_" + std::to_string(::getpid())))
               .string();
    std::filesystem::remove_all(dir_);
    ASSERT_TRUE(WriteClusterCertificates(dir_ + "/ca", {"us"}, {}).ok());
    ASSERT_TRUE(WriteClusterCertificates(dir_ + "/rogue", {"us"}, {}).ok());
    Result<TlsContextPtr> tls =
        MakeServerTlsContext(ListenerCertPath(dir_ + "/ca"), ListenerKeyPath(dir_ + "/ca"));
    ASSERT_TRUE(tls.ok()) << tls.status().ToString();
    HttpServerOptions options;
    options.tls = *tls;
    options.request_timeout_ms = 2'000;
    server_ = std::make_unique<HttpServer>(
        "127.0.0.1:0",
        [](HttpRequest request, HttpResponder respond) {
          respond(HttpResponse::Text(200, request.method + " " + request.path + " " +
                                              std::string(request.Header("authorization"))));
        },
        options);
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override {
    if (server_) server_->Stop();
    std::filesystem::remove_all(dir_);
  }

  Result<HttpResponse> Fetch(const std::string& ca_file, const std::string& address = "") {
    HttpClientRequest request;
    request.target = "/hello";
    request.headers.emplace_back("Authorization", "Bearer k");
    request.tls_ca_file = ca_file;
    return HttpFetch(address.empty() ? server_->address() : address, request, 5s);
  }

  std::string dir_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpTlsTest, HttpsRoundTripsWithKeepAliveHeadersIntact) {
  Result<HttpResponse> response = Fetch(CaCertPath(dir_ + "/ca"));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "GET /hello Bearer k");
  // The certificate names localhost too.
  response = Fetch(CaCertPath(dir_ + "/ca"), "localhost:" + std::to_string(server_->port()));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(server_->tls_handshakes_failed(), 0u);
}

TEST_F(HttpTlsTest, AClientTrustingAnotherCaFailsAndTheServerCarriesOn) {
  Result<HttpResponse> response = Fetch(CaCertPath(dir_ + "/rogue"));
  ASSERT_FALSE(response.ok());
  EXPECT_NE(response.status().message().find("TLS handshake"), std::string::npos)
      << response.status().ToString();
  response = Fetch(CaCertPath(dir_ + "/ca"));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
}

TEST_F(HttpTlsTest, APlaintextClientGetsNoAnswerIsCountedAndTheServerCarriesOn) {
  testing::TestSocket plain(server_->port());
  plain.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string back = plain.ReadAll(5s);
  EXPECT_EQ(back.find("HTTP/1."), std::string::npos) << back;
  EXPECT_EQ(back.find("Bearer"), std::string::npos) << back;
  Result<HttpResponse> plain_fetch = Fetch("");
  EXPECT_FALSE(plain_fetch.ok());
  EXPECT_GE(server_->tls_handshakes_failed(), 2u);
  Result<HttpResponse> response = Fetch(CaCertPath(dir_ + "/ca"));
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  EXPECT_EQ(response->status, 200);
}

TEST_F(HttpTlsTest, AHandshakeNeverStartedIsClosedWithinTheRequestTimeout) {
  testing::TestSocket silent(server_->port());
  EXPECT_EQ(silent.ReadAll(10s), "");  // closed by the server, well before this bound
  EXPECT_TRUE(silent.closed_by_peer());
  // The timeout closes the socket first; the handshake's handler counts it just after.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (server_->tls_handshakes_failed() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(server_->tls_handshakes_failed(), 1u);
}

// Failures are counted by reason (net/tls_handshake_failure.h): plaintext, a client refusing the
// certificate, a handshake never started; each under its own reason only.
TEST_F(HttpTlsTest, FailedHandshakesAreCountedByReason) {
  const TlsHandshakeFailures& failures = server_->tls_handshake_failures();
  auto wait_for = [&](TlsHandshakeFailure reason, uint64_t at_least) {
    // The server counts when it reads the client's alert or close, maybe after the client
    // returned: polled, bounded.
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (failures.Get(reason) < at_least && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(10ms);
    }
    return failures.Get(reason);
  };
  auto counts = [&] {
    std::string out;
    for (size_t i = 0; i < kTlsHandshakeFailureCount; ++i) {
      const auto reason = static_cast<TlsHandshakeFailure>(i);
      out += std::string(TlsHandshakeFailureName(reason)) + "=" +
             std::to_string(failures.Get(reason)) + " ";
    }
    return out;
  };
  {
    testing::TestSocket plain(server_->port());
    plain.Send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(plain.ReadAll(5s).find("HTTP/1."), std::string::npos);
  }
  EXPECT_EQ(wait_for(TlsHandshakeFailure::kNotTls, 1), 1u) << counts();
  ASSERT_FALSE(Fetch(CaCertPath(dir_ + "/rogue")).ok());
  EXPECT_EQ(wait_for(TlsHandshakeFailure::kCertRejected, 1), 1u) << counts();
  {
    testing::TestSocket silent(server_->port());
    EXPECT_EQ(silent.ReadAll(10s), "");
  }
  EXPECT_EQ(wait_for(TlsHandshakeFailure::kTimeout, 1), 1u) << counts();
  EXPECT_EQ(failures.Total(), 3u) << counts();
  EXPECT_EQ(server_->tls_handshakes_failed(), 3u);
}

TEST(TlsContextTest, BadFilesAreRefusedNamingTheFile) {
  Result<TlsContextPtr> server = MakeServerTlsContext("/nonexistent.pem", "/nonexistent.key");
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.status().message().find("/nonexistent.pem"), std::string::npos);
  Result<TlsContextPtr> client = MakeClientTlsContext("/nonexistent-ca.pem");
  ASSERT_FALSE(client.ok());
  EXPECT_NE(client.status().message().find("/nonexistent-ca.pem"), std::string::npos);
}

}  // namespace
}  // namespace meridian
