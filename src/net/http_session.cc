#include "net/http_session.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

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
// The first read of a new request: a typical request's header block fits, and the parser reads
// whatever else it needs itself.
constexpr size_t kFirstReadBytes = 4096;

// The responder's shared state: delivers at most once; a 500 if every copy is dropped unused.
class ResponseSlot {
 public:
  ResponseSlot(std::shared_ptr<ResponseGate> gate, std::weak_ptr<HttpSession> session)
      : gate_(std::move(gate)), session_(std::move(session)) {}
  ResponseSlot(const ResponseSlot&) = delete;
  ResponseSlot& operator=(const ResponseSlot&) = delete;
  ~ResponseSlot() {
    if (!delivered_.load()) {
      Deliver(HttpResponse::Error(500, "internal", "the handler dropped the request unanswered"));
    }
  }

  void Deliver(HttpResponse response) {
    if (delivered_.exchange(true)) return;
    MutexLock lock(&gate_->mu);
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

// "q=0", "q=0." or "q=0.000": a TE coding the client says it cannot take.
bool NotAcceptable(std::string_view params) {
  if (!params.starts_with("q=0")) return false;
  params.remove_prefix(3);
  return params.empty() ||
         (params[0] == '.' && params.find_first_not_of('0', 1) == std::string_view::npos);
}

// "gzip, Chunked ;x=1" -> {"gzip", "chunked"}: the codings of a Transfer-Encoding or TE value,
// lower-case, parameters dropped, except that a TE coding with q=0 ("not acceptable") is left out.
std::vector<std::string> Codings(std::string_view value) {
  std::vector<std::string> out;
  while (!value.empty()) {
    const size_t comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    const size_t semicolon = item.find(';');
    std::string_view params =
        semicolon == std::string_view::npos ? std::string_view() : item.substr(semicolon + 1);
    item = item.substr(0, semicolon);
    auto trim = [](std::string_view t) {
      while (!t.empty() && (t.front() == ' ' || t.front() == '\t'))
        t.remove_prefix(1);
      while (!t.empty() && (t.back() == ' ' || t.back() == '\t'))
        t.remove_suffix(1);
      return t;
    };
    item = trim(item);
    params = trim(params);
    if (item.empty()) continue;
    if (NotAcceptable(params)) continue;
    out.push_back(Lower(beast::string_view(item.data(), item.size())));
  }
  return out;
}

struct Refusal {
  int status;
  std::string_view code;
  std::string message;
};

// Transfer codings are refused rather than ignored: a gzip-coded body read as plain bytes would
// be stored as garbage, and a coding asked for in TE would silently not be applied.
std::optional<Refusal> CheckTransferCodings(const HttpFieldMap& headers) {
  if (const auto it = headers.find("transfer-encoding"); it != headers.end()) {
    const std::vector<std::string> codings = Codings(it->second);
    if (codings.empty() || codings.back() != "chunked") {
      // RFC 9112 6.3: without chunked last, the request's length cannot be known.
      return Refusal{400, "invalid_argument",
                     "Transfer-Encoding '" + it->second +
                         "' does not end in chunked, so the body's length is unknown"};
    }
    for (const std::string& coding : codings) {
      if (coding != "chunked") {
        return Refusal{
            501, "not_implemented",
            "Transfer-Encoding '" + coding + "' is not supported; send the body plain or chunked"};
      }
    }
  }
  if (const auto it = headers.find("te"); it != headers.end()) {
    for (const std::string& coding : Codings(it->second)) {
      // "trailers" is not a coding: it only says the client could take trailer fields.
      if (coding != "chunked" && coding != "trailers") {
        return Refusal{501, "not_implemented",
                       "TE asks for transfer coding '" + coding +
                           "', which this server does not apply (bodies are plain or chunked)"};
      }
    }
  }
  return std::nullopt;
}

// The stream a session of type Stream serves `socket` on (HttpSessionOn's constructor).
template <typename Stream>
Stream NewStream(asio::ip::tcp::socket socket, asio::ssl::context* tls) {
  if constexpr (std::is_same_v<Stream, TlsStream>) {
    MERIDIAN_ASSERT(tls != nullptr);
    return Stream(std::move(socket), *tls);
  } else {
    MERIDIAN_ASSERT(tls == nullptr);
    return Stream(std::move(socket));
  }
}

}  // namespace

bool ServerCore::Stopping() {
  MutexLock lock(&mu);
  return stopping;
}

void ServerCore::RequestDone() {
  MutexLock lock(&mu);
  MERIDIAN_ASSERT(in_flight > 0);
  --in_flight;
  changed.SignalAll();
}

void ServerCore::Unregister(uint64_t session) {
  std::shared_ptr<HttpSession> doomed;  // destroyed outside the lock
  MutexLock lock(&mu);
  auto it = sessions.find(session);
  if (it == sessions.end()) return;
  doomed = std::move(it->second);
  sessions.erase(it);
  if (doomed->refusing()) --refusing;
}

template <typename Stream>
HttpSessionOn<Stream>::HttpSessionOn(ServerCore& core, uint64_t id, asio::ip::tcp::socket socket,
                                     asio::ssl::context* tls, bool refusing)
    : core_(core),
      id_(id),
      refusing_(refusing),
      stream_(NewStream<Stream>(std::move(socket), tls)),
      remote_(RemoteOf(Tcp().socket())),
      linger_timer_(stream_.get_executor()),
      request_timer_(stream_.get_executor()) {}

template <typename Stream>
void HttpSessionOn<Stream>::Start() {
  asio::dispatch(stream_.get_executor(), [self = Self()] {
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      // Invariant 5: the handshake is bounded like the rest of a request.
      self->Tcp().expires_after(std::chrono::milliseconds(self->core_.options.request_timeout_ms));
      self->stream_.async_handshake(asio::ssl::stream_base::server, [self](beast::error_code ec) {
        if (ec) self->core_.tls_handshake_failures.Count(ClassifyTlsHandshakeError(ec));
        if (ec || self->closed_) return self->CloseNow();
        self->Tcp().expires_never();
        self->Serve();
      });
    } else {
      self->Serve();
    }
  });
}

