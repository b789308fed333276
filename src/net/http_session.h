// Internal to HttpServer: the state shared by the server and its connections, and one connection.
//
// Invariants:
//  1. A session's socket, buffer and parser are touched only on its strand.
//  2. A session serves one request at a time: it reads the next request only after the
//     response to the previous one has been written (no pipelining), so responses stay in order.
//  3. in_flight counts requests handed to the handler whose response is not yet written; Stop()
//     waits on it. The server's registry holds every live session strongly; a responder holds
//     a session only weakly, and only while the ResponseGate is open.
//  4. A refusing session (one over max_connections) reads no request: it writes its 503, lingers
//     and closes. `refusing` counts those registered, so sessions.size() - refusing are served.
//  5. A session is an HttpSessionOn<Stream>: plain TCP (beast::tcp_stream) or TLS
//     (beast::ssl_stream over it), chosen at accept. The TLS one completes its handshake within
//     request_timeout_ms before it reads (or refuses) anything, and is closed when it fails; the
//     plaintext one pays nothing for TLS existing (no virtual call or branch per read or write).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>

#include "base/thread_annotations.h"
#include "net/http_message.h"
#include "net/http_server.h"
#include "net/tls_handshake_failure.h"

namespace meridian::net_internal {

class HttpSession;

// Lets a responder reach a session only while the server is running (contract 4).
struct ResponseGate {
  Mutex mu;
  bool open MERIDIAN_GUARDED_BY(mu) = true;
};

struct ServerCore {
  ServerCore(HttpHandler h, HttpServerOptions o)
      : handler(std::move(h)), options(o), ioc(o.io_context ? *o.io_context : own_ioc) {}

  const HttpHandler handler;
  const HttpServerOptions options;
  std::shared_ptr<ResponseGate> gate = std::make_shared<ResponseGate>();

  Mutex mu;
  CondVar changed;  // in_flight or threads_running dropped
  bool stopping MERIDIAN_GUARDED_BY(mu) = false;
  int in_flight MERIDIAN_GUARDED_BY(mu) = 0;
  int threads_running MERIDIAN_GUARDED_BY(mu) = 0;
  size_t refusing MERIDIAN_GUARDED_BY(mu) = 0;  // registered sessions that are refusing
  uint64_t connections_refused MERIDIAN_GUARDED_BY(mu) = 0;
  uint64_t next_session_id MERIDIAN_GUARDED_BY(mu) = 0;
  std::map<uint64_t, std::shared_ptr<HttpSession>> sessions MERIDIAN_GUARDED_BY(mu);

  TlsHandshakeFailures tls_handshake_failures;  // HttpServer contract 7

  // Declared last so that it is destroyed first, while the fields above still exist.
  boost::asio::io_context own_ioc;  // unless options.io_context names another
  boost::asio::io_context& ioc;

  bool Stopping() MERIDIAN_EXCLUDES(mu);
  void RequestDone() MERIDIAN_EXCLUDES(mu);                 // in_flight -= 1
  void Unregister(uint64_t session) MERIDIAN_EXCLUDES(mu);  // the session closed itself
};

// What the server and responders hold of a session, whatever its stream (invariant 5).
class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  virtual ~HttpSession() = default;
  virtual void Start() = 0;  // any thread: serves requests, or refuses the connection (invariant 4)
  virtual void Close() = 0;  // any thread; idempotent
  // Any thread: queues the response for the request in flight.
  virtual void PostResponse(HttpResponse response) = 0;
  virtual bool refusing() const = 0;
};

using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

// Stream: boost::beast::tcp_stream or TlsStream (explicitly instantiated for those two).
template <typename Stream>
class HttpSessionOn final : public HttpSession {
 public:
  // `tls` is the server's context: REQUIRES non-null exactly when Stream is TlsStream.
  HttpSessionOn(ServerCore& core, uint64_t id, boost::asio::ip::tcp::socket socket,
                boost::asio::ssl::context* tls, bool refusing = false);

  void Start() override;
  void Close() override;
  void PostResponse(HttpResponse response) override;
  bool refusing() const override { return refusing_; }

 private:
  std::shared_ptr<HttpSessionOn> Self() {
    return std::static_pointer_cast<HttpSessionOn>(shared_from_this());
  }
  boost::beast::tcp_stream& Tcp() { return boost::beast::get_lowest_layer(stream_); }
  void Serve();  // after the TLS handshake, if any: reads requests or refuses (invariant 4)
  using Request = boost::beast::http::request<boost::beast::http::string_body>;

  // A request is read in two phases: waiting for its first byte (bounded by idle_timeout_ms,
  // closed silently when it passes), then the rest (bounded by request_timeout_ms, 408 when it
  // passes).
  void DoRead();
  void OnFirstBytes(boost::beast::error_code ec, size_t bytes);
  void ReadRest();
  void OnRequestTimeout(uint64_t generation);
  void OnRead(boost::beast::error_code ec);
  void Dispatch(Request request);
  void WriteResponse(HttpResponse response, bool after_handler);
  void OnWrite(boost::beast::error_code ec, bool keep_alive, bool after_handler);
  void RejectAndClose(int status, std::string_view code, std::string message);
  void LingeringClose();
  void Drain();
  void CloseNow();

  ServerCore& core_;
  const uint64_t id_;
  const bool refusing_;
  Stream stream_;
  std::string remote_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  boost::beast::http::response<boost::beast::http::string_body> response_;
  bool keep_alive_ = false;
  unsigned version_ = 11;  // of the request in flight; the response answers in kind
  bool head_ = false;      // the request in flight is a HEAD: answer without the body
  bool closed_ = false;
  boost::asio::steady_timer linger_timer_;
  std::array<char, 4096> drain_buffer_{};
  size_t drained_bytes_ = 0;
  // The rest of a request after its first byte: the timer cancels the read when it fires while
  // `reading_rest_` (and its generation is the read's), and the read then answers 408.
  boost::asio::steady_timer request_timer_;
  uint64_t read_generation_ = 0;
  bool reading_rest_ = false;
  bool request_timed_out_ = false;
};

}  // namespace meridian::net_internal
