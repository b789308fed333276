#include "router/resp_upstream.h"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "net/tls_context.h"

#include <utility>

#include "base/assert.h"

namespace meridian::router {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t kReadChunk = 16 << 10;
// Relayed bytes are dropped from the front of the read buffer once this many have gathered, so
// a busy connection moves memory rarely and an idle one holds little.
constexpr size_t kCompactBytes = 64 << 10;
constexpr std::string_view kHello3 = "*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n";

}  // namespace

// One TCP connection's socket and buffers, kept alive by the handlers that use them; a handler
// whose link is no longer the upstream's current one belongs to a failed connection and returns.
struct RespUpstream::Link {
  explicit Link(const RespStrand& strand) : socket(strand) {}
  // `f(stream)` with the TLS stream when there is one, else the socket (contract 6).
  template <typename F>
  void WithStream(F&& f) {
    if (tls) return f(*tls);
    f(socket);
  }
  tcp::socket socket;
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls;  // over `socket`, once connected
  std::string writing;                                   // the bytes async_write is sending
  char chunk[kReadChunk];
};

RespUpstream::RespUpstream(RespStrand strand, tcp::endpoint endpoint, std::string name,
                           RespVersion version, RespUpstreamOptions options)
    : strand_(std::move(strand)),
      endpoint_(std::move(endpoint)),
      name_(std::move(name)),
      version_(version),
      options_(options),
      framer_(options.framer),
      timer_(strand_) {}

RespUpstream::~RespUpstream() = default;

void RespUpstream::Send(std::string_view request, RespClock::time_point deadline,
                        RespReplyCallback callback) {
  MERIDIAN_ASSERT(strand_.running_in_this_thread());
  MERIDIAN_ASSERT(callback);
  if (pending_.size() >= options_.max_in_flight) {
    // Posted: a callback never runs inside Send (callers need not be reentrant).
    Status full = ResourceExhausted(name_ + ": " + std::to_string(options_.max_in_flight) +
                                    " requests already waiting");
    asio::post(strand_,
               [callback = std::move(callback), full = std::move(full)] { callback(full); });
    return;
  }
  pending_.push_back({deadline, std::move(callback)});
  out_.append(request);
  if (!link_) {
    Connect();
  } else if (open_) {
    Write();
  }
  ArmTimer();
}

void RespUpstream::Abort(const Status& status) {
  MERIDIAN_ASSERT(strand_.running_in_this_thread());
  if (link_ || !pending_.empty()) Fail(status);
}

void RespUpstream::Connect() {
  link_ = std::make_shared<Link>(strand_);
  open_ = false;
  if (version_ == RespVersion::kResp3) {
    // Contract 4: first on the wire, first to be answered.
    pending_.push_front({pending_.empty() ? RespClock::now() : pending_.front().deadline, {}});
    out_.insert(0, kHello3);
  }
  if (!options_.auth_key.empty()) {
    pending_.push_front({pending_.empty() ? RespClock::now() : pending_.front().deadline, {}});
    out_.insert(0, "*2\r\n$4\r\nAUTH\r\n$" + std::to_string(options_.auth_key.size()) + "\r\n" +
                       options_.auth_key + "\r\n");
  }
  link_->socket.async_connect(
      endpoint_, [self = shared_from_this(), link = link_](boost::system::error_code ec) {
        if (link != self->link_) return;
        if (ec) return self->Fail(Unavailable(self->name_ + ": connect: " + ec.message()));
        boost::system::error_code ignored;
        link->socket.set_option(tcp::no_delay(true), ignored);
        if (self->options_.tls) return self->Handshake();
        self->open_ = true;
        self->Write();
        self->Read();
      });
}

void RespUpstream::Handshake() {
  link_->tls = std::make_unique<asio::ssl::stream<tcp::socket&>>(link_->socket, *options_.tls);
  if (!VerifyPeerHost(*link_->tls, options_.tls_host)) {
    return Fail(Unavailable(name_ + ": TLS: cannot name host " + options_.tls_host));
  }
  link_->tls->async_handshake(
      asio::ssl::stream_base::client,
      [self = shared_from_this(), link = link_](boost::system::error_code ec) {
        if (link != self->link_) return;
        if (ec) return self->Fail(Unavailable(self->name_ + ": TLS handshake: " + ec.message()));
        self->open_ = true;
        self->Write();
        self->Read();
      });
}

