// Mutual TLS between `meridian region` processes (docs/security.md): what crosses the WAN
// emulator during a write does not contain the value written (and, as the control, does with
// plaintext links); a region process presenting a certificate of another CA, or another
// region's certificate, is refused (counted in meridian_peer_auth_refused_total) while the
// other regions keep replicating.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include "tests/integration/cluster_harness.h"
#include "tls/cert_files.h"

namespace meridian::testing {
namespace {

using std::chrono::seconds;

constexpr std::string_view kSecret = "known-value-7d3e91b2";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

bool Put(ClusterHarness& c, size_t region, const std::string& key, std::string_view value) {
  auto r = c.Call(region, "PUT", "/profile/" + key, "{\"v\":\"" + std::string(value) + "\"}");
  return r.ok() && r->status == 200;
}

// True once region `i` serves `key` with `value` (bounded).
bool Replicated(ClusterHarness& c, size_t i, const std::string& key, std::string_view value) {
  return Eventually(
      [&] {
        auto r = c.Call(i, "GET", "/profile/" + key);
        return r.ok() && r->status == 200 && r->body.find(value) != std::string::npos;
      },
      seconds(20));
}

// A write in us, replicated to eu through the WAN emulator, which records every byte it carries.
std::string CaptureOfAReplicatedWrite(ClusterHarness::Links links) {
  ClusterHarness cluster({"us", "eu"}, "mesh", links);
  const std::string capture = cluster.dir() + "/wan-capture.bin";
  cluster.set_direct_replication(false);
  cluster.set_wan_flags({"--TEST-capture", capture});
  Status started = cluster.StartWan();
  EXPECT_TRUE(started.ok()) << started.ToString();
  started = cluster.StartAll();
  EXPECT_TRUE(started.ok()) << started.ToString();
  EXPECT_TRUE(Put(cluster, 0, "alice", kSecret));
  EXPECT_TRUE(Replicated(cluster, 1, "alice", kSecret));
  return ReadAll(capture);
}

TEST(TlsClusterTest, WanCaptureOfAWriteDoesNotContainTheValue) {
  const std::string wire = CaptureOfAReplicatedWrite(ClusterHarness::Links::kTls);
  ASSERT_GT(wire.size(), 1000u) << "the emulator carried the replication traffic";
  EXPECT_EQ(wire.find(kSecret), std::string::npos);
}

// The control: the same capture with plaintext links does show the value.
TEST(TlsClusterTest, PlaintextControlCaptureContainsTheValue) {
  const std::string wire = CaptureOfAReplicatedWrite(ClusterHarness::Links::kPlaintext);
  EXPECT_NE(wire.find(kSecret), std::string::npos);
}

double MetricValue(ClusterHarness& c, size_t region, const std::string& series) {
  auto r = c.Call(region, "GET", "/metrics");
  if (!r.ok() || r->status != 200) return -1;
  const size_t at = r->body.find(series + " ");
  if (at == std::string::npos) return 0;
  return std::stod(r->body.substr(at + series.size() + 1));
}

// ap's certificate and key are replaced with those at impostor(certs dir, scratch dir) + ".pem"
// and ".key"; us and eu are genuine. counted_reason: what us must count in its /metrics
// ("" to check nothing there).
void ExpectImpostorRefused(
    const std::function<std::string(const std::string&, const std::string&)>& impostor,
    const std::string& counted_reason) {
  ClusterHarness cluster;  // us, eu, ap over mutual TLS
  const std::string certs = cluster.certs_dir();
  const std::string cert_stem = impostor(certs, cluster.dir());
  const PeerIdentity ap{PeerRole::kRegion, "ap"};
  for (const auto& [from, to] : {std::pair{cert_stem + ".pem", CertPath(certs, ap)},
                                 std::pair{cert_stem + ".key", KeyPath(certs, ap)}}) {
    std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing);
  }
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_TRUE(cluster.StartRegion(i).ok());
  }
  for (size_t i = 0; i < 2; ++i) {
    Status ok = cluster.WaitForStatus(i, "ok", seconds(30));
    ASSERT_TRUE(ok.ok()) << ok.ToString();
  }
  ASSERT_TRUE(Eventually([&] { return cluster.Call(2, "GET", "/healthz").ok(); }, seconds(30)));
  if (!counted_reason.empty()) {
    const std::string series =
        "meridian_peer_auth_refused_total{reason=\"" + counted_reason + "\"}";
    EXPECT_TRUE(Eventually([&] { return MetricValue(cluster, 0, series) >= 1; }, seconds(20)))
        << series;
  }
  // us and eu keep replicating, both ways.
  ASSERT_TRUE(Put(cluster, 2, "from-ap", "forged"));
  ASSERT_TRUE(Put(cluster, 0, "from-us", "v-us"));
  ASSERT_TRUE(Put(cluster, 1, "from-eu", "v-eu"));
  EXPECT_TRUE(Replicated(cluster, 1, "from-us", "v-us"));
  EXPECT_TRUE(Replicated(cluster, 0, "from-eu", "v-eu"));
  // ap's write reached neither (its streams were refused before any message was read).
  for (size_t i = 0; i < 2; ++i) {
    auto r = cluster.Call(i, "GET", "/profile/from-ap");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->body.find("forged"), std::string::npos) << cluster.regions()[i] << ": " << r->body;
  }
}

TEST(TlsClusterTest, RegionWithAnotherRegionsCertificateIsRefusedAndCounted) {
  // eu's genuine certificate, used by the process that claims to be ap.
  ExpectImpostorRefused(
      [](const std::string& certs, const std::string&) { return certs + "/region-eu"; },
      "region_mismatch");
}

TEST(TlsClusterTest, RegionWithACertificateFromAnotherCaIsRefusedAndCounted) {
  // A certificate for ap from a rogue CA; ap still trusts the cluster's CA, so only the
  // acceptors' check of client certificates stops it, in the TLS handshake, which counts it
  // (net/cluster_chain_verifier.h).
  ExpectImpostorRefused(
      [](const std::string&, const std::string& scratch) {
        const std::string rogue = scratch + "/rogue";
        EXPECT_TRUE(WriteClusterCertificates(rogue, {"ap"}, {}).ok());
        return rogue + "/region-ap";
      },
      "untrusted_certificate");
}

}  // namespace
}  // namespace meridian::testing
