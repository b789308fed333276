#include "tools/wan/proxy_connection.h"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>

#include "tools/wan/proxy_server.h"
#include "tools/wan/wan_capture.h"

namespace meridian::wan {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using std::chrono::microseconds;
using std::chrono::milliseconds;

namespace {

// Under a bandwidth toxic a chunk is released in pieces of about 10 ms of transmission, so a
// large read does not arrive as one late burst; never below this many bytes per piece.
constexpr size_t kBandwidthPieceBytesMin = 512;

// Sum of this stream's latency toxics, each with its own jitter draw.
microseconds LatencyFor(const ProxyShape& shape, ToxicStream stream, Random& rng) {
  int64_t total_us = 0;
  for (const Toxic& toxic : shape.toxics) {
    if (toxic.type != ToxicType::kLatency || toxic.stream != stream) continue;
    int64_t delay_us = toxic.latency_ms * 1000;
    if (toxic.jitter_ms > 0) delay_us += rng.Range(-toxic.jitter_ms * 1000, toxic.jitter_ms * 1000);
    total_us += std::max<int64_t>(0, delay_us);
  }
  return microseconds(total_us);
}

// The smallest positive bandwidth toxic rate on this stream in KB/s, or 0 for none.
int64_t RateFor(const ProxyShape& shape, ToxicStream stream) {
  int64_t rate = 0;
  for (const Toxic& toxic : shape.toxics) {
    if (toxic.type != ToxicType::kBandwidth || toxic.stream != stream || toxic.rate_kbps <= 0) {
      continue;
    }
    rate = rate == 0 ? toxic.rate_kbps : std::min(rate, toxic.rate_kbps);
  }
  return rate;
}

bool TimesOut(const ProxyShape& shape, ToxicStream stream) {
  return std::any_of(shape.toxics.begin(), shape.toxics.end(), [&](const Toxic& toxic) {
    return toxic.type == ToxicType::kTimeout && toxic.stream == stream;
  });
}

}  // namespace

ProxyConnection::ProxyConnection(ProxyServer& proxy, uint64_t id, Executor strand,
                                 tcp::socket client, bool severed, uint64_t seed)
    : proxy_(proxy),
      id_(id),
      strand_(strand),
      client_(std::move(client)),
      upstream_(strand),
      up_(ToxicStream::kUpstream, client_, upstream_, strand),
      down_(ToxicStream::kDownstream, upstream_, client_, strand),
      timeout_timer_(strand),
      rng_(seed),
      severed_(severed) {}

void ProxyConnection::Start(tcp::endpoint upstream) {
  asio::post(strand_, [self = shared_from_this(), upstream] {
    if (self->closed_ || self->severed_) return;  // accepted during a cut: held, not dialled
    self->upstream_.async_connect(upstream,
                                  [self](boost::system::error_code ec) { self->OnConnect(ec); });
  });
}

void ProxyConnection::Sever() {
  asio::post(strand_, [self = shared_from_this()] { self->SeverNow(); });
}

void ProxyConnection::AbortIfSevered() {
  asio::post(strand_, [self = shared_from_this()] {
    if (self->severed_) self->Close(/*reset=*/true);
  });
}

void ProxyConnection::Abort() {
  asio::post(strand_, [self = shared_from_this()] { self->Close(/*reset=*/true); });
}

void ProxyConnection::OnToxicsChanged() {
  asio::post(strand_, [self = shared_from_this()] { self->RearmTimeout(); });
}

void ProxyConnection::OnConnect(boost::system::error_code ec) {
  if (closed_) return;
  if (ec) return Close(/*reset=*/true);  // upstream refused: the client sees a reset
  if (severed_) return;                  // cut while dialling: held until the heal resets it
  connected_ = true;
  boost::system::error_code ignored;
  client_.set_option(tcp::no_delay(true), ignored);  // the link adds latency, not Nagle
  upstream_.set_option(tcp::no_delay(true), ignored);
  RearmTimeout();
  StartRead(up_);
  StartRead(down_);
}

void ProxyConnection::StartRead(Pipe& pipe) {
  if (closed_ || severed_ || !connected_ || pipe.reading || pipe.source_done ||
      pipe.queued_bytes >= kPipeQueuedBytesMax) {
    return;
  }
  pipe.reading = true;
  pipe.from.async_read_some(
      asio::buffer(pipe.buffer),
      [self = shared_from_this(), &pipe](boost::system::error_code ec, size_t bytes) {
        self->OnRead(pipe, ec, bytes);
      });
}

void ProxyConnection::OnRead(Pipe& pipe, boost::system::error_code ec, size_t bytes) {
  pipe.reading = false;
  if (closed_) return;
  const std::shared_ptr<const ProxyShape> shape = proxy_.Shape();
  if (!shape->enabled) SeverNow();  // the cut happened; Sever() is on its way
  LinkTraffic& traffic = proxy_.traffic();
  const auto direction = static_cast<size_t>(pipe.stream);
  if (severed_) {  // bytes read during a cut are lost, as on the wire
    if (!ec) traffic.bytes_dropped_partition[direction].fetch_add(bytes, std::memory_order_relaxed);
    return;
  }
  const bool dropped = TimesOut(*shape, pipe.stream);
  if (dropped && !ec) {
    traffic.bytes_dropped_timeout[direction].fetch_add(bytes, std::memory_order_relaxed);
  }
  if (ec == asio::error::eof) {
    pipe.source_done = true;
    if (!dropped) Enqueue(pipe, std::string(), /*fin=*/true, *shape);
    return;
  }
  if (ec) return Close(/*reset=*/true);
  TEST_Capture(std::string_view(pipe.buffer.data(), bytes));
  if (!dropped) Enqueue(pipe, std::string(pipe.buffer.data(), bytes), /*fin=*/false, *shape);
  StartRead(pipe);
}

void ProxyConnection::Enqueue(Pipe& pipe, std::string bytes, bool fin, const ProxyShape& shape) {
  Clock::time_point release =
      std::max(Clock::now() + LatencyFor(shape, pipe.stream, rng_), pipe.last_release);
  const int64_t rate_kbps = RateFor(shape, pipe.stream);
  if (rate_kbps == 0 || fin) {
    pipe.queued_bytes += bytes.size();
    pipe.queue.push_back(Chunk{std::move(bytes), fin, release});
  } else {
    // rate KB/s = rate bytes per ms: a piece of n bytes occupies the link n * 1000 / rate us.
    const size_t piece_bytes =
        std::max(kBandwidthPieceBytesMin, static_cast<size_t>(rate_kbps) * 10);
    for (size_t at = 0; at < bytes.size(); at += piece_bytes) {
      std::string piece = bytes.substr(at, piece_bytes);
      const Clock::time_point start = std::max(release, pipe.bandwidth_free_at);
      pipe.bandwidth_free_at =
          start + microseconds(static_cast<int64_t>(piece.size()) * 1000 / rate_kbps);
      release = pipe.bandwidth_free_at;
      pipe.queued_bytes += piece.size();
      pipe.queue.push_back(Chunk{std::move(piece), false, release});
    }
  }
  pipe.last_release = release;
  ScheduleWrite(pipe);
}

void ProxyConnection::ScheduleWrite(Pipe& pipe) {
  if (closed_ || severed_ || pipe.waiting || pipe.writing || pipe.queue.empty()) return;
  pipe.waiting = true;
  pipe.timer.expires_at(pipe.queue.front().release_at);
  pipe.timer.async_wait([self = shared_from_this(), &pipe](boost::system::error_code ec) {
    self->OnTimer(pipe, ec);
  });
}

void ProxyConnection::OnTimer(Pipe& pipe, boost::system::error_code ec) {
  pipe.waiting = false;
  if (ec || closed_ || severed_ || pipe.queue.empty()) return;
  Chunk& head = pipe.queue.front();
  if (head.fin) {
    boost::system::error_code ignored;
    pipe.to.shutdown(tcp::socket::shutdown_send, ignored);
    pipe.sink_done = true;
    pipe.queue.pop_front();
    if (up_.sink_done && down_.sink_done) Close(/*reset=*/false);
    return;
  }
  pipe.writing = true;
  asio::async_write(pipe.to, asio::buffer(head.bytes),
                    [self = shared_from_this(), &pipe](boost::system::error_code write_ec, size_t) {
                      self->OnWrite(pipe, write_ec);
                    });
}

void ProxyConnection::OnWrite(Pipe& pipe, boost::system::error_code ec) {
  pipe.writing = false;
  if (closed_) return;
  if (ec) return Close(/*reset=*/true);
  LinkTraffic& traffic = proxy_.traffic();
  const auto direction = static_cast<size_t>(pipe.stream);
  traffic.bytes_forwarded[direction].fetch_add(pipe.queue.front().bytes.size(),
                                               std::memory_order_relaxed);
  traffic.chunks_forwarded[direction].fetch_add(1, std::memory_order_relaxed);
  pipe.queued_bytes -= pipe.queue.front().bytes.size();
  pipe.queue.pop_front();
  StartRead(pipe);  // resumes a read paused by a full queue (invariant 2)
  ScheduleWrite(pipe);
}

void ProxyConnection::SeverNow() {
  if (closed_ || severed_) return;
  severed_ = true;
  DropQueue(up_);
  DropQueue(down_);
}

void ProxyConnection::DropQueue(Pipe& pipe) {
  pipe.timer.cancel();
  // A chunk being written stays alive until its write completes; everything else is dropped.
  const size_t keep = pipe.writing ? 1 : 0;
  uint64_t dropped = 0;
  while (pipe.queue.size() > keep) {
    dropped += pipe.queue.back().bytes.size();
    pipe.queue.pop_back();
  }
  proxy_.traffic().bytes_dropped_partition[static_cast<size_t>(pipe.stream)].fetch_add(
      dropped, std::memory_order_relaxed);
  pipe.queued_bytes = keep == 1 ? pipe.queue.front().bytes.size() : 0;
}

void ProxyConnection::RearmTimeout() {
  if (closed_ || !connected_) return;
  int64_t timeout_ms = 0;
  for (const Toxic& toxic : proxy_.Shape()->toxics) {
    if (toxic.type != ToxicType::kTimeout || toxic.timeout_ms <= 0) continue;
    timeout_ms = timeout_ms == 0 ? toxic.timeout_ms : std::min(timeout_ms, toxic.timeout_ms);
  }
  if (timeout_ms == 0) {
    if (timeout_armed_) timeout_timer_.cancel();
    timeout_armed_ = false;
    ++timeout_generation_;
    return;
  }
  if (timeout_armed_) return;  // keep the earlier deadline
  timeout_armed_ = true;
  // The generation tells a stale expiry (cancelled after it had already fired) from this one.
  const uint64_t generation = ++timeout_generation_;
  timeout_timer_.expires_after(milliseconds(timeout_ms));
  timeout_timer_.async_wait([self = shared_from_this(), generation](boost::system::error_code ec) {
    if (ec || self->closed_ || generation != self->timeout_generation_) return;
    self->timeout_armed_ = false;
    self->Close(/*reset=*/false);
  });
}

void ProxyConnection::Close(bool reset) {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ignored;
  for (tcp::socket* socket : {&client_, &upstream_}) {
    // linger(true, 0) makes close() send RST: both ends see the connection break at once.
    if (reset && socket->is_open()) socket->set_option(tcp::socket::linger(true, 0), ignored);
    socket->close(ignored);
  }
  up_.timer.cancel();
  down_.timer.cancel();
  timeout_timer_.cancel();
  proxy_.Forget(id_);
}

}  // namespace meridian::wan
