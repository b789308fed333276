// Contract in tls_handshake_failure.h.
#include "net/tls_handshake_failure.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/core/error.hpp>

#include "base/assert.h"

namespace meridian {

std::string_view TlsHandshakeFailureName(TlsHandshakeFailure reason) {
  switch (reason) {
    case TlsHandshakeFailure::kTimeout:
      return "timeout";
    case TlsHandshakeFailure::kNotTls:
      return "not_tls";
    case TlsHandshakeFailure::kVersion:
      return "version";
    case TlsHandshakeFailure::kCertRejected:
      return "cert_rejected";
    case TlsHandshakeFailure::kClosed:
      return "closed";
    case TlsHandshakeFailure::kOther:
      return "other";
  }
  MERIDIAN_ASSERT(false);
  return "other";
}

namespace {

TlsHandshakeFailure FromOpenSslReason(int reason) {
  switch (reason) {
    case SSL_R_HTTP_REQUEST:
    case SSL_R_HTTPS_PROXY_REQUEST:
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_UNKNOWN_PROTOCOL:
    case SSL_R_PACKET_LENGTH_TOO_LONG:
    case SSL_R_RECORD_LENGTH_MISMATCH:
    case SSL_R_ENCRYPTED_LENGTH_TOO_LONG:
      return TlsHandshakeFailure::kNotTls;
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
      return TlsHandshakeFailure::kVersion;
    case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
    case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
    case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
      return TlsHandshakeFailure::kCertRejected;
    case SSL_R_UNEXPECTED_EOF_WHILE_READING:
      return TlsHandshakeFailure::kClosed;
    default:
      return TlsHandshakeFailure::kOther;
  }
}

}  // namespace

TlsHandshakeFailure ClassifyTlsHandshakeError(const boost::system::error_code& ec) {
  MERIDIAN_ASSERT(ec.failed());
  namespace asio = boost::asio;
  if (ec == boost::beast::error::timeout || ec == asio::error::timed_out) {
    return TlsHandshakeFailure::kTimeout;
  }
  if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated ||
      ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
      ec == asio::error::operation_aborted) {
    return TlsHandshakeFailure::kClosed;
  }
  if (ec.category() == asio::error::get_ssl_category()) {
    return FromOpenSslReason(ERR_GET_REASON(static_cast<unsigned long>(ec.value())));
  }
  return TlsHandshakeFailure::kOther;
}

uint64_t TlsHandshakeFailures::Total() const {
  uint64_t total = 0;
  for (const auto& count : counts_)
    total += count.load(std::memory_order_relaxed);
  return total;
}

}  // namespace meridian
