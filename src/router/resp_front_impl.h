// Internal to RespFront: its state (resp_front.cc: listener, upstream table, lifecycle) and one
// client connection (resp_client.cc: parsing, dispatch and failover, replies in order).
//
// Invariants:
//  1. Everything here is touched only on `strand`.
//  2. upstreams[region][protocol] holds connections_per_region entries, created at Start() and
//     never replaced (each reconnects on its own after a failure).
//  3. A client's commands in flight are all on `bound` (RespFront contract 2).
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "auth/resp_gate.h"
#include "resp/resp_parser.h"
#include "router/resp_front.h"
#include "router/resp_own_commands.h"
#include "router/resp_route.h"
#include "router/resp_upstream.h"

namespace meridian::router {

class RespClient;

struct RespFront::Impl : std::enable_shared_from_this<RespFront::Impl> {
  Impl(boost::asio::io_context& ioc, RespFrontOptions o, RespFrontHooks h, RouterMetrics& m);

  void Accept();
  void StopOnStrand();
  // Closes the clients past a timeout (contract 10) and schedules the next sweep.
  void Sweep();
  // The upstream connection for client `client_id`'s commands to `slice` of `region` in
  // `version`.
  const std::shared_ptr<RespUpstream>& Upstream(RegionId region, uint32_t slice,
                                                RespVersion version, uint64_t client_id) const;

  const RespFrontOptions options;
  const RespFrontHooks hooks;
  RouterMetrics& metrics;
  // meridian_router_resp_commands_total's children, resolved once (no label lookup per
  // command): by the RegionId whose reply was relayed, then "none" and "router".
  std::vector<Counter*> commands_relayed;
  Counter& commands_unserved;
  Counter& commands_answered_here;
  RespStrand strand;
  boost::asio::ip::tcp::acceptor acceptor;
  boost::asio::steady_timer sweep_timer;
  std::string bound_address;
  // [region * slices + slice][0: RESP2, 1: RESP3][i]
  std::vector<std::vector<std::vector<std::shared_ptr<RespUpstream>>>> upstreams;
  std::map<uint64_t, std::shared_ptr<RespClient>> clients;
  uint64_t next_client_id = 1;
  bool stopped = false;
};

// One client connection.
class RespClient : public std::enable_shared_from_this<RespClient> {
 public:
  RespClient(RespFront::Impl& front, boost::asio::ip::tcp::socket socket, uint64_t id);

  void Start();  // after the TLS handshake, if the front end serves TLS (contract 9)
  // "handshake", "command" or "idle" when the connection is past that timeout at `now`
  // (contract 10),
  // else nullptr.
  const char* TimedOut(RespClock::time_point now) const;
  // Closes the socket and leaves the front's table; commands in flight are answered to no one.
  void Close();

 private:
  // One client command, from arrival until its reply is handed to the output.
  struct Command {
    uint64_t seq = 0;
    RespCommandKind kind = RespCommandKind::kOther;
    RespVersion version = RespVersion::kResp2;
    RegionId location = 0;
    uint32_t slice = 0;                   // resp_route.h rule 9
    std::string request;                  // identical on every attempt, idempotency key included
    std::vector<RegionId> tried;          // each region at most once
    std::vector<RegionId> barred;         // outside the keys' residency set: never tried
    std::string allowed_names;            // "eu, eu2" when some are barred, for errors
    std::optional<std::string> fallback;  // the last retryable error reply of a region
    std::string errors;                   // what each failed attempt said
    bool done = false;
    bool close_after = false;
    std::string reply;
    bool sessioned = false;  // sent in MERIDIAN.SESSIONED: its reply is unwrapped (rule 7)
    // WAIT (rule 8): its arguments, and how long the region may hold it on top of the
    // forward timeout.
    std::string wait_regions;
    std::string wait_timeout;
    int64_t wait_ms = 0;
  };
  using CommandPtr = std::shared_ptr<Command>;

  void Read();
  void Parse();
  void Execute(std::span<const std::string_view> args);
  void Dispatch();
  // Sends `command` to `region` (after the commands in flight, contract 2).
  void Send(const CommandPtr& command, RegionId region);
  // Rule 8: WAIT, once the commands before it are answered.
  void SendWait(const CommandPtr& command);
  // Execute for WAIT: checks its arguments as a region does.
  void ExecuteWait(const CommandPtr& command, std::span<const std::string_view> args);
  void OnReply(const CommandPtr& command, RegionId region, Result<std::string> result);
  void FinishWithoutRegion(const CommandPtr& command);
  void Finish(const CommandPtr& command, std::string reply, std::optional<RegionId> region);
  void Pump();
  void Write();
  bool Paused() const;
  // `f(stream)` with the TLS stream when there is one, else the socket.
  template <typename F>
  void WithStream(F&& f) {
    if (tls_) return f(*tls_);
    f(socket_);
  }

  RespFront::Impl& front_;
  boost::asio::ip::tcp::socket socket_;
  // Over socket_ when the front end serves TLS (options.listener_tls), else null.
  std::unique_ptr<boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>> tls_;
  const uint64_t id_;
  RespParser parser_;
  RespClientState state_;
  auth::RespAuthState auth_;
  std::deque<CommandPtr> slots_;            // every unanswered or unsent reply, in order
  std::map<uint64_t, CommandPtr> waiting_;  // to be sent (again), oldest first
  std::shared_ptr<RespUpstream> bound_;     // invariant 3; null when nothing is in flight
  size_t in_flight_ = 0;
  size_t request_bytes_ = 0;  // of commands not yet answered
  uint64_t next_seq_ = 0;
  std::string output_;
  std::string in_write_;
  bool reading_ = false;
  bool writing_ = false;
  bool stop_reading_ = false;
  bool parse_pending_ = false;  // Parse stopped on a bound, not for want of bytes
  bool close_after_ = false;
  bool closed_ = false;
  bool handshaking_ = false;               // a TLS handshake is under way (contract 10)
  RespClock::time_point last_activity_{};  // accept, or the last read or write completed
  // When the incomplete command left in the parser began; nullopt: none (contract 10).
  std::optional<RespClock::time_point> partial_since_;
};

}  // namespace meridian::router
