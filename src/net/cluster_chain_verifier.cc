#include "net/cluster_chain_verifier.h"

#include <spdlog/spdlog.h>

#include "tls/chain_verify.h"

namespace meridian::net_internal {

bool ClusterChainVerifier::Verify(grpc::experimental::TlsCustomVerificationCheckRequest* request,
                                  std::function<void(grpc::Status)> /*callback*/,
                                  grpc::Status* sync_status) {
  // The leaf, then what else the peer sent (on a server OpenSSL's chain leaves the leaf out).
  const grpc::string_ref leaf = request->peer_cert();
  const grpc::string_ref rest = request->peer_cert_full_chain();
  const Status verified = VerifyChainToCa(
      ca_pem_, std::string(leaf.data(), leaf.size()) + std::string(rest.data(), rest.size()));
  if (verified.ok()) {
    *sync_status = grpc::Status::OK;
    return true;
  }
  {
    MutexLock lock(&refusals_->mu);
    ++refusals_->count;
    refusals_->last_reason = verified.message();
  }
  spdlog::warn("replication: refused a peer in the TLS handshake: {}", verified.message());
  *sync_status = grpc::Status(grpc::StatusCode::UNAUTHENTICATED, verified.message());
  return true;
}

}  // namespace meridian::net_internal
