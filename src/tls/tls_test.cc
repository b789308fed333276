#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tls/cert_files.h"
#include "tls/certificate_authority.h"
#include "tls/chain_verify.h"
#include "tls/cluster_tls.h"
#include "tls/peer_identity.h"

namespace meridian {
namespace {

X509* ReadCert(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return cert;
}

// True when `leaf` chains to `ca` for the purpose a TLS client checks (serverAuth).
bool Verifies(const std::string& ca_pem, const std::string& leaf_pem) {
  X509* ca = ReadCert(ca_pem);
  X509* leaf = ReadCert(leaf_pem);
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, leaf, nullptr);
  X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
  const bool ok = X509_verify_cert(ctx) == 1;
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  X509_free(leaf);
  X509_free(ca);
  return ok;
}

TEST(PeerIdentityTest, UriRoundTripsAndRejectsOthers) {
  for (PeerRole role : {PeerRole::kRegion, PeerRole::kRouter, PeerRole::kClient}) {
    const PeerIdentity identity{role, "us-east_1"};
    Result<PeerIdentity> back = ParseIdentityUri(IdentityUri(identity));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, identity);
  }
  EXPECT_EQ(IdentityUri({PeerRole::kRegion, "us"}), "meridian://region/us");
  EXPECT_EQ(IdentityDnsName({PeerRole::kRouter, "eu"}), "eu.router.meridian");
  for (const char* bad : {"", "https://region/us", "meridian://region", "meridian://region/",
                          "meridian://admin/us", "meridian://region/US", "meridian://region/a/b",
                          "meridian://region/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}) {
    EXPECT_FALSE(ParseIdentityUri(bad).ok()) << bad;
  }
}

TEST(CertificateAuthorityTest, IssuedCertificateNamesItsIdentityAndChainsToItsCaOnly) {
  Result<CertificateAuthority> ca = CertificateAuthority::Create("test CA", 1);
  Result<CertificateAuthority> other = CertificateAuthority::Create("other CA", 1);
  ASSERT_TRUE(ca.ok()) << ca.status().ToString();
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  Result<PemPair> eu = ca->Issue({PeerRole::kRegion, "eu"}, 1);
  ASSERT_TRUE(eu.ok()) << eu.status().ToString();
  Result<PeerIdentity> identity = PeerIdentityFromPem(eu->cert_pem);
  ASSERT_TRUE(identity.ok()) << identity.status().ToString();
  EXPECT_EQ(*identity, (PeerIdentity{PeerRole::kRegion, "eu"}));
  EXPECT_TRUE(Verifies(ca->pem().cert_pem, eu->cert_pem));
  EXPECT_FALSE(Verifies(other->pem().cert_pem, eu->cert_pem));
  // The CA itself names no identity: it cannot pose as a peer.
  EXPECT_FALSE(PeerIdentityFromPem(ca->pem().cert_pem).ok());
  EXPECT_FALSE(PeerIdentityFromPem("not a certificate").ok());
}

// The replication server's in-handshake check (net/cluster_chain_verifier.h).
TEST(ChainVerifyTest, AcceptsOnlyClientCertificatesOfTheClusterCa) {
  Result<CertificateAuthority> ca = CertificateAuthority::Create("test CA", 1);
  Result<CertificateAuthority> other = CertificateAuthority::Create("other CA", 1);
  ASSERT_TRUE(ca.ok() && other.ok());
  Result<PemPair> eu = ca->Issue({PeerRole::kRegion, "eu"}, 1);
  Result<PemPair> rogue = other->Issue({PeerRole::kRegion, "eu"}, 1);
  Result<PemPair> listener = ca->IssueServer({"127.0.0.1"}, 1);  // serverAuth only
  ASSERT_TRUE(eu.ok() && rogue.ok() && listener.ok());
  EXPECT_TRUE(VerifyChainToCa(ca->pem().cert_pem, eu->cert_pem).ok());
  const Status refused = VerifyChainToCa(ca->pem().cert_pem, rogue->cert_pem);
  EXPECT_EQ(refused.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(refused.message().find("certificate verify failed"), std::string::npos)
      << refused.message();
  EXPECT_FALSE(VerifyChainToCa(ca->pem().cert_pem, listener->cert_pem).ok());
  EXPECT_FALSE(VerifyChainToCa(ca->pem().cert_pem, "").ok());
  EXPECT_FALSE(VerifyChainToCa(ca->pem().cert_pem, "not a certificate").ok());
  EXPECT_EQ(VerifyChainToCa("", eu->cert_pem).code(), StatusCode::kInvalidArgument);
  // A trusted bundle of two CAs accepts either's.
  EXPECT_TRUE(VerifyChainToCa(ca->pem().cert_pem + other->pem().cert_pem, rogue->cert_pem).ok());
}

TEST(CertificateAuthorityTest, FromPemChecksThatKeyMatchesCertificate) {
  Result<CertificateAuthority> a = CertificateAuthority::Create("a", 1);
  Result<CertificateAuthority> b = CertificateAuthority::Create("b", 1);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(CertificateAuthority::FromPem(a->pem()).ok());
  Status mismatched = CertificateAuthority::FromPem({a->pem().cert_pem, b->pem().key_pem}).status();
  EXPECT_EQ(mismatched.code(), StatusCode::kInvalidArgument) << mismatched.ToString();
  EXPECT_FALSE(CertificateAuthority::FromPem({"x", a->pem().key_pem}).ok());
}

TEST(CertFilesTest, WritesEveryRoleWithPrivateKeysAndRefusesToReplaceTheCa) {
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("tls_test_" + std::to_string(::getpid())))
          .string();
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(WriteClusterCertificates(dir, {"us", "eu"}, {"app"}).ok());
  for (const PeerIdentity& id :
       {PeerIdentity{PeerRole::kRegion, "us"}, PeerIdentity{PeerRole::kRouter, "eu"},
        PeerIdentity{PeerRole::kClient, "app"}}) {
    Result<TlsMaterial> material = LoadTlsMaterial(dir, id);
    ASSERT_TRUE(material.ok()) << material.status().ToString();
    EXPECT_TRUE(Verifies(material->ca_pem, material->cert_pem));
    Result<PeerIdentity> named = PeerIdentityFromPem(material->cert_pem);
    ASSERT_TRUE(named.ok());
    EXPECT_EQ(*named, id);
    struct stat key_stat {};
    ASSERT_EQ(::stat(KeyPath(dir, id).c_str(), &key_stat), 0);
    EXPECT_EQ(key_stat.st_mode & 0777, 0600u);
  }
  struct stat ca_key {};
  ASSERT_EQ(::stat(CaKeyPath(dir).c_str(), &ca_key), 0);
  EXPECT_EQ(ca_key.st_mode & 0777, 0600u);
  EXPECT_EQ(WriteClusterCertificates(dir, {"us"}, {}).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(LoadTlsMaterial(dir, {PeerRole::kRegion, "ap"}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(WriteClusterCertificates(dir + "/x", {"US"}, {}).code(), StatusCode::kInvalidArgument);
  std::filesystem::remove_all(dir);
}

// The demo's and the lab's default: certificates made once in DATA_DIR/certs and reused.
TEST(ClusterTlsTest, MakesCertificatesOnceAndHonoursPlaintextAndTheConfigsOwn) {
  Result<ClusterConfig> base = ParseClusterConfig(R"(regions:
  - {name: us, http: 127.0.0.1:7101, replication: 127.0.0.1:7201, data_dir: d/us}
  - {name: eu, http: 127.0.0.1:7102, replication: 127.0.0.1:7202, data_dir: d/eu}
links:
  - {between: [us, eu], rtt_ms: 80}
wan: {admin: 127.0.0.1:8474, base_port: 9000}
router: {http: 127.0.0.1:7000}
)",
                                                  "test");
  ASSERT_TRUE(base.ok()) << base.status().ToString();
  const std::string data =
      (std::filesystem::temp_directory_path() / ("cluster_tls_" + std::to_string(::getpid())))
          .string();
  std::filesystem::remove_all(data);

  ClusterConfig plain = *base;
  ASSERT_TRUE(PrepareClusterTls(plain, data, /*plaintext=*/true).ok());
  EXPECT_TRUE(plain.tls && plain.tls->plaintext);
  EXPECT_FALSE(std::filesystem::exists(data + "/certs"));

  ClusterConfig first = *base;
  ASSERT_TRUE(PrepareClusterTls(first, data, false).ok());
  ASSERT_TRUE(first.tls && !first.tls->plaintext);
  EXPECT_TRUE(LoadTlsMaterial(first.tls->dir, {PeerRole::kRegion, "eu"}).ok());
  const std::string ca = LoadTlsMaterial(first.tls->dir, {PeerRole::kRegion, "us"})->ca_pem;
  ClusterConfig again = *base;
  ASSERT_TRUE(PrepareClusterTls(again, data, false).ok());
  EXPECT_EQ(again.tls, first.tls);
  EXPECT_EQ(LoadTlsMaterial(again.tls->dir, {PeerRole::kRegion, "us"})->ca_pem, ca);

  ClusterConfig own = *base;
  own.tls = TlsConfig{.dir = "/etc/meridian/certs", .client = false, .plaintext = false};
  ASSERT_TRUE(PrepareClusterTls(own, data, false).ok());
  EXPECT_EQ(own.tls->dir, "/etc/meridian/certs");
  std::filesystem::remove_all(data);
}

// The names a certificate's subjectAltName holds, as "IP:..." / "DNS:..." / "URI:...".
std::vector<std::string> SanNames(const std::string& pem) {
  std::vector<std::string> out;
  X509* cert = ReadCert(pem);
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type == GEN_DNS) {
      out.push_back("DNS:" + std::string(reinterpret_cast<const char*>(
                                 ASN1_STRING_get0_data(name->d.dNSName))));
    } else if (name->type == GEN_IPADD) {
      out.push_back("IP:" + std::to_string(ASN1_STRING_length(name->d.iPAddress)) + " bytes");
    } else if (name->type == GEN_URI) {
      out.push_back("URI");
    }
  }
  GENERAL_NAMES_free(names);
  X509_free(cert);
  return out;
}

std::string TempDir(const std::string& name) {
  const std::string dir =
      (std::filesystem::temp_directory_path() / (name + "_" + std::to_string(::getpid()))).string();
  std::filesystem::remove_all(dir);
  return dir;
}

// `meridian certs` also issues the client listeners' certificate: 127.0.0.1, ::1 and localhost,
// chaining to the cluster CA and to no other, naming no meridian:// identity (so it can never
// pass for a region in the replication checks), its key 0600.
TEST(CertFilesTest, ListenerCertificateNamesLoopbackAndChainsToTheClusterCa) {
  const std::string dir = TempDir("tls_listener");
  ASSERT_TRUE(WriteClusterCertificates(dir, {"us"}, {"app"}).ok());
  Result<std::string> cert = ReadTextFile(ListenerCertPath(dir));
  Result<std::string> ca = ReadTextFile(CaCertPath(dir));
  ASSERT_TRUE(cert.ok() && ca.ok());
  EXPECT_TRUE(Verifies(*ca, *cert));
  Result<CertificateAuthority> other = CertificateAuthority::Create("other", 1);
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(Verifies(other->pem().cert_pem, *cert));
  EXPECT_EQ(SanNames(*cert),
            (std::vector<std::string>{"IP:4 bytes", "IP:16 bytes", "DNS:localhost"}));
  EXPECT_FALSE(PeerIdentityFromPem(*cert).ok());
  X509* x = ReadCert(*cert);
  EXPECT_EQ(X509_check_ip_asc(x, "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_host(x, "localhost", 9, 0, nullptr), 1);
  EXPECT_NE(X509_check_host(x, "us.region.meridian", 18, 0, nullptr), 1);
  X509_free(x);
  struct stat key_stat {};
  ASSERT_EQ(::stat(ListenerKeyPath(dir).c_str(), &key_stat), 0);
  EXPECT_EQ(key_stat.st_mode & 0777, 0600u);
  std::filesystem::remove_all(dir);
}

TEST(CertFilesTest, BadListenerHostsAreRefusedBeforeAnythingIsWritten) {
  const std::string dir = TempDir("tls_bad_host");
  EXPECT_EQ(WriteClusterCertificates(dir, {"us"}, {}, {"127.0.0.1", "bad host!"}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(WriteClusterCertificates(dir, {"us"}, {}, {}).code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(dir));
  ASSERT_TRUE(WriteClusterCertificates(dir, {"us"}, {}, {"db.example.com", "10.0.0.7"}).ok());
  EXPECT_EQ(SanNames(*ReadTextFile(ListenerCertPath(dir))),
            (std::vector<std::string>{"DNS:db.example.com", "IP:4 bytes"}));
  std::filesystem::remove_all(dir);
}

// --client-tls: refused without certificates; a directory made before listener certificates
// existed gets one from its CA key, and one without the key is a clear error.
TEST(ClusterTlsTest, ClientTlsNeedsCertificatesAndAddsAMissingListenerCertificate) {
  ClusterConfig none;
  EXPECT_TRUE(ApplyClientTls(none, /*client_tls_flag=*/false).ok());
  EXPECT_FALSE(none.tls);
  EXPECT_EQ(ApplyClientTls(none, true).code(), StatusCode::kInvalidArgument);
  ClusterConfig plain;
  plain.tls = TlsConfig{.dir = "", .client = false, .plaintext = true};
  EXPECT_EQ(ApplyClientTls(plain, true).code(), StatusCode::kInvalidArgument);

  const std::string dir = TempDir("tls_old_dir");
  ASSERT_TRUE(WriteClusterCertificates(dir, {"us"}, {}).ok());
  std::filesystem::remove(ListenerCertPath(dir));
  std::filesystem::remove(ListenerKeyPath(dir));
  ClusterConfig config;
  config.tls = TlsConfig{.dir = dir, .client = false, .plaintext = false};
  ASSERT_TRUE(ApplyClientTls(config, true).ok());
  EXPECT_TRUE(config.tls->client);
  EXPECT_TRUE(Verifies(*ReadTextFile(CaCertPath(dir)), *ReadTextFile(ListenerCertPath(dir))));

  std::filesystem::remove(ListenerCertPath(dir));
  std::filesystem::remove(CaKeyPath(dir));
  config.tls->client = false;
  EXPECT_EQ(ApplyClientTls(config, true).code(), StatusCode::kNotFound);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace meridian
