#include "tls/peer_identity.h"

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <memory>
#include <optional>
#include <vector>

#include "base/assert.h"

namespace meridian {

namespace {

constexpr std::string_view kScheme = "meridian://";
constexpr size_t kNameBytesMax = 32;  // invariant 2; longer names are typos, not identities

struct Bio {
  BIO* bio;
  ~Bio() { BIO_free(bio); }
};
struct Cert {
  X509* x509;
  ~Cert() { X509_free(x509); }
};
struct Names {
  GENERAL_NAMES* names;
  ~Names() { GENERAL_NAMES_free(names); }
};

std::vector<std::string> SanUris(X509* cert) {
  std::vector<std::string> uris;
  Names names{
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr))};
  if (names.names == nullptr) return uris;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.names, i);
    if (name->type != GEN_URI) continue;
    const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
    uris.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                      static_cast<size_t>(ASN1_STRING_length(uri)));
  }
  return uris;
}

}  // namespace

std::string_view PeerRoleName(PeerRole role) {
  switch (role) {
    case PeerRole::kRegion:
      return "region";
    case PeerRole::kRouter:
      return "router";
    case PeerRole::kClient:
      return "client";
  }
  return "unknown";
}

Status CheckIdentityName(std::string_view name) {
  bool ok = !name.empty() && name.size() <= kNameBytesMax;
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-');
  }
  if (ok) return Status::Ok();
  return InvalidArgument("identity name must be 1-32 characters of [a-z0-9_-], got '" +
                         std::string(name) + "'");
}

std::string IdentityUri(const PeerIdentity& identity) {
  MERIDIAN_ASSERT(CheckIdentityName(identity.name).ok());
  return std::string(kScheme) + std::string(PeerRoleName(identity.role)) + "/" + identity.name;
}

std::string IdentityDnsName(const PeerIdentity& identity) {
  MERIDIAN_ASSERT(CheckIdentityName(identity.name).ok());
  return identity.name + "." + std::string(PeerRoleName(identity.role)) + ".meridian";
}

Result<PeerIdentity> ParseIdentityUri(std::string_view uri) {
  if (uri.substr(0, kScheme.size()) != kScheme) {
    return InvalidArgument("not a meridian:// identity: '" + std::string(uri) + "'");
  }
  const std::string_view rest = uri.substr(kScheme.size());
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos) {
    return InvalidArgument("identity URI has no name: '" + std::string(uri) + "'");
  }
  const std::string_view role = rest.substr(0, slash);
  const std::string_view name = rest.substr(slash + 1);
  PeerIdentity identity;
  if (role == "region") {
    identity.role = PeerRole::kRegion;
  } else if (role == "router") {
    identity.role = PeerRole::kRouter;
  } else if (role == "client") {
    identity.role = PeerRole::kClient;
  } else {
    return InvalidArgument("unknown identity role '" + std::string(role) + "'");
  }
  MERIDIAN_RETURN_IF_ERROR(CheckIdentityName(name));
  identity.name = std::string(name);
  return identity;
}

Result<PeerIdentity> PeerIdentityFromPem(std::string_view cert_pem) {
  Bio bio{BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()))};
  if (bio.bio == nullptr) return Internal("out of memory reading a certificate");
  Cert cert{PEM_read_bio_X509(bio.bio, nullptr, nullptr, nullptr)};
  if (cert.x509 == nullptr) return InvalidArgument("not a PEM certificate");
  std::optional<PeerIdentity> found;
  for (const std::string& uri : SanUris(cert.x509)) {
    if (uri.substr(0, kScheme.size()) != kScheme) continue;
    Result<PeerIdentity> identity = ParseIdentityUri(uri);
    if (!identity.ok()) return identity.status();
    // Two identities in one certificate would let its holder pick which one to claim.
    if (found) return InvalidArgument("certificate names more than one meridian:// identity");
    found = *std::move(identity);
  }
  if (!found) return InvalidArgument("certificate names no meridian:// identity");
  return *found;
}

}  // namespace meridian
