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
  FetchOp(asio::io_context& ioc, const HttpClientRequest& request, const std::string& host)
      : stream_(ioc) {
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
    stream_.async_connect(endpoint, [this](beast::error_code ec) {
      if (ec) return Fail("connect", ec);
      http::async_write(stream_, request_, [this](beast::error_code write_ec, size_t) {
        if (write_ec) return Fail("write", write_ec);
        http::async_read(stream_, buffer_, parser_, [this](beast::error_code read_ec, size_t) {
          if (read_ec) return Fail("read", read_ec);
          Finish();
        });
      });
    });
  }

  std::optional<Result<HttpResponse>> result;

 private:
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
  http::request<http::string_body> request_;
  beast::flat_buffer buffer_;
  http::response_parser<http::string_body> parser_;
};

}  // namespace

Result<HttpResponse> HttpFetch(const std::string& address, const HttpClientRequest& request,
                               std::chrono::milliseconds timeout) {
  Result<tcp::endpoint> endpoint = ResolveEndpoint(address);
  if (!endpoint.ok()) return endpoint.status();
  try {
    asio::io_context ioc;
    FetchOp op(ioc, request, address);
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
