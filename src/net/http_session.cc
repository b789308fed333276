#include "net/http_session.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>

#include "net/endpoint.h"

namespace meridian::net_internal {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

// After a rejected request the client may still be sending its body; reading (and dropping) a
// bounded amount before closing lets it see our 413/400 instead of a connection reset.
constexpr size_t kLingerBytesMax = 1 << 20;
constexpr auto kLingerTime = std::chrono::seconds(1);

// The responder's shared state: delivers at most once; a 500 if every copy is dropped unused.
class ResponseSlot {
 public:
  ResponseSlot(std::shared_ptr<ResponseGate> gate, std::weak_ptr<HttpSession> session)
      : gate_(std::move(gate)), session_(std::move(session)) {}
  ResponseSlot(const ResponseSlot&) = delete;
  ResponseSlot& operator=(const ResponseSlot&) = delete;
  ~ResponseSlot() {
    if (!delivered_.load()) Deliver(HttpResponse::Text(500, "handler dropped the request\n"));
  }

  void Deliver(HttpResponse response) {
    if (delivered_.exchange(true)) return;
    std::lock_guard<std::mutex> lock(gate_->mu);
    if (!gate_->open) return;  // the server stopped; its io_context may be gone
    if (std::shared_ptr<HttpSession> session = session_.lock()) {
      session->PostResponse(std::move(response));
    }
  }

 private:
  std::shared_ptr<ResponseGate> gate_;
  std::weak_ptr<HttpSession> session_;
  std::atomic<bool> delivered_{false};
};

std::string RemoteOf(const asio::ip::tcp::socket& socket) {
  beast::error_code ec;
  const asio::ip::tcp::endpoint remote = socket.remote_endpoint(ec);
  return ec ? std::string("unknown") : EndpointToString(remote);
}

std::string_view ToStd(beast::string_view text) {
  return {text.data(), text.size()};
}

std::string Lower(beast::string_view text) {
  std::string out(text.data(), text.size());
  for (char& c : out) {
    c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return out;
}

}  // namespace

bool ServerCore::Stopping() {
  std::lock_guard<std::mutex> lock(mu);
  return stopping;
}

void ServerCore::RequestDone() {
  std::lock_guard<std::mutex> lock(mu);
  MERIDIAN_ASSERT(in_flight > 0);
  --in_flight;
  changed.notify_all();
}

void ServerCore::Unregister(uint64_t session) {
  std::shared_ptr<HttpSession> doomed;  // destroyed outside the lock
  std::lock_guard<std::mutex> lock(mu);
  auto it = sessions.find(session);
  if (it == sessions.end()) return;
  doomed = std::move(it->second);
  sessions.erase(it);
}

HttpSession::HttpSession(ServerCore& core, uint64_t id, asio::ip::tcp::socket socket)
    : core_(core),
      id_(id),
      stream_(std::move(socket)),
      remote_(RemoteOf(stream_.socket())),
      linger_timer_(stream_.get_executor()) {}

void HttpSession::Start() {
  asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->DoRead(); });
}

void HttpSession::Close() {
  asio::post(stream_.get_executor(), [self = shared_from_this()] { self->CloseNow(); });
}

void HttpSession::PostResponse(HttpResponse response) {
  asio::post(stream_.get_executor(),
             [self = shared_from_this(), r = std::move(response)]() mutable {
               self->WriteResponse(std::move(r), /*after_handler=*/true);
             });
}

void HttpSession::DoRead() {
  if (closed_) return;
  if (core_.Stopping()) return CloseNow();
  parser_.emplace();
  parser_->body_limit(core_.options.body_bytes_max);
  parser_->header_limit(static_cast<uint32_t>(core_.options.header_bytes_max));
  stream_.expires_after(std::chrono::milliseconds(core_.options.idle_timeout_ms));
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
}

