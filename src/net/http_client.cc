#include "net/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <optional>

#include "net/endpoint.h"
#include "net/tls_context.h"

namespace meridian {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// One fetch as a chain of async steps on a private io_context, so that a single run_for()
// bounds the whole exchange, connect included.
class FetchOp {
 public:
  // `tls`: the client context for HTTPS, verifying that the server is `tls_host`; null: HTTP.
  FetchOp(asio::io_context& ioc, const HttpClientRequest& request, const std::string& host,
          asio::ssl::context* tls, const std::string& tls_host)
      : stream_(ioc) {
    if (tls != nullptr) {
      tls_ = std::make_unique<asio::ssl::stream<beast::tcp_stream&>>(stream_, *tls);
      if (!VerifyPeerHost(*tls_, tls_host)) tls_.reset();  // then Start fails
    }
    wants_tls_ = tls != nullptr;
    request_.method_string(request.method);
    request_.target(request.target);
    request_.version(11);
    request_.set(http::field::host, host);
    request_.set(http::field::connection, "close");
    for (const auto& [name, value] : request.headers) {
      request_.insert(name, value);
    }
    if (!request.body.empty()) request_.set(http::field::content_type, request.content_type);
    request_.body() = request.body;
    request_.prepare_payload();
    parser_.body_limit(kHttpFetchBodyBytesMax);
  }

  void Start(const tcp::endpoint& endpoint) {
    if (wants_tls_ && !tls_) return Fail("TLS setup", asio::error::invalid_argument);
    stream_.async_connect(endpoint, [this](beast::error_code ec) {
      if (ec) return Fail("connect", ec);
      if (!tls_) return Exchange(stream_);
      tls_->async_handshake(asio::ssl::stream_base::client, [this](beast::error_code tls_ec) {
        if (tls_ec) return Fail("TLS handshake", tls_ec);
        Exchange(*tls_);
      });
    });
  }

  std::optional<Result<HttpResponse>> result;

 private:
  template <typename Stream>
  void Exchange(Stream& stream) {
    http::async_write(stream, request_, [this, &stream](beast::error_code write_ec, size_t) {
      if (write_ec) return Fail("write", write_ec);
      http::async_read(stream, buffer_, parser_, [this](beast::error_code read_ec, size_t) {
        if (read_ec) return Fail("read", read_ec);
        Finish();
      });
    });
  }

  void Fail(const char* step, beast::error_code ec) {
    const bool parse = ec.category() == http::make_error_code(http::error::bad_method).category() &&
                       ec != http::error::end_of_stream && ec != http::error::partial_message;
    std::string message = std::string("http fetch: ") + step + ": " + ec.message();
    result = parse ? Result<HttpResponse>(Internal(message)) : Unavailable(message);
  }

  void Finish() {
    http::response<http::string_body>& response = parser_.get();
    HttpResponse out;
    out.status = static_cast<int>(response.result_int());
    const auto to_string = [](beast::string_view text) {
      return std::string(text.data(), text.size());
    };
    out.content_type = to_string(response[http::field::content_type]);
    for (const auto& field : response) {
      out.headers.emplace_back(to_string(field.name_string()), to_string(field.value()));
    }
    out.body = std::move(response.body());
    result = std::move(out);
  }

  beast::tcp_stream stream_;
  std::unique_ptr<asio::ssl::stream<beast::tcp_stream&>> tls_;  // over stream_, for HTTPS
  bool wants_tls_ = false;
  http::request<http::string_body> request_;
  beast::flat_buffer buffer_;
  http::response_parser<http::string_body> parser_;
};

}  // namespace

Result<HttpResponse> HttpFetch(const std::string& address, const HttpClientRequest& request,
                               std::chrono::milliseconds timeout) {
  Result<tcp::endpoint> endpoint = ResolveEndpoint(address);
  if (!endpoint.ok()) return endpoint.status();
  TlsContextPtr tls;
  std::string tls_host;
  if (!request.tls_ca_file.empty()) {
    Result<TlsContextPtr> context = MakeClientTlsContext(request.tls_ca_file);
    if (!context.ok()) return context.status();
    tls = *context;
    Result<std::pair<std::string, uint16_t>> host_port = SplitHostPort(address);
    if (!host_port.ok()) return host_port.status();
    tls_host = host_port->first;
  }
  try {
    asio::io_context ioc;
    FetchOp op(ioc, request, address, tls.get(), tls_host);
    op.Start(*endpoint);
    ioc.run_for(timeout);
    if (!op.result) {
      return DeadlineExceeded("http fetch " + address + request.target + ": no response within " +
                              std::to_string(timeout.count()) + " ms");
    }
    return std::move(*op.result);
  } catch (const std::exception& e) {  // Beast throws on invalid method or field characters
    return InvalidArgument(std::string("http fetch: ") + e.what());
  }
}

}  // namespace meridian
