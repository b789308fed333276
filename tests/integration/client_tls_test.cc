// Client TLS on real processes (docs/security.md, "Client TLS"): a cluster with
// `tls: {client: true}`, its router in front; real clients (python3-redis, redis-cli, curl) over
// TLS to a region and to the router, plaintext clients and clients trusting another CA refused,
// API keys still required, and the listeners unharmed afterwards. The checks are in
// client_tls.py, which names each one; this test starts and stops the processes.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "net/testing/test_socket.h"
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

  const std::string log = cluster.dir() + "/client_tls.log";
  ChildProcess script;
  ASSERT_TRUE(
      script
          .Start({"/usr/bin/python3", MERIDIAN_SOURCE_DIR "/tests/integration/client_tls.py",
                  std::to_string(cluster.resp_port(0)), std::to_string(cluster.http_port(0)),
                  std::to_string(cluster.router_resp_port()), std::to_string(cluster.router_port()),
                  CaCertPath(cluster.certs_dir()), CaCertPath(rogue), cluster.client_key()},
                 log)
          .ok());
  const std::optional<int> code = script.Wait(seconds(180));
  std::stringstream output;
  output << std::ifstream(log).rdbuf();
  EXPECT_EQ(code, std::optional<int>(0)) << output.str() << "\n--- region us ---\n"
                                         << cluster.ReadLog(0) << "\n--- router ---\n"
                                         << cluster.router_log();
  EXPECT_NE(output.str().find("all client TLS checks passed"), std::string::npos) << output.str();
  // The refused handshakes harmed nothing: both regions still report ok over HTTPS.
  for (size_t i = 0; i < cluster.regions().size(); ++i) {
    const Status ok = cluster.WaitForStatus(i, "ok", seconds(10));
    EXPECT_TRUE(ok.ok()) << ok.ToString();
  }
  std::cout << output.str();
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

// A connection that never starts its TLS handshake is closed by the region on both listeners
// (HTTP: within the request timeout; RESP: by the sweep, at the same bound), and the region goes
// on serving.
TEST(ClientTlsTest, HandshakesNeverStartedAreClosedByTheRegion) {
  ClusterHarness cluster({"us", "eu"}, "mesh", ClusterHarness::Links::kClientTls);
  cluster.set_region_flags({"--request-timeout-ms", "500"});
  Status started = cluster.StartAll();
  ASSERT_TRUE(started.ok()) << started.ToString();
  TestSocket http(cluster.http_port(0));
  TestSocket resp(cluster.resp_port(0));
  ASSERT_TRUE(http.valid() && resp.valid());
  // Bounds far above the 500 ms (plus the sweep's period): only a server that never closes
  // reaches them.
  EXPECT_EQ(http.ReadAll(seconds(15)), "");
  EXPECT_TRUE(http.closed_by_peer());
  EXPECT_EQ(resp.ReadAll(seconds(15)), "");
  EXPECT_TRUE(resp.closed_by_peer());
  Result<HttpResponse> fine = cluster.Call(0, "GET", "/healthz");
  ASSERT_TRUE(fine.ok()) << fine.status().ToString();
  EXPECT_EQ(fine->status, 200);
}

}  // namespace
}  // namespace meridian::testing
