#include "router/upstream_pool.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <optional>
#include <utility>

#include "net/endpoint.h"
#include "net/tls_context.h"

namespace meridian::router {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct UpstreamPool::Connection {
  explicit Connection(const asio::strand<asio::io_context::executor_type>& strand)
      : stream(strand) {}
  // `f(stream)` with the TLS stream when there is one, else the TCP stream (contract 5).
  template <typename F>
  void WithStream(F&& f) {
    if (tls) return f(*tls);
    f(stream);
  }
  beast::tcp_stream stream;  // its timeouts bound the TLS operations over it too
  std::unique_ptr<asio::ssl::stream<beast::tcp_stream&>> tls;  // over `stream`, once connected
  beast::flat_buffer buffer;
  UpstreamClock::time_point idle_since;
};

struct UpstreamPool::Exchange {
  uint64_t id = 0;
  http::request<http::string_body> request;
  UpstreamClock::time_point deadline;
  UpstreamCallback callback;
  std::unique_ptr<Connection> connection;  // while running
  std::optional<http::response_parser<http::string_body>> parser;
  std::optional<asio::steady_timer> wait_timer;  // while queued for a connection
  bool reused = false;
  bool retried_fresh = false;
  std::string abort_reason;  // set by Abort while running
  bool done = false;
};

namespace {

std::string ToStd(beast::string_view text) {
  return std::string(text.data(), text.size());
}

HttpResponse ToHttpResponse(http::response<http::string_body>& response) {
  HttpResponse out;
  out.status = static_cast<int>(response.result_int());
  out.content_type = ToStd(response[http::field::content_type]);
  for (const auto& field : response) {
    out.headers.emplace_back(ToStd(field.name_string()), ToStd(field.value()));
  }
  out.body = std::move(response.body());
  return out;
}

}  // namespace

UpstreamPool::UpstreamPool(asio::io_context& ioc, std::string address, tcp::endpoint endpoint,
                           UpstreamPoolOptions options)
    : address_(std::move(address)),
      endpoint_(endpoint),
      options_(options),
      strand_(asio::make_strand(ioc)) {
  MERIDIAN_ASSERT(options_.connections_max >= 1);
  if (options_.tls) {
    // Contract 5: the certificate must name the host of the address (validated at startup).
    Result<std::pair<std::string, uint16_t>> host_port = SplitHostPort(address_);
    tls_host_ = host_port.ok() ? host_port->first : address_;  // unparsable: never verifies
  }
}

UpstreamPool::~UpstreamPool() = default;

void UpstreamPool::Send(const HttpClientRequest& request, UpstreamClock::time_point deadline,
                        UpstreamCallback callback) {
  auto exchange = std::make_shared<Exchange>();
  exchange->deadline = deadline;
  exchange->callback = std::move(callback);
  Status built;
  try {  // Beast throws on characters a method or field may not hold
    auto& out = exchange->request;
    out.method_string(request.method);
    out.target(request.target);
    out.version(11);
    out.set(http::field::host, address_);
    for (const auto& [name, value] : request.headers) {
      out.insert(name, value);
    }
    if (!request.body.empty() && !request.content_type.empty()) {
      out.set(http::field::content_type, request.content_type);
    }
    out.body() = request.body;
    out.prepare_payload();
  } catch (const std::exception& e) {
    built = InvalidArgument("upstream " + address_ + ": bad request: " + e.what());
  }
  asio::post(strand_, [self = shared_from_this(), exchange, built]() {
    if (!built.ok()) return self->Complete(exchange, built);
    exchange->id = self->next_exchange_id_++;
    self->Start(exchange);
  });
}

void UpstreamPool::Start(const ExchangePtr& exchange) {
  if (closed_) return Complete(exchange, Unavailable("upstream " + address_ + ": pool closed"));
  if (UpstreamClock::now() >= exchange->deadline) {
    return Complete(exchange, DeadlineExceeded("upstream " + address_ + ": deadline passed"));
  }
  if (std::unique_ptr<Connection> idle = TakeIdle()) {
    return Run(exchange, std::move(idle), /*reused=*/true);
  }
  if (open_ < options_.connections_max) {
    ++open_;
    return Connect(exchange);
  }
  Enqueue(exchange);
}

// REQUIRES: a connection slot is reserved for it (open_ counts it).
void UpstreamPool::Connect(const ExchangePtr& exchange) {
  exchange->connection = std::make_unique<Connection>(strand_);
  exchange->reused = false;
  running_.emplace(exchange->id, exchange);
  beast::tcp_stream& stream = exchange->connection->stream;
  stream.expires_at(exchange->deadline);
  stream.async_connect(endpoint_, [self = shared_from_this(), exchange](beast::error_code ec) {
    if (ec) return self->OnFailure(exchange, "connect", ec);
    if (self->options_.tls) return self->Handshake(exchange);
    self->Run(exchange, std::move(exchange->connection), /*reused=*/false);
  });
}

void UpstreamPool::Handshake(const ExchangePtr& exchange) {
  Connection& connection = *exchange->connection;
  connection.tls =
      std::make_unique<asio::ssl::stream<beast::tcp_stream&>>(connection.stream, *options_.tls);
  if (!VerifyPeerHost(*connection.tls, tls_host_)) {
    return OnFailure(exchange, "TLS setup", asio::error::invalid_argument);
  }
  connection.tls->async_handshake(asio::ssl::stream_base::client,
                                  [self = shared_from_this(), exchange](beast::error_code ec) {
                                    if (ec) return self->OnFailure(exchange, "TLS handshake", ec);
                                    self->Run(exchange, std::move(exchange->connection),
                                              /*reused=*/false);
                                  });
}

void UpstreamPool::Run(const ExchangePtr& exchange, std::unique_ptr<Connection> connection,
                       bool reused) {
  exchange->connection = std::move(connection);
  exchange->reused = reused;
  running_.emplace(exchange->id, exchange);
  exchange->parser.emplace();
  exchange->parser->body_limit(options_.response_body_bytes_max);
  // A HEAD answer announces a body length but carries no body.
  exchange->parser->skip(exchange->request.method() == http::verb::head);
  exchange->connection->stream.expires_at(exchange->deadline);
  exchange->connection->WithStream([&](auto& stream) {
    http::async_write(stream, exchange->request,
                      [self = shared_from_this(), exchange](beast::error_code ec, size_t) {
                        if (ec) return self->OnFailure(exchange, "write", ec);
                        self->Read(exchange);
                      });
  });
}

void UpstreamPool::Read(const ExchangePtr& exchange) {
  Connection& connection = *exchange->connection;
  connection.stream.expires_at(exchange->deadline);
  connection.WithStream([&](auto& stream) {
    http::async_read(stream, connection.buffer, *exchange->parser,
                     [self = shared_from_this(), exchange](beast::error_code ec, size_t) {
                       if (ec) return self->OnFailure(exchange, "read", ec);
                       self->OnResponse(exchange);
                     });
  });
}

void UpstreamPool::OnResponse(const ExchangePtr& exchange) {
  running_.erase(exchange->id);
  std::unique_ptr<Connection> connection = std::move(exchange->connection);
  http::response<http::string_body>& response = exchange->parser->get();
  const bool keep_alive = response.keep_alive() && exchange->abort_reason.empty();
  HttpResponse out = ToHttpResponse(response);
  if (keep_alive) {
    Release(std::move(connection));
  } else {
    Discard(std::move(connection));
  }
  Complete(exchange, std::move(out));
}

void UpstreamPool::OnFailure(const ExchangePtr& exchange, const char* step, beast::error_code ec) {
  running_.erase(exchange->id);
  const bool got_bytes = exchange->parser && exchange->parser->got_some();
  exchange->parser.reset();
  const bool timed_out = ec == beast::error::timeout;
  // Contract 3: a reused connection the server closed while idle fails at once, before any
  // response byte; one fresh connection tells a stale socket from a dead server.
  const bool retry_fresh = exchange->abort_reason.empty() && exchange->reused &&
                           !exchange->retried_fresh && !got_bytes && !timed_out && !closed_ &&
                           UpstreamClock::now() < exchange->deadline;
  if (retry_fresh) {
    exchange->retried_fresh = true;
    exchange->connection->stream.close();
    exchange->connection.reset();  // its slot passes to the fresh connection
    return Connect(exchange);
  }
  Discard(std::move(exchange->connection));
  if (!exchange->abort_reason.empty()) {
    return Complete(exchange, Unavailable(exchange->abort_reason));
  }
  std::string message = "upstream " + address_ + ": " + step + ": " + ec.message();
  Complete(exchange,
           timed_out ? DeadlineExceeded(std::move(message)) : Unavailable(std::move(message)));
}

void UpstreamPool::Enqueue(const ExchangePtr& exchange) {
  if (waiters_.size() >= options_.waiters_max) {
    return Complete(exchange, ResourceExhausted("upstream " + address_ + ": " +
                                                std::to_string(waiters_.size()) +
                                                " requests already wait for a connection"));
  }
  exchange->wait_timer.emplace(strand_);
  exchange->wait_timer->expires_at(exchange->deadline);
  exchange->wait_timer->async_wait([self = shared_from_this(), exchange](beast::error_code ec) {
    if (!ec) self->OnWaitExpired(exchange);
  });
  waiters_.push_back(exchange);
}

void UpstreamPool::OnWaitExpired(const ExchangePtr& exchange) {
  const auto it = std::find(waiters_.begin(), waiters_.end(), exchange);
  if (it == waiters_.end()) return;  // already served; the timer lost the race
  waiters_.erase(it);
  Complete(exchange,
           DeadlineExceeded("upstream " + address_ + ": no connection free before the deadline"));
}

void UpstreamPool::Release(std::unique_ptr<Connection> connection) {
  if (!waiters_.empty()) {
    ExchangePtr next = waiters_.front();
    waiters_.pop_front();
    next->wait_timer->cancel();
    return Run(next, std::move(connection), /*reused=*/true);
  }
  if (closed_ || idle_.size() >= options_.idle_max) return Discard(std::move(connection));
  connection->idle_since = UpstreamClock::now();
  idle_.push_back(std::move(connection));
}

void UpstreamPool::Discard(std::unique_ptr<Connection> connection) {
  MERIDIAN_ASSERT(connection != nullptr);  // every open connection is counted in open_
  beast::error_code ignored;
  connection->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  connection->stream.close();
  MERIDIAN_ASSERT(open_ > 0);
  --open_;
  ServeWaiter();
}

void UpstreamPool::ServeWaiter() {
  if (waiters_.empty() || open_ >= options_.connections_max || closed_) return;
  ExchangePtr next = waiters_.front();
  waiters_.pop_front();
  next->wait_timer->cancel();
  ++open_;
  Connect(next);
}

std::unique_ptr<UpstreamPool::Connection> UpstreamPool::TakeIdle() {
  const auto oldest_allowed =
      UpstreamClock::now() - std::chrono::milliseconds(options_.idle_ms_max);
  while (!idle_.empty()) {
    std::unique_ptr<Connection> connection = std::move(idle_.back());
    idle_.pop_back();
    if (connection->idle_since >= oldest_allowed) return connection;
    Discard(std::move(connection));
  }
  return nullptr;
}

void UpstreamPool::Abort(std::string reason) {
  asio::post(strand_, [self = shared_from_this(), reason = std::move(reason)] {
    self->AbortOnStrand(reason);
  });
}

void UpstreamPool::Close() {
  asio::post(strand_, [self = shared_from_this()] {
    self->closed_ = true;
    self->AbortOnStrand("upstream " + self->address_ + ": router stopping");
  });
}

void UpstreamPool::AbortOnStrand(const std::string& reason) {
  // Closing a running stream completes its pending operation with operation_aborted; OnFailure
  // then reports the reason.
  for (auto& [id, exchange] : running_) {
    exchange->abort_reason = reason;
    if (exchange->connection) exchange->connection->stream.close();
  }
  std::deque<ExchangePtr> waiters;
  waiters.swap(waiters_);
  for (const ExchangePtr& waiter : waiters) {
    waiter->wait_timer->cancel();
    Complete(waiter, Unavailable(reason));
  }
  std::vector<std::unique_ptr<Connection>> idle;
  idle.swap(idle_);
  for (auto& connection : idle) {
    Discard(std::move(connection));
  }
}

void UpstreamPool::Complete(const ExchangePtr& exchange, Result<HttpResponse> result) {
  if (exchange->done) return;
  exchange->done = true;
  UpstreamCallback callback = std::move(exchange->callback);
  callback(std::move(result));
}

}  // namespace meridian::router
