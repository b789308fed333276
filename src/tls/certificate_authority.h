// CertificateAuthority: a cluster's own CA, made and used with the OpenSSL 3 library (no
// `openssl` command is run), and the certificates it issues to regions, routers and clients.
//
// Contract:
//  1. Keys are EC P-256 (what every TLS 1.3 stack, gRPC's included, accepts), signed with
//     SHA-256; certificates are X.509 v3 with a random 127-bit serial.
//  2. The CA certificate is self-signed, basicConstraints CA:TRUE (critical), keyUsage
//     keyCertSign + cRLSign. An issued certificate is CA:FALSE, keyUsage digitalSignature,
//     extendedKeyUsage serverAuth + clientAuth (one certificate serves both ends of a mutual-TLS
//     link), and its subjectAltName holds the identity URI and DNS name of peer_identity.h.
//  3. Validity starts an hour in the past, so a peer whose clock is a little behind the issuer's
//     does not reject a fresh certificate.
//  4. Nothing here touches files; PEM text in, PEM text out. Errors are Status values carrying
//     OpenSSL's reason.
//  5. IssueServer makes a plain server certificate for client listeners: CA:FALSE,
//     extendedKeyUsage serverAuth only, subjectAltName exactly the given hosts (an IP literal as
//     an IP SAN, anything else as a DNS SAN) and no meridian:// identity, so it can never pass as
//     a region, router or client in the mutual-TLS checks.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "tls/peer_identity.h"

namespace meridian {

// OK when `host` can be named in a listener certificate (contract 5): an IPv4 or IPv6 literal,
// or a DNS name (labels of [A-Za-z0-9-]); InvalidArgument naming it otherwise.
Status CheckListenerHost(const std::string& host);

// OK when `host` can be named in a listener certificate (contract 5): an IPv4 or IPv6 literal,
// or a DNS name (labels of [A-Za-z0-9-]); InvalidArgument naming it otherwise.
Status CheckListenerHost(const std::string& host);

struct PemPair {
  std::string cert_pem;
  std::string key_pem;  // PKCS#8, unencrypted: the files holding it are 0600 (cert_files.h)
};

class CertificateAuthority {
 public:
  // A new CA named `common_name`, valid for `valid_days`. REQUIRES: valid_days > 0.
  static Result<CertificateAuthority> Create(const std::string& common_name, int valid_days);
  // A CA from its PEM certificate and key (e.g. to issue one more certificate later).
  // InvalidArgument when either does not parse or the key does not match the certificate.
  static Result<CertificateAuthority> FromPem(PemPair pem);

  // A new key and a certificate naming `identity`, signed by this CA, valid for `valid_days`.
  // REQUIRES: valid_days > 0; CheckIdentityName(identity.name).ok().
  Result<PemPair> Issue(const PeerIdentity& identity, int valid_days) const;
  // Contract 5. InvalidArgument when `hosts` is empty or holds a name that is neither an IP
  // literal nor a DNS name. REQUIRES: valid_days > 0.
  Result<PemPair> IssueServer(const std::vector<std::string>& hosts, int valid_days) const;

  const PemPair& pem() const { return pem_; }

 private:
  explicit CertificateAuthority(PemPair pem) : pem_(std::move(pem)) {}
  PemPair pem_;
};

}  // namespace meridian
