// RespPool: the load generator's Redis-protocol client for one target (a Meridian region's or
// router's resp listener, or redis-server), the RESP counterpart of HttpPool.
//
// It reuses the router's upstream connection (router/resp_upstream.h): connections_max of them,
// each one TCP connection that matches replies to requests by position.
//
// Contract:
//  1. Send() never blocks and never calls back inside itself. A request goes to the connection
//     with the fewest requests outstanding (an idle one when there is one, so with as many
//     connections as requests in flight nothing is pipelined, as with redis-benchmark without -P).
//  2. Every request's callback runs exactly once, on the io_context's thread: with status 200 and
//     the reply frame as body for any reply but an error; with error set to the error reply's code
//     ("ERR", "WRONGTYPE", "NOAUTH"), "timeout" (no reply within timeout_ms), or "unavailable:
//     ..." (connect, write or read failed). A failed connection fails what it had in flight and
//     reconnects for the next request.
//  3. With an auth key, every connection sends `AUTH key` first (an error reply fails it).
//  4. Single-threaded like HttpPool: calls and callbacks on the one thread running the io_context.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "gen/http_pool.h"
#include "router/resp_upstream.h"

namespace meridian {

struct RespPoolOptions {
  size_t connections_max = 16;
  int timeout_ms = 5'000;
  std::string auth_key;  // "": no AUTH
};

class RespPool {
 public:
  RespPool(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& endpoint,
           const RespPoolOptions& options);
  RespPool(const RespPool&) = delete;
  RespPool& operator=(const RespPool&) = delete;

  // `request`: one whole RESP command (resp/resp_writer.h EncodeCommand).
  void Send(std::string request, PoolCallback callback);
  // Closes the connections with nothing in flight. Call when the run is over (and again after
  // the last completion: busy connections stay open until then).
  void CloseIdle();

 private:
  const RespPoolOptions options_;
  router::RespStrand strand_;
  std::vector<std::shared_ptr<router::RespUpstream>> connections_;
};

}  // namespace meridian
