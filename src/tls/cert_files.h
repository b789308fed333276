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
//   DIR/listener.pem / .key          what the client listeners (regions' and routers' HTTP and
//                                    RESP) serve when `tls: {client: true}`: a server
//                                    certificate naming the hosts clients dial (default
//                                    127.0.0.1, ::1 and localhost); clients verify it against
//                                    ca.pem
//
// Contract:
//  1. Keys are written 0600 and certificates 0644, through a temporary file renamed into place,
//     so a reader never sees half a file and a key is never readable by others, not even briefly.
//  2. WriteClusterCertificates makes a new CA and every certificate; it refuses (AlreadyExists)
//     to overwrite a directory that already holds a ca.pem, so a CA in use is never replaced by
//     accident (the old certificates would stop matching).
//  3. EnsureListenerCertificate adds the listener certificate to a directory made before it
//     existed, with the CA key found there; it never touches a listener.pem already present.
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
std::string ListenerCertPath(const std::string& dir);
std::string ListenerKeyPath(const std::string& dir);

// The hosts a listener certificate names unless told otherwise: what a client on the machine
// dials (the demo's, the lab's and the tests' listeners are all on loopback).
inline const std::vector<std::string> kDefaultListenerHosts = {"127.0.0.1", "::1", "localhost"};

// Writes a new CA, one certificate per region, per router location (one per region) and per
// client name, and the listener certificate for `listener_hosts` into `dir` (created if
// missing). InvalidArgument for a bad name or host, AlreadyExists per contract 2,
// Internal/Unavailable for I/O errors.
Status WriteClusterCertificates(
    const std::string& dir, const std::vector<std::string>& regions,
    const std::vector<std::string>& clients,
    const std::vector<std::string>& listener_hosts = kDefaultListenerHosts);

// Contract 3. OK when DIR/listener.pem exists or was issued now; NotFound when it is missing
// and so is DIR/ca.key (a CA kept off this machine: issue it where the key is).
Status EnsureListenerCertificate(const std::string& dir,
                                 const std::vector<std::string>& hosts = kDefaultListenerHosts);

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
