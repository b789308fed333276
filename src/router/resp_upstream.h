// RespUpstream: one RESP connection from the router to one region's resp listener, shared by the
// client connections whose commands go to that region (multiplexed, as twemproxy and Envoy's
// Redis proxy do: a RESP server answers a connection's commands in order, so replies are matched
// to requests by position).
//
// Contract:
//  1. Send queues a request and calls its callback exactly once, on the strand and never inside
//     Send itself: with the reply,
//     one whole frame byte for byte, or with Unavailable (connect, write or read failed, the
//     region closed the connection, or Abort), DeadlineExceeded (no reply by the deadline) or
//     Internal (the region sent a malformed reply).
//  2. Requests are written in the order of the Send calls, and each reply completes the oldest
//     request still waiting.
//  3. Any failure fails every request in flight, in order, and closes the connection; the next
//     Send opens a new one. A failed request is never completed again: a late reply on the old
//     connection is never read.
//  4. A RESP3 upstream sends HELLO 3 first on every new connection and keeps its reply to itself;
//     an error reply to it fails the connection.
//  5. Everything runs on the strand given at construction; Send and Abort are called on it. At
//     most max_in_flight requests wait at once; Send refuses more (ResourceExhausted), which the
//     router's per-client bounds keep from happening in practice.
//  6. With options.tls, every connection is TLS 1.3 and nothing is written before its handshake
//     verified the region's certificate against the context's CA and against tls_host; a failed
//     verification or handshake fails the connection as a failed connect does (Unavailable,
//     "TLS handshake: ...").
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "base/status.h"
#include "resp/resp_reply_framer.h"
#include "resp/resp_writer.h"

namespace boost::asio::ssl {
class context;
}

namespace meridian::router {

using RespStrand = boost::asio::strand<boost::asio::io_context::executor_type>;
using RespClock = std::chrono::steady_clock;
using RespReplyCallback = std::function<void(Result<std::string>)>;

struct RespUpstreamOptions {
  // Requests waiting on one connection: the router's client bounds (1024 commands each) times a
  // lab's worth of clients sharing the path; past it something is wrong, and refusing beats
  // growing.
  size_t max_in_flight = 65'536;
  RespReplyFramerOptions framer;
  // Sent as `AUTH key` first on every new connection when set (the regions require a key); an
  // error reply to it fails the connection, as HELLO 3's does.
  std::string auth_key;
  // Contract 6: the client context (net/tls_context.h MakeClientTlsContext), null: plaintext;
  // and the host the region's certificate must name (the host part of the address dialled).
  std::shared_ptr<boost::asio::ssl::context> tls;
  std::string tls_host;
};

class RespUpstream : public std::enable_shared_from_this<RespUpstream> {
 public:
  // `name` ("region us at 127.0.0.1:6401") prefixes every error.
  RespUpstream(RespStrand strand, boost::asio::ip::tcp::endpoint endpoint, std::string name,
               RespVersion version, RespUpstreamOptions options);
  ~RespUpstream();
  RespUpstream(const RespUpstream&) = delete;
  RespUpstream& operator=(const RespUpstream&) = delete;

  // Contract 1-3. REQUIRES: on the strand; `request` is one or more whole RESP requests that get
  // exactly one reply (one command).
  void Send(std::string_view request, RespClock::time_point deadline, RespReplyCallback callback);
  // Fails everything in flight with `status` and closes the connection (contract 3). On the strand.
  void Abort(const Status& status);

  size_t in_flight() const { return pending_.size(); }
  const std::string& name() const { return name_; }

 private:
  struct Link;
  struct Pending {
    RespClock::time_point deadline;
    RespReplyCallback callback;  // empty for the connection's own HELLO 3
  };

  void Connect();
  void Handshake();  // contract 6
  void Write();
  void Read();
  void OnReplies();
  void ArmTimer();
  void OnTimer();
  void Fail(const Status& status);

  const RespStrand strand_;
  const boost::asio::ip::tcp::endpoint endpoint_;
  const std::string name_;
  const RespVersion version_;
  const RespUpstreamOptions options_;

  std::shared_ptr<Link> link_;  // the open or opening connection; null when closed
  bool open_ = false;           // connected
  bool writing_ = false;
  std::deque<Pending> pending_;  // sent or about to be, oldest first
  std::string out_;              // requests not yet handed to the socket
  std::string in_;               // bytes read and not yet relayed
  size_t in_start_ = 0;          // where the current reply starts in in_
  RespReplyFramer framer_;

  boost::asio::steady_timer timer_;
  uint64_t timer_seq_ = 0;  // a wait whose sequence is not this one was superseded
  bool timer_armed_ = false;
  RespClock::time_point armed_for_{};
};

}  // namespace meridian::router
