#include "gen/http_pool.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <chrono>
#include <optional>

#include "base/assert.h"

namespace meridian {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

uint64_t SteadyNowNs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

// One keep-alive connection, serving one request at a time. Handlers hold a shared_ptr, so it
// lives until its last operation completes, even after the pool let go of it.
class PoolConnection : public std::enable_shared_from_this<PoolConnection> {
 public:
  PoolConnection(HttpPool* pool, asio::io_context& io) : pool_(pool), stream_(io) {}

  void Run(HttpPool::Pending pending) {
    pending_ = std::move(pending);
    BuildMessage();
    invoke_ns_ = SteadyNowNs();
    if (connected_) return Write();
    stream_.expires_after(Timeout());
    stream_.async_connect(pool_->endpoint_, [self = shared_from_this()](beast::error_code ec) {
      if (ec) return self->Fail("connect", ec);
      self->connected_ = true;
      self->stream_.socket().set_option(tcp::no_delay(true), ec);  // best effort
      self->Write();
    });
  }

  void Close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
    connected_ = false;
  }

 private:
  std::chrono::milliseconds Timeout() const {
    return std::chrono::milliseconds(pool_->options_.timeout_ms);
  }

  void BuildMessage() {
    PoolRequest& r = pending_.request;
    message_ = {};
    message_.method_string(r.method);
    message_.target(r.target);
    message_.version(11);
    message_.set(http::field::host, pool_->host_);
    message_.keep_alive(true);
    for (const auto& [name, value] : r.headers)
      message_.insert(name, value);
    if (!r.body.empty()) message_.set(http::field::content_type, "application/json");
    message_.body() = std::move(r.body);
    message_.prepare_payload();
  }

  void Write() {
    stream_.expires_after(Timeout());
    http::async_write(stream_, message_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->Fail("write", ec);
      self->Read();
    });
  }

  void Read() {
    parser_.emplace();
    parser_->body_limit(pool_->options_.body_bytes_max);
    stream_.expires_after(Timeout());
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) return self->Fail("read", ec);
                       self->Succeed();
                     });
  }

  void Succeed() {
    http::response<http::string_body> response = parser_->release();
    parser_.reset();
    PoolResponse out;
    out.status = static_cast<int>(response.result_int());
    out.body = std::move(response.body());
    const auto served_by = response.find("X-Meridian-Region");
    if (served_by != response.end()) {
      out.served_by = std::string(served_by->value().data(), served_by->value().size());
    }
    out.invoke_ns = invoke_ns_;
    if (!response.keep_alive()) Close();
    Finish(std::move(out));
  }

  void Fail(const char* step, beast::error_code ec) {
    PoolResponse out;
    out.error = ec == beast::error::timeout ? std::string("timeout")
                                            : std::string(step) + ": " + ec.message();
    out.invoke_ns = invoke_ns_;
    Close();
    buffer_.clear();
    parser_.reset();
    Finish(std::move(out));
  }

  void Finish(PoolResponse response) {
    PoolCallback callback = std::move(pending_.callback);
    pending_ = {};
    MERIDIAN_ASSERT(callback);
    // Hand the connection back before the callback, which may Send() again at once.
    pool_->OnIdle(shared_from_this());
    callback(std::move(response));
  }

  HttpPool* pool_;
  beast::tcp_stream stream_;
  bool connected_ = false;
  beast::flat_buffer buffer_;
  HttpPool::Pending pending_;
  http::request<http::string_body> message_;
  std::optional<http::response_parser<http::string_body>> parser_;
  uint64_t invoke_ns_ = 0;
};

HttpPool::HttpPool(asio::io_context& io, tcp::endpoint endpoint, std::string host,
                   HttpPoolOptions options)
    : io_(io), endpoint_(std::move(endpoint)), host_(std::move(host)), options_(options) {
  MERIDIAN_ASSERT(options_.connections_max >= 1);
}

HttpPool::~HttpPool() = default;

void HttpPool::Send(PoolRequest request, PoolCallback callback) {
  Pending pending{std::move(request), std::move(callback)};
  if (idle_.empty() && connections_.size() < options_.connections_max) {
    connections_.push_back(std::make_shared<PoolConnection>(this, io_));
    idle_.push_back(connections_.back());
  }
  if (idle_.empty()) {
    queue_.push_back(std::move(pending));
    return;
  }
  std::shared_ptr<PoolConnection> connection = std::move(idle_.back());
  idle_.pop_back();
  connection->Run(std::move(pending));
}

void HttpPool::OnIdle(const std::shared_ptr<PoolConnection>& connection) {
  if (!queue_.empty()) {
    Pending next = std::move(queue_.front());
    queue_.pop_front();
    // Posted, not nested: the finishing handler unwinds before the next request starts.
    asio::post(
        io_, [connection, next = std::move(next)]() mutable { connection->Run(std::move(next)); });
    return;
  }
  idle_.push_back(connection);
}

void HttpPool::CloseIdle() {
  for (const auto& connection : idle_)
    connection->Close();
}

}  // namespace meridian
