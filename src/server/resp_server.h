// RespServer: the region's Redis-protocol listener, on the region's event loop.
//
// Each connection parses what it reads (resp/resp_parser.h), plans each command
// (server/resp_commands.h) and hands its node commands to the region; replies go back in command
// order, however their durability waits interleave, so pipelining works. All of it runs on the
// loop thread: no locks, no hand-offs.
//
// Contract:
//  1. Replies leave in the order the commands arrived, one per command.
//  2. A framing error is answered with its RESP error and the connection closed after it; other
//     connections are not disturbed. A bad command (unknown, wrong arity, WRONGTYPE, bad data)
//     gets its error and changes nothing.
//  3. While the region loads, every command is answered "-LOADING ...", as Redis does.
//  4. A connection stops reading while it has limits.max_pending_commands unanswered or its
//     output is past kMaxOutputBytes, so a client that pipelines without reading cannot grow our
//     memory (backpressure: TCP holds the rest in the client's socket).
//  5. Stop() closes the listener and every connection; replies still due are dropped.
//  6. Before anything else a command passes the connection's auth gate (auth/resp_gate.h):
//     AUTH / HELLO ... AUTH, -NOAUTH before them, -WRONGPASS, -NOPERM; a refused command runs
//     nowhere.
//  7. At most limits.max_connections connections are served; one more is answered
//     "-ERR max number of clients reached" (Redis's words) and closed.
//  8. A connection is closed without a reply when nothing was read from or written to it for
//     limits.idle_timeout_ms, or when a command whose first byte arrived is still incomplete
//     limits.command_timeout_ms later (slowloris).
//  9. A command whose node commands the region will not take now (Hooks::admit false) is
//     answered with an error and changes nothing.
// 10. With a TLS context every connection is TLS (net/tls_context.h: TLS 1.3 only), its socket
//     type chosen at accept, so the plaintext path has no TLS in it. A handshake must finish
//     within limits.command_timeout_ms; one that fails (a plaintext client, a client that does
//     not trust the certificate) closes that connection only and counts in
//     tls_handshakes_failed(), by reason in tls_handshake_failures() (one timed out counts
//     as "timeout" there, not in command_timeouts()). Past max_connections a TLS client is closed
//     unanswered.
// 11. Every command answered (refusals, LOADING and auth errors included; a framing error is not a
//     command) is counted in Hooks::command_metrics once, when its reply is ready, by command
//     name and whether the reply is an error, with the time since it was parsed. A command whose
//     connection closed before its reply was ready is not counted.
// 12. Replies made ready while writes are held (HoldWrites() .. ReleaseWrites(), nested; and while
//     a connection parses what one read brought) leave when the outermost hold ends, in one write
//     per connection: the replies of a pipelined read, or of a region pass that answered several
//     commands of one connection, cost one send, not one per reply and a second for the rest.
#pragma once

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "auth/key_store.h"
#include "base/status.h"
#include "net/tls_handshake_failure.h"
#include "node/commands.h"
#include "node/region_node.h"
#include "server/resp_command_metrics.h"
#include "server/resp_commands.h"

namespace boost::asio::ssl {
class context;
}

namespace meridian {

// Every bound of the listener, with the reason for its default.
struct RespServerLimits {
  // Redis's maxclients default; see HttpServerOptions::max_connections.
  size_t max_connections = 10'000;
  // Parsed commands not yet answered, per connection: enough for any client's pipeline window
  // (redis-benchmark -P 1000) while bounding what one connection can queue in the region.
  size_t max_pending_commands = 1024;
  // Redis's `timeout` defaults to 0 (never): we close after 5 minutes of silence instead, so
  // abandoned connections do not accumulate up to max_connections. Client pools reconnect on
  // their own; 5 minutes is far beyond any pool's health-check interval. 0: never.
  int idle_timeout_ms = 300'000;
  // A started command must be complete within this: 10 s is a 1 MiB value at under 1 Mbit/s,
  // the same bound as the HTTP listener's request_timeout_ms.
  int command_timeout_ms = 10'000;
};

class RespServer {
 public:
  struct Hooks {
    std::function<bool()> loading;
    // The node (only called when not loading).
    std::function<const RegionNode&()> node;
    // Hands `command` to the node; `done` gets its reply, on the loop.
    std::function<void(NodeCommand command, std::function<void(NodeReply)> done)> submit;
    std::function<uint64_t()> now_steady_ms;
    // The API keys (auth/resp_gate.h), owned by the region and outliving this server; nullptr:
    // authentication off.
    const auth::KeyStore* keys = nullptr;
    // Whether the region takes `commands` more node commands now (contract 9); the refusal's
    // message when it does not. Unset: always.
    std::function<std::optional<std::string>(size_t commands)> admit;
    // Counts and times every command answered (contract 11), owned by the region and outliving
    // this server; nullptr: none.
    RespCommandMetrics* command_metrics = nullptr;
  };

  // `tls`: the server context of contract 10; null: plaintext.
  RespServer(boost::asio::io_context& loop, std::string address, RespOptions options, Hooks hooks,
             RespServerLimits limits = {}, std::shared_ptr<boost::asio::ssl::context> tls = {});
  ~RespServer();
  RespServer(const RespServer&) = delete;
  RespServer& operator=(const RespServer&) = delete;

  // Binds and listens (any thread, before the loop serves it).
  Status Start();
  // On the loop thread.
  void Stop();
  // On the loop thread, every tick: answers WAITs that are satisfied or timed out.
  void OnTick();
  // On the loop thread (contract 12): the region holds writes while it answers a pass.
  void HoldWrites();
  void ReleaseWrites();
  uint16_t port() const;
  // On the loop thread: connections refused for max_connections, and closed for each timeout.
  uint64_t connections_refused() const;
  uint64_t idle_timeouts() const;
  uint64_t command_timeouts() const;
  uint64_t tls_handshakes_failed() const;  // contract 10
  uint64_t writes() const;                 // replies written, one per send (contract 12)
  // The same by reason (net/tls_handshake_failure.h); lives as long as the server.
  const TlsHandshakeFailures& tls_handshake_failures() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace meridian
