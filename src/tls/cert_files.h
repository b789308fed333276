// Certificate files: the directory layout `meridian certs` writes and every process reads.
//
// Layout of a certificate directory DIR (the config's `tls.dir`):
//   DIR/ca.pem                       the cluster CA; every process trusts exactly this CA
//   DIR/ca.key                       its key: only needed to issue more certificates, so a real
//                                    deployment keeps it off the servers
//   DIR/region-NAME.pem / .key       one per region (serves its replication listener, and is
//                                    its client certificate when it dials a peer)
//   DIR/router-NAME.pem / .key       one per router location (a router may run in each region)
//   DIR/client-NAME.pem / .key       one per client role (--client NAME)
//
// Contract:
//  1. Keys are written 0600 and certificates 0644, through a temporary file renamed into place,
//     so a reader never sees half a file and a key is never readable by others, not even briefly.
//  2. WriteClusterCertificates makes a new CA and every certificate; it refuses (AlreadyExists)
//     to overwrite a directory that already holds a ca.pem, so a CA in use is never replaced by
//     accident (the old certificates would stop matching).
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "tls/certificate_authority.h"
#include "tls/peer_identity.h"

namespace meridian {

// Validity of what WriteClusterCertificates issues: long enough for any demo or lab, short
// enough that a forgotten test CA does not outlive the year.
inline constexpr int kCertificateValidDays = 365;

std::string CaCertPath(const std::string& dir);
std::string CaKeyPath(const std::string& dir);
std::string CertPath(const std::string& dir, const PeerIdentity& identity);
std::string KeyPath(const std::string& dir, const PeerIdentity& identity);

// Writes a new CA and one certificate per region, per router location (one per region) and per
// client name into `dir` (created if missing). InvalidArgument for a bad name, AlreadyExists
// per contract 2, Internal/Unavailable for I/O errors.
Status WriteClusterCertificates(const std::string& dir, const std::vector<std::string>& regions,
                                const std::vector<std::string>& clients);

// What one process needs for mutual TLS: the CA to trust, its own certificate and key (PEM).
struct TlsMaterial {
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;
};

// Reads DIR/ca.pem and the certificate and key of `identity`. NotFound naming the missing file.
Result<TlsMaterial> LoadTlsMaterial(const std::string& dir, const PeerIdentity& identity);

// Reads a whole file (NotFound naming it when it cannot be read).
Result<std::string> ReadTextFile(const std::string& path);

}  // namespace meridian
