// HttpServer: a small HTTP/1.1 server (Boost.Beast) for Meridian's admin and client APIs.
//
// Contract:
//  1. Every well-formed request reaches the handler exactly once, on one of the server's I/O
//     threads; the handler answers through its HttpResponder, now or later, from any thread.
//  2. Requests that never reach the handler, each answered with a JSON error
//     ({"error": {"code", "message"}}, like every Meridian error) and the connection then closed:
//     a body over body_bytes_max gets 413, a header block over header_bytes_max gets 431, a
//     request not received in full within request_timeout_ms of its first byte (a body shorter
//     than its Content-Length) gets 408, a transfer coding other than chunked (Transfer-Encoding,
//     or asked for in TE) gets 501, and a malformed request (bad syntax, bad %-escape, a query
//     parameter given twice, a Transfer-Encoding that does not end in chunked) gets 400.
//  3. Connections are kept alive between requests (HTTP/1.1 rules) and served one request at a
//     time; a connection that sends nothing for idle_timeout_ms is closed without an answer.
//  4. Stop() stops accepting, waits up to stop_grace_ms for in-flight requests to be answered,
//     closes every connection and joins the threads. Responders called after Stop() do nothing.
//     No thread ever busy-waits.
//  6. At most max_connections connections are served at once. One more is accepted, answered
//     503 with Retry-After (a JSON error, code "unavailable") before any request is read, and
//     closed after a bounded linger; past kRefusingMax such answers in progress, further ones
//     are closed at once. Each refusal counts in connections_refused().
//  5. HEAD is served wherever GET is: the handler sees the request as a GET, and the client gets
//     that answer's status and header fields (its Content-Length included) without the body.
//  7. With options.tls, every connection is TLS (net/tls_context.h: TLS 1.3 only): a connection
//     whose handshake fails or does not finish within request_timeout_ms (a plaintext client, a
//     client that does not trust the certificate) is closed without an answer and counted in
//     tls_handshakes_failed(), and by reason in tls_handshake_failures()
//     (net/tls_handshake_failure.h); the server and its other connections carry on. Without it,
//     plain TCP, served by a separate session type (nothing of TLS on that path).
//
// Thread-safety: Start/Stop/port from one owning thread; the responder from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"
#include "net/http_message.h"
#include "net/tls_handshake_failure.h"

namespace boost::asio {
class io_context;
namespace ssl {
class context;
}
}  // namespace boost::asio

namespace meridian {

struct HttpServerOptions {
  int threads = 1;  // I/O threads; handlers run on them, so they must not block
  // When set, the server runs on this context instead, on whatever thread its owner runs it on
  // (`threads` is then ignored): a run-to-completion owner keeps every handler on its one loop.
  // The owner must keep running it until Stop() returns, must not call Stop() from it, and
  // must not run it again once the server is destroyed.
  boost::asio::io_context* io_context = nullptr;
  // A region's largest value is 1 MiB; the rest is room for the JSON around it.
  size_t body_bytes_max = (1 << 20) + (64 << 10);
  size_t header_bytes_max = 16 << 10;  // twice Beast's default: long session tokens fit
  int idle_timeout_ms = 30'000;        // a keep-alive connection with no request is closed
  // Once a request's first byte arrived, the rest (header block and body) must follow within
  // this, or the client gets 408: a client that stalls or lied in Content-Length does not hold
  // a connection for the idle timeout. 10 s is a 1 MiB body at under 1 Mbit/s.
  int request_timeout_ms = 10'000;
  int stop_grace_ms = 2'000;  // Stop() waits this long for in-flight requests
  // Contract 6. Redis's maxclients default: each connection costs a socket, a session and its
  // buffers (tens of KiB at most), so 10,000 stay within a few hundred MiB, while a client that
  // opens connections in a loop cannot exhaust file descriptors or memory.
  size_t max_connections = 10'000;
  // Contract 7: the TLS server context (net/tls_context.h MakeServerTlsContext); null: plaintext.
  std::shared_ptr<boost::asio::ssl::context> tls;
};

class HttpServer {
 public:
  // `address` is "host:port" ("127.0.0.1:0" picks a free port). Nothing happens until Start().
  HttpServer(std::string address, HttpHandler handler, HttpServerOptions options = {});
  ~HttpServer();  // Stop()s
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts the I/O threads. Unavailable with the reason when the address
  // cannot be bound (e.g. "127.0.0.1:7101: bind: Address already in use"); InvalidArgument when
  // it cannot be parsed. REQUIRES: not started before.
  Status Start();
  // Idempotent; see contract 4.
  void Stop();

  // The bound port (the real one when constructed with port 0). REQUIRES: Start() succeeded.
  uint16_t port() const;
  // "host:port" with the bound port.
  std::string address() const;
  // Connections refused for max_connections since Start() (contract 6); any thread.
  uint64_t connections_refused() const;
  // TLS handshakes that failed or timed out since Start() (contract 7); any thread.
  uint64_t tls_handshakes_failed() const;
  // The same, by reason (contract 7); any thread; lives as long as the server.
  const TlsHandshakeFailures& tls_handshake_failures() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace meridian