template <typename Stream>
void HttpSessionOn<Stream>::Serve() {
  if (!refusing_) return DoRead();
  // Answered before the request is read: reading it would spend what the limit protects.
  // Lingering afterwards lets the client read the answer instead of a reset.
  HttpResponse response = HttpResponse::Error(503, "unavailable",
                                              "this server already serves its maximum of " +
                                                  std::to_string(core_.options.max_connections) +
                                                  " connections; retry shortly");
  response.headers.emplace_back("Retry-After", "1");
  WriteResponse(std::move(response), /*after_handler=*/false);
}

template <typename Stream>
void HttpSessionOn<Stream>::Close() {
  asio::post(stream_.get_executor(), [self = Self()] { self->CloseNow(); });
}

template <typename Stream>
void HttpSessionOn<Stream>::PostResponse(HttpResponse response) {
  asio::post(stream_.get_executor(), [self = Self(), r = std::move(response)]() mutable {
    self->WriteResponse(std::move(r), /*after_handler=*/true);
  });
}

template <typename Stream>
void HttpSessionOn<Stream>::DoRead() {
  if (closed_) return;
  if (core_.Stopping()) return CloseNow();
  parser_.emplace();
  parser_->body_limit(core_.options.body_bytes_max);
  parser_->header_limit(static_cast<uint32_t>(core_.options.header_bytes_max));
  head_ = false;
  if (buffer_.size() > 0) return ReadRest();  // the next request began in the previous read
  Tcp().expires_after(std::chrono::milliseconds(core_.options.idle_timeout_ms));
  stream_.async_read_some(
      buffer_.prepare(kFirstReadBytes),
      [self = Self()](beast::error_code ec, size_t bytes) { self->OnFirstBytes(ec, bytes); });
}

template <typename Stream>
void HttpSessionOn<Stream>::OnFirstBytes(beast::error_code ec, size_t bytes) {
  if (closed_) return;
  // Idle past the bound, or the client left: there is no request to answer.
  if (ec) return CloseNow();
  buffer_.commit(bytes);
  ReadRest();
}

template <typename Stream>
void HttpSessionOn<Stream>::ReadRest() {
  // The stream's own timeout would close the socket, leaving no way to answer 408; a timer that
  // cancels the read keeps it open for the answer.
  Tcp().expires_never();
  const uint64_t generation = ++read_generation_;
  reading_rest_ = true;
  request_timed_out_ = false;
  request_timer_.expires_after(std::chrono::milliseconds(core_.options.request_timeout_ms));
  request_timer_.async_wait([self = Self(), generation](beast::error_code ec) {
    if (!ec) self->OnRequestTimeout(generation);
  });
  http::async_read(stream_, buffer_, *parser_,
                   [self = Self()](beast::error_code ec, size_t) { self->OnRead(ec); });
}

template <typename Stream>
void HttpSessionOn<Stream>::OnRequestTimeout(uint64_t generation) {
  // A timer that fired as its read completed must not cancel what comes next (the answer).
  if (closed_ || !reading_rest_ || generation != read_generation_) return;
  request_timed_out_ = true;
  beast::error_code ignored;
  Tcp().socket().cancel(ignored);
}

