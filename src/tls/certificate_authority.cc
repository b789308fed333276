#include "tls/certificate_authority.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>

#include <cctype>
#include <memory>

#include "base/assert.h"

namespace meridian {

namespace {

// Owning handles, so that every early return frees what OpenSSL allocated.
template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using Key = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using Bio = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using Bignum = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using Extension = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;

constexpr long kSecondsPerDay = 24 * 60 * 60;
constexpr long kBackdateSeconds = 60 * 60;  // contract 3

// "what: <OpenSSL's reasons>", draining OpenSSL's thread-local error queue.
Status OpenSslError(const std::string& what) {
  std::string reasons;
  while (unsigned long code = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    reasons += (reasons.empty() ? "" : "; ") + std::string(buffer);
  }
  return Internal(what + ": " + (reasons.empty() ? "unknown OpenSSL error" : reasons));
}

Result<std::string> ToPem(int (*write)(BIO*, void*), void* object, const std::string& what) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || write(bio.get(), object) != 1) return OpenSslError("writing " + what);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

Result<std::string> CertPem(X509* cert) {
  return ToPem([](BIO* b, void* c) { return PEM_write_bio_X509(b, static_cast<X509*>(c)); }, cert,
               "certificate");
}

Result<std::string> KeyPem(EVP_PKEY* key) {
  return ToPem(
      [](BIO* b, void* k) {
        return PEM_write_bio_PrivateKey(b, static_cast<EVP_PKEY*>(k), nullptr, nullptr, 0, nullptr,
                                        nullptr);
      },
      key, "private key");
}

Status AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  Extension ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return OpenSslError(std::string("certificate extension ") + OBJ_nid2sn(nid));
  }
  return Status::Ok();
}

// A certificate for `key` named `common_name`, not yet extended or signed.
Result<Cert> NewCertificate(EVP_PKEY* key, const std::string& common_name, int valid_days) {
  MERIDIAN_ASSERT(valid_days > 0);
  Cert cert(X509_new());
  Bignum serial(BN_new());
  if (!cert || !serial) return OpenSslError("allocating a certificate");
  // 127 random bits, top bit clear: a positive serial of at most 16 bytes (RFC 5280 4.1.2.2).
  if (X509_set_version(cert.get(), X509_VERSION_3) != 1 ||
      BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr ||
      X509_gmtime_adj(X509_getm_notBefore(cert.get()), -kBackdateSeconds) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), valid_days * kSecondsPerDay) == nullptr ||
      X509_set_pubkey(cert.get(), key) != 1) {
    return OpenSslError("filling a certificate");
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  auto text = [](const std::string& s) {
    return reinterpret_cast<const unsigned char*>(s.c_str());
  };
  if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, text("Meridian"), -1, -1, 0) != 1 ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, text(common_name), -1, -1, 0) != 1) {
    return OpenSslError("naming a certificate");
  }
  return cert;
}

Result<Key> NewKey() {
  Key key(EVP_EC_gen("P-256"));
  if (!key) return OpenSslError("generating an EC P-256 key");
  return key;
}

// 1-253 characters of [A-Za-z0-9.-], labels of 1-63 that neither start nor end with '-'.
bool IsDnsName(const std::string& host) {
  if (host.empty() || host.size() > 253) return false;
  size_t label = 0;
  for (size_t i = 0; i <= host.size(); ++i) {
    const char c = i < host.size() ? host[i] : '.';
    if (c == '.') {
      if (label == 0 || label > 63 || host[i - 1] == '-' || host[i - label] == '-') return false;
      label = 0;
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '-') {
      ++label;
    } else {
      return false;
    }
  }
  return true;
}

bool IsIpLiteral(const std::string& host) {
  unsigned char address[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), address) == 1 ||
         inet_pton(AF_INET6, host.c_str(), address) == 1;
}

