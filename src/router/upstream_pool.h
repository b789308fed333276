// UpstreamPool: an asynchronous HTTP/1.1 client for one upstream address, with bounded keep-alive
// connection reuse. The router keeps one per path for forwards and one per path for probes, so a
// queue of client requests never delays a health probe.
//
// Contract:
//  1. Send never blocks and calls its callback exactly once, on the pool's strand (one of the
//     io_context's threads), with the response or a Status: Unavailable for a failed connect,
//     write or read and for an abort, DeadlineExceeded when the deadline passed first,
//     ResourceExhausted when the wait queue is full, InvalidArgument for a request Beast refuses.
//  2. At most connections_max connections are open at once; further requests wait in FIFO order,
//     at most waiters_max of them, each until a connection frees up or its deadline passes.
//  3. A connection goes back to the idle list after a keep-alive response and is reused, newest
//     first, while younger than idle_ms_max. A request that fails on a reused connection before
//     any byte of a response is retried once on a new connection: the server may have closed the
//     idle connection just as we wrote (writes carry an idempotency key, so this is safe).
//  4. Abort(reason) fails every request in flight or waiting now, and closes idle connections;
//     Close() also refuses every later Send. Both are asynchronous and callable from any thread.
//  5. With options.tls, every new connection is TLS 1.3 and no request is written before its
//     handshake verified the upstream's certificate against the context's CA and against the
//     host of `address`; a failed handshake or verification fails like a failed connect
//     (Unavailable "TLS handshake: ..."), so the router treats the path as down.
//
// Lifetime: owned by shared_ptr; operations in flight keep the pool alive. The io_context must
// run until every callback has been called (Close() then lets it drain).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "net/http_client.h"
#include "net/http_message.h"
#include "router/router_options.h"

namespace meridian::router {

using UpstreamClock = std::chrono::steady_clock;
using UpstreamCallback = std::function<void(Result<HttpResponse>)>;

class UpstreamPool : public std::enable_shared_from_this<UpstreamPool> {
 public:
  // `address` ("host:port") is the Host header and names the pool in errors; `endpoint` is where
  // it connects (resolved by the caller, at startup: resolving may block).
  UpstreamPool(boost::asio::io_context& ioc, std::string address,
               boost::asio::ip::tcp::endpoint endpoint, UpstreamPoolOptions options);
  ~UpstreamPool();
  UpstreamPool(const UpstreamPool&) = delete;
  UpstreamPool& operator=(const UpstreamPool&) = delete;

  // Sends `request`; `callback` gets the answer (contract 1) no later than shortly after
  // `deadline`. Any thread.
  void Send(const HttpClientRequest& request, UpstreamClock::time_point deadline,
            UpstreamCallback callback);
  // Contract 4. Any thread.
  void Abort(std::string reason);
  void Close();

  const std::string& address() const { return address_; }

 private:
  struct Connection;
  struct Exchange;
  using ExchangePtr = std::shared_ptr<Exchange>;

  void Start(const ExchangePtr& exchange);
  void Connect(const ExchangePtr& exchange);
  void Handshake(const ExchangePtr& exchange);  // contract 5
  void Run(const ExchangePtr& exchange, std::unique_ptr<Connection> connection, bool reused);
  void Read(const ExchangePtr& exchange);
  void OnResponse(const ExchangePtr& exchange);
  void OnFailure(const ExchangePtr& exchange, const char* step, boost::system::error_code ec);
  void Enqueue(const ExchangePtr& exchange);
  void OnWaitExpired(const ExchangePtr& exchange);
  void Release(std::unique_ptr<Connection> connection);
  void Discard(std::unique_ptr<Connection> connection);
  void ServeWaiter();
  std::unique_ptr<Connection> TakeIdle();
  void AbortOnStrand(const std::string& reason);
  void Complete(const ExchangePtr& exchange, Result<HttpResponse> result);

  const std::string address_;
  const boost::asio::ip::tcp::endpoint endpoint_;
  const UpstreamPoolOptions options_;
  std::string tls_host_;  // the host part of address_, which a TLS upstream must be named for
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;

  // Everything below is touched only on strand_.
  bool closed_ = false;
  size_t open_ = 0;  // connections open: running, connecting or idle
  uint64_t next_exchange_id_ = 0;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::deque<ExchangePtr> waiters_;
  std::map<uint64_t, ExchangePtr> running_;  // holding a connection (connecting or exchanging)
};

}  // namespace meridian::router