void RespUpstream::Write() {
  if (writing_ || out_.empty() || !open_) return;
  writing_ = true;
  link_->writing.swap(out_);
  out_.clear();
  link_->WithStream([&](auto& stream) {
    asio::async_write(
        stream, asio::buffer(link_->writing),
        [self = shared_from_this(), link = link_](boost::system::error_code ec, size_t) {
          if (link != self->link_) return;
          self->writing_ = false;
          link->writing.clear();
          if (ec) return self->Fail(Unavailable(self->name_ + ": write: " + ec.message()));
          self->Write();
        });
  });
}

void RespUpstream::Read() {
  auto on_read = [self = shared_from_this(), link = link_](boost::system::error_code ec, size_t n) {
    if (link != self->link_) return;
    if (ec) {
      const std::string what =
          ec == asio::error::eof ? "the region closed the connection" : ec.message();
      return self->Fail(Unavailable(self->name_ + ": read: " + what));
    }
    self->in_.append(link->chunk, n);
    self->OnReplies();
    if (link == self->link_) self->Read();
  };
  link_->WithStream([&](auto& stream) {
    stream.async_read_some(asio::buffer(link_->chunk, kReadChunk), std::move(on_read));
  });
}

void RespUpstream::OnReplies() {
  const std::shared_ptr<Link> link = link_;
  for (;;) {
    const std::string_view rest = std::string_view(in_).substr(in_start_);
    const RespReplyFramer::Outcome outcome = framer_.Next(rest);
    if (outcome == RespReplyFramer::Outcome::kNeedMore) break;
    if (outcome == RespReplyFramer::Outcome::kError) {
      return Fail(Internal(name_ + ": malformed reply: " + framer_.error().message()));
    }
    if (pending_.empty()) return Fail(Internal(name_ + ": a reply to no request"));
    std::string frame(rest.substr(0, framer_.frame_bytes()));
    in_start_ += framer_.frame_bytes();
    Pending done = std::move(pending_.front());
    pending_.pop_front();
    if (!done.callback) {
      if (frame.starts_with('-'))
        return Fail(Unavailable(name_ + ": connection setup (AUTH / HELLO 3): " + frame));
      continue;
    }
    done.callback(std::move(frame));
    // The callback may have sent more here, or failed this connection through the router.
    if (link != link_) return;
  }
  if (in_start_ == in_.size()) {
    in_.clear();
    in_start_ = 0;
  } else if (in_start_ >= kCompactBytes) {
    in_.erase(0, in_start_);
    in_start_ = 0;
  }
  ArmTimer();
}

void RespUpstream::ArmTimer() {
  if (pending_.empty()) {
    if (timer_armed_) {
      ++timer_seq_;
      timer_.cancel();
      timer_armed_ = false;
    }
    return;
  }
  const RespClock::time_point deadline = pending_.front().deadline;
  if (timer_armed_ && armed_for_ == deadline) return;
  timer_armed_ = true;
  armed_for_ = deadline;
  timer_.expires_at(deadline);
  timer_.async_wait([self = shared_from_this(), seq = ++timer_seq_](boost::system::error_code) {
    if (seq != self->timer_seq_) return;
    self->timer_armed_ = false;
    self->OnTimer();
  });
}

void RespUpstream::OnTimer() {
  if (!pending_.empty() && RespClock::now() >= pending_.front().deadline) {
    return Fail(DeadlineExceeded(name_ + ": no reply in time"));
  }
  ArmTimer();
}

void RespUpstream::Fail(const Status& status) {
  if (link_) {  // the TLS stream, if any, goes with the link: no close_notify, as after a reset
    boost::system::error_code ignored;
    link_->socket.shutdown(tcp::socket::shutdown_both, ignored);
    link_->socket.close(ignored);
  }
  link_.reset();
  open_ = false;
  writing_ = false;
  out_.clear();
  in_.clear();
  in_start_ = 0;
  framer_.Reset();
  std::deque<Pending> failed;
  failed.swap(pending_);
  ArmTimer();
  // Last: a callback may Send again (to this upstream too), which opens a new connection.
  for (Pending& pending : failed) {
    if (pending.callback) pending.callback(status);
  }
}

}  // namespace meridian::router
