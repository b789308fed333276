// HttpPool: an asynchronous HTTP/1.1 client for one target (Boost.Beast), with a bounded set of
// keep-alive connections, for the load generator's hot path.
//
// Contract:
//  1. Send() never blocks: the request goes to an idle connection, to a new one while fewer than
//     connections_max exist, or else waits in a FIFO until a connection frees up. The caller bounds
//     how many requests it has outstanding (the generator's in-flight limit), which bounds the
//     FIFO.
//  2. Every sent request's callback runs exactly once, on the io_context's thread: with the
//     response, or with an error ("timeout", "connect: ...", "write: ...", "read: ...").
//  3. Each step (connect, write, read) must finish within timeout_ms; a connection that fails or
//     times out is closed and reconnects for its next request. A response without keep-alive
//     closes the connection after it.
//  4. Single-threaded: all calls and callbacks on one thread running the io_context (the
//     generator gives each of its threads its own io_context and pools, so nothing is shared).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace meridian {

struct HttpPoolOptions {
  size_t connections_max = 16;
  int timeout_ms = 5'000;
  // Region answers are small JSON documents; a read of a big profile stays far below this.
  size_t body_bytes_max = 8 << 20;
};

struct PoolRequest {
  std::string method;
  std::string target;
  std::string body;  // sent as application/json when non-empty
  std::vector<std::pair<std::string, std::string>> headers;
};

struct PoolResponse {
  int status = 0;     // HTTP status; 0 when error is set
  std::string error;  // empty on a response
  std::string body;
  std::string served_by;   // the router's X-Meridian-Region answer header, when present
  uint64_t invoke_ns = 0;  // steady-clock ns when a connection began sending this request
};

using PoolCallback = std::function<void(PoolResponse)>;

class PoolConnection;

class HttpPool {
 public:
  // `host` is sent as the Host header ("127.0.0.1:7101").
  HttpPool(boost::asio::io_context& io, boost::asio::ip::tcp::endpoint endpoint, std::string host,
           HttpPoolOptions options);
  ~HttpPool();
  HttpPool(const HttpPool&) = delete;
  HttpPool& operator=(const HttpPool&) = delete;

  void Send(PoolRequest request, PoolCallback callback);
  // Closes idle connections (busy ones finish their request first). Call when the run is over.
  void CloseIdle();

  size_t queued() const { return queue_.size(); }
  size_t connections() const { return connections_.size(); }

 private:
  friend class PoolConnection;
  struct Pending {
    PoolRequest request;
    PoolCallback callback;
  };
  void OnIdle(const std::shared_ptr<PoolConnection>& connection);

  boost::asio::io_context& io_;
  boost::asio::ip::tcp::endpoint endpoint_;
  std::string host_;
  HttpPoolOptions options_;
  std::vector<std::shared_ptr<PoolConnection>> connections_;
  std::vector<std::shared_ptr<PoolConnection>> idle_;
  std::deque<Pending> queue_;
};

// Steady-clock ns, the pool's and the generator's one time base for latency.
uint64_t SteadyNowNs();

}  // namespace meridian
