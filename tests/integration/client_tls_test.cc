// Client TLS on real processes (docs/security.md, "Client TLS"): a cluster with
// `tls: {client: true}`, its router in front; real clients (python3-redis, redis-cli, curl) over
// TLS to a region and to the router, plaintext clients and clients trusting another CA refused,
// API keys still required, and the listeners unharmed afterwards. The checks are in
// client_tls.py, which names each one; this test starts and stops the processes.
#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "net/testing/test_socket.h"
#include "net/tls_context.h"
#include "tests/integration/cluster_harness.h"
#include "tls/cert_files.h"

namespace meridian::testing {
namespace {

using std::chrono::seconds;

TEST(ClientTlsTest, RealClientsOverTlsToARegionAndTheRouter) {
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/redis-cli")) << "redis-tools is not installed";
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/curl")) << "curl is not installed";
  ClusterHarness cluster({"us", "eu"}, "mesh", ClusterHarness::Links::kClientTls);
  ASSERT_TRUE(std::filesystem::exists(ListenerCertPath(cluster.certs_dir())));
  // StartAll and StartRouter wait on HTTPS readiness checks verified against the cluster CA, so
  // reaching the next line already says both listeners serve TLS with a certificate it trusts.
  Status started = cluster.StartAll();
  ASSERT_TRUE(started.ok()) << started.ToString();
  ASSERT_TRUE((started = cluster.StartWan()).ok()) << started.ToString();
  ASSERT_TRUE((started = cluster.StartRouter("us")).ok()) << started.ToString();

  // A CA the cluster never heard of, for the client that must fail to verify.
  const std::string rogue = cluster.dir() + "/rogue";
  ASSERT_TRUE(WriteClusterCertificates(rogue, {"us"}, {}).ok());

  const ClusterHarness::ScriptResult script = cluster.RunScript(
      MERIDIAN_SOURCE_DIR "/tests/integration/client_tls.py",
      {std::to_string(cluster.resp_port(0)), std::to_string(cluster.http_port(0)),
       std::to_string(cluster.router_resp_port()), std::to_string(cluster.router_port()),
       CaCertPath(cluster.certs_dir()), CaCertPath(rogue), cluster.client_key()},
      seconds(180));
  EXPECT_EQ(script.code, std::optional<int>(0)) << script.output << "\n--- region us ---\n"
                                                << cluster.ReadLog(0) << "\n--- router ---\n"
                                                << cluster.router_log();
  EXPECT_NE(script.output.find("all client TLS checks passed"), std::string::npos) << script.output;
  // The refused handshakes harmed nothing: both regions still report ok over HTTPS.
  for (size_t i = 0; i < cluster.regions().size(); ++i) {
    const Status ok = cluster.WaitForStatus(i, "ok", seconds(10));
    EXPECT_TRUE(ok.ok()) << ok.ToString();
  }
  std::cout << script.output;
}

// The harness's own HTTPS client (HttpFetch with tls_ca_file) also refuses a listener whose
// certificate it cannot verify, and plain HTTP gets nothing from a TLS listener.
TEST(ClientTlsTest, HttpFetchVerifiesTheListenerAndPlainHttpGetsNothing) {
  ClusterHarness cluster({"us", "eu"}, "mesh", ClusterHarness::Links::kClientTls);
  Status started = cluster.StartAll();
  ASSERT_TRUE(started.ok()) << started.ToString();
  const std::string rogue = cluster.dir() + "/rogue";
  ASSERT_TRUE(WriteClusterCertificates(rogue, {"us"}, {}).ok());

  HttpClientRequest request;
  request.target = "/healthz";
  request.tls_ca_file = CaCertPath(rogue);
  Result<HttpResponse> wrong_ca = HttpFetch(cluster.http_address(0), request, seconds(5));
  ASSERT_FALSE(wrong_ca.ok());
  EXPECT_NE(wrong_ca.status().message().find("TLS handshake"), std::string::npos)
      << wrong_ca.status().ToString();

  request.tls_ca_file.clear();
  Result<HttpResponse> plain = HttpFetch(cluster.http_address(0), request, seconds(5));
  EXPECT_FALSE(plain.ok()) << "a plaintext request got an answer: " << plain->status;

  Result<HttpResponse> fine = cluster.Call(0, "GET", "/healthz");
  ASSERT_TRUE(fine.ok()) << fine.status().ToString();
  EXPECT_EQ(fine->status, 200);
}

// The value of `series` in region `i`'s /metrics once it reaches `at_least`, waiting at most
// `patience` (a handshake the client gave up on is counted when the server reads its alert or
// its close, which may come after the client returned); -1 when absent, else the last value.
double MetricWhenAtLeast(ClusterHarness& cluster, size_t i, const std::string& series,
                         double at_least, std::chrono::milliseconds patience) {
  const auto deadline = std::chrono::steady_clock::now() + patience;
  double value = -1;
  for (;;) {
    Result<HttpResponse> metrics = cluster.Call(i, "GET", "/metrics");
    if (metrics.ok()) {
      const size_t at = metrics->body.find(series + " ");
      if (at != std::string::npos) value = std::stod(metrics->body.substr(at + series.size() + 1));
    }
    if (value >= at_least || std::chrono::steady_clock::now() >= deadline) return value;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the poll's pace, not a wait
  }
}

std::string Failures(const std::string& listener, const std::string& reason) {
  return "meridian_client_tls_handshake_failures_total{listener=\"" + listener + "\",reason=\"" +
         reason + "\"}";
}

// A TLS client trusting `ca` only: returns the handshake's error (none expected to succeed).
boost::system::error_code HandshakeTrusting(uint16_t port, const std::string& ca) {
  Result<TlsContextPtr> context = MakeClientTlsContext(ca);
  if (!context.ok()) return boost::asio::error::invalid_argument;
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::socket socket(ioc);
  boost::system::error_code ec;
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), port}, ec);
  if (ec) return ec;
  boost::asio::ssl::stream<boost::asio::ip::tcp::socket&> stream(socket, **context);
  stream.set_verify_mode(boost::asio::ssl::verify_peer);
  stream.handshake(boost::asio::ssl::stream_base::client, ec);
  return ec;
}

