#include "net/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace meridian {

namespace asio = boost::asio;

namespace {

Status Refused(const std::string& what, const boost::system::error_code& ec) {
  ERR_clear_error();
  return InvalidArgument(what + ": " + ec.message());
}

// Contract 1 and 2: TLS 1.3 only, compression and renegotiation off (OpenSSL 3 defaults, said
// again so that a changed default cannot weaken what we serve).
Status RequireTls13(asio::ssl::context& context, const std::string& what) {
  SSL_CTX* native = context.native_handle();
  if (SSL_CTX_set_min_proto_version(native, TLS1_3_VERSION) != 1) {
    ERR_clear_error();
    return Internal(what + ": OpenSSL refused TLS 1.3 as the minimum version");
  }
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  return Status::Ok();
}

}  // namespace

Result<TlsContextPtr> MakeServerTlsContext(const std::string& cert_file,
                                           const std::string& key_file) {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  MERIDIAN_RETURN_IF_ERROR(RequireTls13(*context, "TLS server context"));
  boost::system::error_code ec;
  if (context->use_certificate_chain_file(cert_file, ec)) return Refused(cert_file, ec);
  if (context->use_private_key_file(key_file, asio::ssl::context::pem, ec)) {
    return Refused(key_file, ec);
  }
  if (SSL_CTX_check_private_key(context->native_handle()) != 1) {
    ERR_clear_error();
    return InvalidArgument(key_file + ": does not match the certificate in " + cert_file);
  }
  context->set_verify_mode(asio::ssl::verify_none);  // contract 1: no client certificate
  return context;
}

Result<TlsContextPtr> MakeClientTlsContext(const std::string& ca_file) {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  MERIDIAN_RETURN_IF_ERROR(RequireTls13(*context, "TLS client context"));
  boost::system::error_code ec;
  if (context->load_verify_file(ca_file, ec)) return Refused(ca_file, ec);
  context->set_verify_mode(asio::ssl::verify_peer);
  return context;
}

}  // namespace meridian
