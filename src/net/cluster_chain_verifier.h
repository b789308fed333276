// ClusterChainVerifier: the replication server's check of a client certificate chain, run by
// gRPC inside the TLS handshake (its custom-verification hook) instead of gRPC's built-in one,
// so that a certificate from another CA is refused there exactly as before and is also counted
// (replication_transport.h contract 7; gRPC's built-in check offers no hook to count).
//
// Contract:
//  1. A chain is accepted iff tls/chain_verify.h's VerifyChainToCa accepts it against the
//     cluster CA; otherwise the handshake fails (the connection never reaches gRPC's HTTP/2
//     layer) and `refusals` is incremented, its last reason kept.
//  2. Verification is synchronous and takes no lock of the transport: `refusals` is shared, so
//     gRPC may keep the verifier (owned by the server credentials) past the transport.
#pragma once

#include <grpcpp/security/tls_certificate_verifier.h>

#include <cstdint>
#include <memory>
#include <string>

#include "base/thread_annotations.h"

namespace meridian::net_internal {

// Chains refused by ClusterChainVerifier; any thread.
struct ChainRefusals {
  mutable Mutex mu;
  uint64_t count MERIDIAN_GUARDED_BY(mu) = 0;
  std::string last_reason MERIDIAN_GUARDED_BY(mu);
};

class ClusterChainVerifier : public grpc::experimental::ExternalCertificateVerifier {
 public:
  ClusterChainVerifier(std::string ca_pem, std::shared_ptr<ChainRefusals> refusals)
      : ca_pem_(std::move(ca_pem)), refusals_(std::move(refusals)) {}

  bool Verify(grpc::experimental::TlsCustomVerificationCheckRequest* request,
              std::function<void(grpc::Status)> callback, grpc::Status* sync_status) override;
  void Cancel(grpc::experimental::TlsCustomVerificationCheckRequest*) override {}

 private:
  const std::string ca_pem_;
  const std::shared_ptr<ChainRefusals> refusals_;
};

}  // namespace meridian::net_internal