// Failed handshakes on both client listeners are closed and counted in /metrics by reason
// (net/tls_handshake_failure.h): a plaintext client ("not_tls"), a client that refuses the
// region's certificate ("cert_rejected"), and a connection that never starts its handshake
// ("timeout": HTTP within the request timeout, RESP by the sweep at the same bound). The
// region goes on serving.
TEST(ClientTlsTest, FailedHandshakesAreClosedAndCountedByReason) {
  ClusterHarness cluster({"us", "eu"}, "mesh", ClusterHarness::Links::kClientTls);
  cluster.set_region_flags({"--request-timeout-ms", "500"});
  Status started = cluster.StartAll();
  ASSERT_TRUE(started.ok()) << started.ToString();
  const auto patience = seconds(15);
  for (const char* listener : {"http", "resp"}) {
    for (const char* reason : {"timeout", "not_tls", "cert_rejected"}) {
      EXPECT_EQ(MetricWhenAtLeast(cluster, 0, Failures(listener, reason), 0, patience), 0)
          << listener << " " << reason;
    }
  }

  {  // Plaintext: answered nothing, closed, counted.
    TestSocket http(cluster.http_port(0));
    TestSocket resp(cluster.resp_port(0));
    ASSERT_TRUE(http.valid() && resp.valid());
    EXPECT_TRUE(http.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_TRUE(resp.Send("*1\r\n$4\r\nPING\r\n"));
    EXPECT_EQ(http.ReadAll(patience), "");
    EXPECT_EQ(resp.ReadAll(patience), "");
  }
  EXPECT_EQ(MetricWhenAtLeast(cluster, 0, Failures("http", "not_tls"), 1, patience), 1);
  EXPECT_EQ(MetricWhenAtLeast(cluster, 0, Failures("resp", "not_tls"), 1, patience), 1);

  // A client whose CA did not sign the region's certificate refuses it.
  const std::string rogue = cluster.dir() + "/rogue";
  ASSERT_TRUE(WriteClusterCertificates(rogue, {"us"}, {}).ok());
  EXPECT_TRUE(HandshakeTrusting(cluster.http_port(0), CaCertPath(rogue)).failed());
  EXPECT_TRUE(HandshakeTrusting(cluster.resp_port(0), CaCertPath(rogue)).failed());
  EXPECT_EQ(MetricWhenAtLeast(cluster, 0, Failures("http", "cert_rejected"), 1, patience), 1);
  EXPECT_EQ(MetricWhenAtLeast(cluster, 0, Failures("resp", "cert_rejected"), 1, patience), 1);
  // The cluster's own CA: a handshake that works counts nowhere.
  EXPECT_FALSE(HandshakeTrusting(cluster.http_port(0), CaCertPath(cluster.certs_dir())).failed());

  {  // Never started: closed by the region, counted as timeouts.
    TestSocket http(cluster.http_port(0));
    TestSocket resp(cluster.resp_port(0));
    ASSERT_TRUE(http.valid() && resp.valid());
    // Bounds far above the 500 ms (plus the sweep's period): only a server that never closes
    // reaches them.
    EXPECT_EQ(http.ReadAll(patience), "");
    EXPECT_TRUE(http.closed_by_peer());
    EXPECT_EQ(resp.ReadAll(patience), "");
    EXPECT_TRUE(resp.closed_by_peer());
  }
  EXPECT_EQ(MetricWhenAtLeast(cluster, 0, Failures("http", "timeout"), 1, patience), 1);
  EXPECT_EQ(MetricWhenAtLeast(cluster, 0, Failures("resp", "timeout"), 1, patience), 1);
  // Each failure counted once, under its own reason only.
  EXPECT_EQ(MetricWhenAtLeast(cluster, 0, Failures("http", "not_tls"), 1, patience), 1);
  EXPECT_EQ(MetricWhenAtLeast(cluster, 0, Failures("resp", "cert_rejected"), 1, patience), 1);
  EXPECT_EQ(MetricWhenAtLeast(cluster, 0, Failures("resp", "other"), 0, patience), 0);
  Result<HttpResponse> fine = cluster.Call(0, "GET", "/healthz");
  ASSERT_TRUE(fine.ok()) << fine.status().ToString();
  EXPECT_EQ(fine->status, 200);
}

}  // namespace
}  // namespace meridian::testing