void HttpSession::OnRead(beast::error_code ec) {
  if (closed_) return;
  if (!ec) return Dispatch(parser_->release());
  if (ec == http::error::body_limit) {
    return RejectAndClose(413, "request body is larger than " +
                                   std::to_string(core_.options.body_bytes_max) + " bytes\n");
  }
  if (ec == http::error::header_limit) {
    return RejectAndClose(431, "request header block is too large\n");
  }
  const bool is_http_error =
      ec.category() == http::make_error_code(http::error::bad_method).category();
  const bool client_gone =
      !is_http_error || ec == http::error::end_of_stream || ec == http::error::partial_message;
  // A client that left, timed out or reset has nobody to read an answer.
  if (client_gone) return CloseNow();
  RejectAndClose(400, "malformed request: " + ec.message() + "\n");
}

void HttpSession::Dispatch(Request request) {
  HttpRequest out;
  out.method = std::string(ToStd(request.method_string()));
  out.target = std::string(ToStd(request.target()));
  const size_t question = out.target.find('?');
  out.path = out.target.substr(0, question);
  if (question != std::string::npos) {
    std::optional<HttpFieldMap> query =
        ParseQuery(std::string_view(out.target).substr(question + 1));
    if (!query) return RejectAndClose(400, "malformed query string\n");
    out.query = std::move(*query);
  }
  for (const auto& field : request) {
    std::string& value = out.headers[Lower(field.name_string())];
    if (!value.empty()) value += ", ";
    value += ToStd(field.value());
  }
  out.body = std::move(request.body());
  out.remote_address = remote_;
  keep_alive_ = request.keep_alive();
  version_ = request.version();
  {
    std::lock_guard<std::mutex> lock(core_.mu);
    ++core_.in_flight;
  }
  auto slot = std::make_shared<ResponseSlot>(core_.gate, weak_from_this());
  try {
    core_.handler(std::move(out), [slot](HttpResponse r) { slot->Deliver(std::move(r)); });
  } catch (const std::exception& e) {
    // Handlers should not throw; the slot answers 500 once the handler's copies are gone.
    std::fprintf(stderr, "http handler threw: %s\n", e.what());
  }
}

void HttpSession::WriteResponse(HttpResponse response, bool after_handler) {
  if (closed_) {
    if (after_handler) core_.RequestDone();
    return;
  }
  const bool keep_alive = after_handler && keep_alive_ && !core_.Stopping();
  const int status = (response.status >= 100 && response.status <= 999) ? response.status : 500;
  response_ = {};
  response_.version(version_);
  response_.result(static_cast<unsigned>(status));
  response_.set(http::field::server, "meridian");
  response_.set(http::field::content_type, response.content_type);
  for (const auto& [name, value] : response.headers) {
    response_.insert(name, value);
  }
  response_.body() = std::move(response.body);
  response_.keep_alive(keep_alive);
  response_.prepare_payload();
  stream_.expires_after(std::chrono::milliseconds(core_.options.idle_timeout_ms));
  http::async_write(
      stream_, response_,
      [self = shared_from_this(), keep_alive, after_handler](beast::error_code ec, size_t) {
        self->OnWrite(ec, keep_alive, after_handler);
      });
}

void HttpSession::OnWrite(beast::error_code ec, bool keep_alive, bool after_handler) {
  if (after_handler) core_.RequestDone();
  if (!after_handler) return LingeringClose();
  if (ec || !keep_alive) {
    beast::error_code ignored;
    stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    return CloseNow();
  }
  DoRead();
}

void HttpSession::RejectAndClose(int status, std::string message) {
  WriteResponse(HttpResponse::Text(status, std::move(message)), /*after_handler=*/false);
}

void HttpSession::LingeringClose() {
  if (closed_) return;
  beast::error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  stream_.expires_never();
  linger_timer_.expires_after(kLingerTime);
  linger_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (!ec) self->CloseNow();
  });
  Drain();
}

void HttpSession::Drain() {
  stream_.socket().async_read_some(asio::buffer(drain_buffer_),
                                   [self = shared_from_this()](beast::error_code ec, size_t n) {
                                     self->drained_bytes_ += n;
                                     if (ec || self->drained_bytes_ > kLingerBytesMax) {
                                       return self->CloseNow();
                                     }
                                     self->Drain();
                                   });
}

void HttpSession::CloseNow() {
  if (closed_) return;
  closed_ = true;
  linger_timer_.cancel();
  beast::error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  stream_.close();
  core_.Unregister(id_);
}

}  // namespace meridian::net_internal
