// Why a client's TLS handshake on a listener failed, in the few reasons an operator can act on,
// and a per-reason count any thread may bump and read (docs/security.md "Client TLS").
//
// Contract:
//  1. ClassifyTlsHandshakeError maps the error a server-side Asio/Beast handshake completed with
//     to one reason, from OpenSSL's reason code (not its message text):
//       kNotTls         the first bytes were not a TLS record: plaintext HTTP or RESP, a port
//                       scanner (SSL_R_HTTP_REQUEST, SSL_R_WRONG_VERSION_NUMBER, ...);
//       kVersion        TLS, but no version we accept (the listeners take TLS 1.3 only);
//       kCertRejected   the client refused our certificate: it sent a certificate alert
//                       (unknown CA, bad, expired, unsupported, revoked or unknown certificate);
//       kClosed         the client closed or reset the connection mid-handshake;
//       kTimeout        the handshake did not finish within the listener's bound (beast's
//                       timeout; a listener whose sweep closes it counts kTimeout itself);
//       kOther          anything else (another alert, a malformed handshake message).
//     Client certificates are never asked for (net/tls_context.h contract 1: clients
//     authenticate with API keys), so "bad or missing client certificate" cannot occur.
//  2. TlsHandshakeFailures counts per reason with relaxed atomics: Count from any thread, read
//     from any thread; a read may miss a concurrent Count, never tears.
#pragma once

#include <boost/system/error_code.hpp>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace meridian {

enum class TlsHandshakeFailure : uint8_t {
  kTimeout,
  kNotTls,
  kVersion,
  kCertRejected,
  kClosed,
  kOther,
};
inline constexpr size_t kTlsHandshakeFailureCount = 6;

// The reason's metric label: "timeout", "not_tls", "version", "cert_rejected", "closed",
// "other".
std::string_view TlsHandshakeFailureName(TlsHandshakeFailure reason);

// Contract 1. REQUIRES: ec is an error (not success).
TlsHandshakeFailure ClassifyTlsHandshakeError(const boost::system::error_code& ec);

// Contract 2.
class TlsHandshakeFailures {
 public:
  void Count(TlsHandshakeFailure reason) {
    counts_[static_cast<size_t>(reason)].fetch_add(1, std::memory_order_relaxed);
  }
  uint64_t Get(TlsHandshakeFailure reason) const {
    return counts_[static_cast<size_t>(reason)].load(std::memory_order_relaxed);
  }
  uint64_t Total() const;

 private:
  std::array<std::atomic<uint64_t>, kTlsHandshakeFailureCount> counts_{};
};

}  // namespace meridian
