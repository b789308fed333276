// TLS for client-facing listeners and the router's links to regions (Boost.Asio ssl over
// OpenSSL 3). The replication links use gRPC's own TLS instead (replication_transport.h).
//
// Contract:
//  1. A server context serves one certificate chain and key, negotiates TLS 1.3 only
//     (SSL_CTX_set_min_proto_version) and asks clients for no certificate: clients authenticate
//     with API keys, inside the encrypted connection.
//  2. A client context trusts exactly the CA file it was made with (not the system store),
//     requires TLS 1.3, and verifies the peer's certificate; VerifyPeerHost additionally makes a
//     connection check that the certificate names the host it dialled (an IP literal against
//     the certificate's IP SANs, a name against its DNS SANs) and sends that name as SNI.
//  3. Errors are values naming the file and OpenSSL's reason; nothing here throws.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>

#include <memory>
#include <string>

#include "base/status.h"

namespace meridian {

using TlsContextPtr = std::shared_ptr<boost::asio::ssl::context>;

// Contract 1. `cert_file` is a PEM chain (leaf first), `key_file` its PEM private key.
// InvalidArgument naming the file when either cannot be read or they do not match.
Result<TlsContextPtr> MakeServerTlsContext(const std::string& cert_file,
                                           const std::string& key_file);

// Contract 2. InvalidArgument naming the file when it holds no usable CA certificate.
Result<TlsContextPtr> MakeClientTlsContext(const std::string& ca_file);

// Contract 2: before the handshake of a client `stream`, whose peer must be `host` (the host
// part of the address dialled: "127.0.0.1", "localhost"). Returns false when OpenSSL refused
// the SNI name.
template <typename Stream>
bool VerifyPeerHost(boost::asio::ssl::stream<Stream>& stream, const std::string& host) {
  stream.set_verify_mode(boost::asio::ssl::verify_peer);
  stream.set_verify_callback(boost::asio::ssl::host_name_verification(host));
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  if (!ec) return true;  // an IP literal: SNI carries names only (RFC 6066 3)
  return SSL_set_tlsext_host_name(stream.native_handle(), host.c_str()) == 1;
}

}  // namespace meridian
