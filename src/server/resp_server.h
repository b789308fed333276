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
//  4. A connection stops reading while it has kMaxPendingCommands unanswered or its output is
//     past kMaxOutputBytes, so a client that pipelines without reading cannot grow our memory.
//  5. Stop() closes the listener and every connection; replies still due are dropped.
//  6. Before anything else a command passes the connection's auth gate (auth/resp_gate.h):
//     AUTH / HELLO ... AUTH, -NOAUTH before them, -WRONGPASS, -NOPERM; a refused command runs
//     nowhere.
#pragma once

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "auth/key_store.h"
#include "base/status.h"
#include "node/commands.h"
#include "node/region_node.h"
#include "server/resp_commands.h"

namespace meridian {

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
  };

  RespServer(boost::asio::io_context& loop, std::string address, RespOptions options, Hooks hooks);
  ~RespServer();
  RespServer(const RespServer&) = delete;
  RespServer& operator=(const RespServer&) = delete;

  // Binds and listens (any thread, before the loop serves it).
  Status Start();
  // On the loop thread.
  void Stop();
  // On the loop thread, every tick: answers WAITs that are satisfied or timed out.
  void OnTick();
  uint16_t port() const;

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace meridian