template <typename Stream>
void HttpSessionOn<Stream>::OnRead(beast::error_code ec) {
  reading_rest_ = false;
  request_timer_.cancel();
  if (closed_) return;
  if (!ec) return Dispatch(parser_->release());
  if (request_timed_out_) {
    const auto length = parser_->content_length();
    return RejectAndClose(
        408, "request_timeout",
        "the request did not arrive in full within " +
            std::to_string(core_.options.request_timeout_ms) + " ms" +
            (length ? " (its Content-Length is " + std::to_string(*length) + " bytes)" : ""));
  }
  if (ec == http::error::body_limit) {
    return RejectAndClose(
        413, "payload_too_large",
        "request body is larger than " + std::to_string(core_.options.body_bytes_max) + " bytes");
  }
  if (ec == http::error::header_limit) {
    return RejectAndClose(431, "request_header_fields_too_large",
                          "request header block is larger than " +
                              std::to_string(core_.options.header_bytes_max) + " bytes");
  }
  const bool is_http_error =
      ec.category() == http::make_error_code(http::error::bad_method).category();
  const bool client_gone =
      !is_http_error || ec == http::error::end_of_stream || ec == http::error::partial_message;
  // A client that left, timed out or reset has nobody to read an answer.
  if (client_gone) return CloseNow();
  RejectAndClose(400, "invalid_argument", "malformed request: " + ec.message());
}

template <typename Stream>
void HttpSessionOn<Stream>::Dispatch(Request request) {
  HttpRequest out;
  head_ = request.method() == http::verb::head;
  // Contract 5: the handler answers a HEAD as the GET it stands for.
  out.method = head_ ? std::string("GET") : std::string(ToStd(request.method_string()));
  out.target = std::string(ToStd(request.target()));
  const size_t question = out.target.find('?');
  out.path = out.target.substr(0, question);
  if (question != std::string::npos) {
    Result<HttpFieldMap> query = ParseQuery(std::string_view(out.target).substr(question + 1));
    if (!query.ok()) return RejectAndClose(400, "invalid_argument", query.status().message());
    out.query = std::move(*query);
  }
  for (const auto& field : request) {
    std::string& value = out.headers[Lower(field.name_string())];
    if (!value.empty()) value += ", ";
    value += ToStd(field.value());
  }
  if (std::optional<Refusal> refusal = CheckTransferCodings(out.headers)) {
    return RejectAndClose(refusal->status, refusal->code, std::move(refusal->message));
  }
  out.body = std::move(request.body());
  out.remote_address = remote_;
  keep_alive_ = request.keep_alive();
  version_ = request.version();
  {
    MutexLock lock(&core_.mu);
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

template <typename Stream>
void HttpSessionOn<Stream>::WriteResponse(HttpResponse response, bool after_handler) {
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
  response_.keep_alive(keep_alive);
  if (head_) {
    // The GET's header fields, its Content-Length included, and no body (RFC 9110 9.3.2).
    response_.content_length(response.body.size());
  } else {
    response_.body() = std::move(response.body);
    response_.prepare_payload();
  }
  Tcp().expires_after(std::chrono::milliseconds(core_.options.idle_timeout_ms));
  http::async_write(stream_, response_,
                    [self = Self(), keep_alive, after_handler](beast::error_code ec, size_t) {
                      self->OnWrite(ec, keep_alive, after_handler);
                    });
}

template <typename Stream>
void HttpSessionOn<Stream>::OnWrite(beast::error_code ec, bool keep_alive, bool after_handler) {
  if (after_handler) core_.RequestDone();
  if (!after_handler) return LingeringClose();
  if (ec || !keep_alive) {
    beast::error_code ignored;
    Tcp().socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    return CloseNow();
  }
  DoRead();
}

template <typename Stream>
void HttpSessionOn<Stream>::RejectAndClose(int status, std::string_view code, std::string message) {
  WriteResponse(HttpResponse::Error(status, code, message), /*after_handler=*/false);
}

template <typename Stream>
void HttpSessionOn<Stream>::LingeringClose() {
  if (closed_) return;
  beast::error_code ignored;
  Tcp().socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  Tcp().expires_never();
  linger_timer_.expires_after(kLingerTime);
  linger_timer_.async_wait([self = Self()](beast::error_code ec) {
    if (!ec) self->CloseNow();
  });
  Drain();
}

template <typename Stream>
void HttpSessionOn<Stream>::Drain() {
  Tcp().socket().async_read_some(asio::buffer(drain_buffer_),
                                 [self = Self()](beast::error_code ec, size_t n) {
                                   self->drained_bytes_ += n;
                                   if (ec || self->drained_bytes_ > kLingerBytesMax) {
                                     return self->CloseNow();
                                   }
                                   self->Drain();
                                 });
}

template <typename Stream>
void HttpSessionOn<Stream>::CloseNow() {
  if (closed_) return;
  closed_ = true;
  linger_timer_.cancel();
  request_timer_.cancel();
  beast::error_code ignored;
  Tcp().socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  Tcp().close();
  core_.Unregister(id_);
}

template class HttpSessionOn<beast::tcp_stream>;
template class HttpSessionOn<TlsStream>;

}  // namespace meridian::net_internal