// A new key and a certificate for it, named `common_name`, with subjectAltName `san` and
// extendedKeyUsage `usage`, signed by the CA `ca_pem` (contract 2).
Result<PemPair> IssueSigned(const PemPair& ca_pem, const std::string& common_name,
                            const std::string& san, const char* usage, int valid_days) {
  Bio cert_bio(BIO_new_mem_buf(ca_pem.cert_pem.data(), static_cast<int>(ca_pem.cert_pem.size())));
  Bio key_bio(BIO_new_mem_buf(ca_pem.key_pem.data(), static_cast<int>(ca_pem.key_pem.size())));
  if (!cert_bio || !key_bio) return OpenSslError("reading the CA");
  Cert ca(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  Key ca_key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (!ca || !ca_key) return OpenSslError("reading the CA");  // FromPem/Create checked both

  Result<Key> key = NewKey();
  if (!key.ok()) return key.status();
  Result<Cert> cert = NewCertificate(key->get(), common_name, valid_days);
  if (!cert.ok()) return cert.status();
  X509* x = cert->get();
  if (X509_set_issuer_name(x, X509_get_subject_name(ca.get())) != 1) {
    return OpenSslError("certificate issuer");
  }
  MERIDIAN_RETURN_IF_ERROR(AddExtension(x, ca.get(), NID_basic_constraints, "critical,CA:FALSE"));
  MERIDIAN_RETURN_IF_ERROR(AddExtension(x, ca.get(), NID_key_usage, "critical,digitalSignature"));
  MERIDIAN_RETURN_IF_ERROR(AddExtension(x, ca.get(), NID_ext_key_usage, usage));
  MERIDIAN_RETURN_IF_ERROR(AddExtension(x, ca.get(), NID_subject_alt_name, san.c_str()));
  MERIDIAN_RETURN_IF_ERROR(AddExtension(x, ca.get(), NID_subject_key_identifier, "hash"));
  MERIDIAN_RETURN_IF_ERROR(AddExtension(x, ca.get(), NID_authority_key_identifier, "keyid:always"));
  if (X509_sign(x, ca_key.get(), EVP_sha256()) == 0) return OpenSslError("signing a certificate");
  Result<std::string> cert_pem = CertPem(x);
  Result<std::string> key_pem = KeyPem(key->get());
  if (!cert_pem.ok()) return cert_pem.status();
  if (!key_pem.ok()) return key_pem.status();
  return PemPair{*cert_pem, *key_pem};
}

}  // namespace

Status CheckListenerHost(const std::string& host) {
  if (IsIpLiteral(host) || IsDnsName(host)) return Status::Ok();
  return InvalidArgument("listener host '" + host + "' is neither an IP address nor a DNS name");
}

Result<CertificateAuthority> CertificateAuthority::Create(const std::string& common_name,
                                                          int valid_days) {
  Result<Key> key = NewKey();
  if (!key.ok()) return key.status();
  Result<Cert> cert = NewCertificate(key->get(), common_name, valid_days);
  if (!cert.ok()) return cert.status();
  X509* x = cert->get();
  if (X509_set_issuer_name(x, X509_get_subject_name(x)) != 1) return OpenSslError("CA issuer");
  MERIDIAN_RETURN_IF_ERROR(AddExtension(x, x, NID_basic_constraints, "critical,CA:TRUE"));
  MERIDIAN_RETURN_IF_ERROR(AddExtension(x, x, NID_key_usage, "critical,keyCertSign,cRLSign"));
  MERIDIAN_RETURN_IF_ERROR(AddExtension(x, x, NID_subject_key_identifier, "hash"));
  if (X509_sign(x, key->get(), EVP_sha256()) == 0) return OpenSslError("signing the CA");
  Result<std::string> cert_pem = CertPem(x);
  Result<std::string> key_pem = KeyPem(key->get());
  if (!cert_pem.ok()) return cert_pem.status();
  if (!key_pem.ok()) return key_pem.status();
  return CertificateAuthority(PemPair{*cert_pem, *key_pem});
}

Result<CertificateAuthority> CertificateAuthority::FromPem(PemPair pem) {
  Bio cert_bio(BIO_new_mem_buf(pem.cert_pem.data(), static_cast<int>(pem.cert_pem.size())));
  Bio key_bio(BIO_new_mem_buf(pem.key_pem.data(), static_cast<int>(pem.key_pem.size())));
  if (!cert_bio || !key_bio) return OpenSslError("reading the CA");
  Cert cert(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  Key key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  ERR_clear_error();
  if (!cert) return InvalidArgument("the CA certificate is not PEM");
  if (!key) return InvalidArgument("the CA key is not a PEM private key");
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return InvalidArgument("the CA key does not match the CA certificate");
  }
  return CertificateAuthority(std::move(pem));
}

Result<PemPair> CertificateAuthority::Issue(const PeerIdentity& identity, int valid_days) const {
  const std::string uri = IdentityUri(identity);
  const std::string san = "URI:" + uri + ",DNS:" + IdentityDnsName(identity);
  return IssueSigned(pem_, uri, san, "serverAuth,clientAuth", valid_days);
}

Result<PemPair> CertificateAuthority::IssueServer(const std::vector<std::string>& hosts,
                                                  int valid_days) const {
  if (hosts.empty()) return InvalidArgument("a listener certificate needs at least one host");
  std::string san;
  for (const std::string& host : hosts) {
    MERIDIAN_RETURN_IF_ERROR(CheckListenerHost(host));
    san += (san.empty() ? "" : ",") + std::string(IsIpLiteral(host) ? "IP:" : "DNS:") + host;
  }
  return IssueSigned(pem_, "Meridian client listener", san, "serverAuth", valid_days);
}

}  // namespace meridian
