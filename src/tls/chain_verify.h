// VerifyChainToCa: whether a peer's certificate chain (PEM, leaf first, then any intermediates)
// chains to the cluster CA and is valid now for TLS client authentication. The replication
// server runs it inside the TLS handshake in place of gRPC's own check, so that a certificate
// from another CA is refused exactly as before and, unlike before, counted
// (net/replication_transport.h contract 7).
//
// Contract: OK only when OpenSSL's X509_verify_cert accepts the leaf against a store holding
// exactly the CA(s) in `ca_pem`, with the PEM's other certificates as untrusted intermediates,
// for the SSL client purpose, at the current time. Anything else (no certificate, unparsable
// PEM, another CA, expired, wrong purpose) is PermissionDenied naming OpenSSL's reason.
#pragma once

#include <string_view>

#include "base/status.h"

namespace meridian {

Status VerifyChainToCa(std::string_view ca_pem, std::string_view chain_pem);

}  // namespace meridian
