// ProxyConnection: one client connection through a WAN proxy, and its upstream connection.
//
// Each direction is a Pipe: a read loop that stamps every chunk with a release time and queues
// it, and a write loop that waits (an Asio timer, no sleeping thread) until the head chunk's
// release time and writes it. Reading and writing are independent, so a 40 ms link carries a
// stream of chunks each 40 ms late, not 40 ms per chunk in turn.
//
// Invariants:
//  1. Bytes of one direction are written in the order they were read: a chunk's release time is
//     never earlier than the previous chunk's (release = max(now + delay, previous release)).
//  2. A direction queues at most kPipeQueuedBytesMax; when full it stops reading, so the sender
//     feels TCP backpressure, as behind a slow link, instead of the proxy growing without bound.
//  3. Everything runs on the connection's strand; the proxy reaches it only by posting.
//  4. Partition semantics (DESIGN: a cut link, then a heal):
//     - Sever(): the link is cut. Nothing more is delivered in either direction: queued chunks
//       are dropped (they were "on the wire"), and reading stops, so senders block once their
//       socket buffers fill, as on a real cut. A connection accepted during a cut is held the
//       same way, never dialled upstream.
//     - AbortIfSevered(): the link healed. Every connection that saw the cut is reset (RST to both
//       ends) and no held byte is ever delivered. Peers see a broken connection, reconnect, and a
//       replication protocol resends from its last acknowledged position; there is no silent gap
//       inside a live TCP stream.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "base/random.h"
#include "tools/wan/toxic.h"

namespace meridian::wan {

class ProxyServer;
struct ProxyShape;

// At 150 ms one way this holds ~27 MB/s of in-flight data per direction: far above the lab's
// replication rates, small enough that a stalled peer costs little memory.
inline constexpr size_t kPipeQueuedBytesMax = 4 << 20;
inline constexpr size_t kReadChunkBytes = 64 << 10;

class ProxyConnection : public std::enable_shared_from_this<ProxyConnection> {
 public:
  using Clock = std::chrono::steady_clock;
  using Executor = boost::asio::strand<boost::asio::io_context::executor_type>;

  // `client` must use `strand` as its executor. `severed`: accepted while the proxy is disabled.
  ProxyConnection(ProxyServer& proxy, uint64_t id, Executor strand,
                  boost::asio::ip::tcp::socket client, bool severed, uint64_t seed);

  // All of these may be called from any thread; they post to the strand.
  void Start(boost::asio::ip::tcp::endpoint upstream);
  void Sever();
  void AbortIfSevered();
  void Abort();
  void OnToxicsChanged();

 private:
  struct Chunk {
    std::string bytes;  // empty with fin: the source closed its sending side
    bool fin = false;
    Clock::time_point release_at;
  };
  struct Pipe {
    Pipe(ToxicStream s, boost::asio::ip::tcp::socket& f, boost::asio::ip::tcp::socket& t,
         const Executor& strand)
        : stream(s), from(f), to(t), timer(strand) {}
    const ToxicStream stream;
    boost::asio::ip::tcp::socket& from;
    boost::asio::ip::tcp::socket& to;
    std::array<char, kReadChunkBytes> buffer{};
    std::deque<Chunk> queue;
    size_t queued_bytes = 0;
    boost::asio::steady_timer timer;
    Clock::time_point last_release{};
    Clock::time_point bandwidth_free_at{};
    bool reading = false;      // an async_read_some is outstanding
    bool waiting = false;      // the timer is armed for the head chunk
    bool writing = false;      // an async_write of the head chunk is outstanding
    bool source_done = false;  // EOF was read and queued as a fin
    bool sink_done = false;    // the fin was written (shutdown send)
  };

  void OnConnect(boost::system::error_code ec);
  void StartRead(Pipe& pipe);
  void OnRead(Pipe& pipe, boost::system::error_code ec, size_t bytes);
  void Enqueue(Pipe& pipe, std::string bytes, bool fin, const ProxyShape& shape);
  void ScheduleWrite(Pipe& pipe);
  void OnTimer(Pipe& pipe, boost::system::error_code ec);
  void OnWrite(Pipe& pipe, boost::system::error_code ec);
  void SeverNow();
  void RearmTimeout();
  void DropQueue(Pipe& pipe);
  void Close(bool reset);

  ProxyServer& proxy_;
  const uint64_t id_;
  Executor strand_;
  boost::asio::ip::tcp::socket client_;
  boost::asio::ip::tcp::socket upstream_;
  Pipe up_;    // client -> upstream
  Pipe down_;  // upstream -> client
  boost::asio::steady_timer timeout_timer_;
  Random rng_;
  bool connected_ = false;
  bool severed_ = false;
  bool closed_ = false;
  bool timeout_armed_ = false;
  uint64_t timeout_generation_ = 0;
};

}  // namespace meridian::wan
