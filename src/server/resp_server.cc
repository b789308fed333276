#include "server/resp_server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <deque>
#include <map>
#include <type_traits>
#include <utility>
#include <vector>

#include "auth/resp_gate.h"
#include "net/endpoint.h"
#include "net/tls_handshake_failure.h"
#include "resp/resp_parser.h"

namespace meridian {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using TlsSocket = asio::ssl::stream<tcp::socket>;

namespace {

constexpr size_t kMaxOutputBytes = 4 << 20;
constexpr size_t kReadChunk = 16 << 10;
// Refusals in progress (each lingers up to kRefusalLinger so the client reads the error rather
// than a reset); a flood beyond this is closed at once.
constexpr size_t kRefusingMax = 64;
constexpr auto kRefusalLinger = std::chrono::seconds(1);
// Timeouts are checked by a sweep over the connections at most this often (and at least twice
// per the shorter timeout), rather than by a timer per connection.
constexpr uint64_t kSweepIntervalMsMax = 1000;
constexpr std::string_view kMaxClientsError = "-ERR max number of clients reached\r\n";

// The TCP socket under either kind of connection (contract 10).
tcp::socket& Tcp(tcp::socket& socket) {
  return socket;
}
tcp::socket& Tcp(TlsSocket& stream) {
  return stream.next_layer();
}

// An over-limit connection: the error, a half-close, and a bounded drain of what the client sent.
class Refusal : public std::enable_shared_from_this<Refusal> {
 public:
  Refusal(tcp::socket socket, std::shared_ptr<size_t> refusing)
      : socket_(std::move(socket)), timer_(socket_.get_executor()), refusing_(std::move(refusing)) {
    ++*refusing_;
  }
  ~Refusal() { --*refusing_; }

  void Start() {
    asio::async_write(
        socket_, asio::buffer(kMaxClientsError.data(), kMaxClientsError.size()),
        [self = shared_from_this()](boost::system::error_code ec, size_t) {
          if (ec) return self->Close();
          boost::system::error_code ignored;
          self->socket_.shutdown(tcp::socket::shutdown_send, ignored);
          self->timer_.expires_after(kRefusalLinger);
          self->timer_.async_wait([self](boost::system::error_code) { self->Close(); });
          self->Drain();
        });
  }

 private:
  void Drain() {
    socket_.async_read_some(asio::buffer(drain_),
                            [self = shared_from_this()](boost::system::error_code ec, size_t) {
                              if (ec) return self->Close();
                              self->Drain();
                            });
  }
  void Close() {
    boost::system::error_code ignored;
    timer_.cancel();
    socket_.close(ignored);
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  // Shared: a refusal still lingering on the loop may outlive the server.
  std::shared_ptr<size_t> refusing_;
  std::array<char, 4096> drain_{};
};

// Slot::command for a framing error: not a command, not counted (contract 11).
constexpr size_t kNotACommand = static_cast<size_t>(-1);

// One command's reply, filled when ready.
struct Slot {
  bool ready = false;
  size_t command = kNotACommand;                 // RespCommandIndex() of its name
  std::chrono::steady_clock::time_point parsed;  // set only with command metrics
  bool close_after = false;
  std::string bytes;
  std::vector<NodeReply> replies;
  size_t answered = 0;
  std::function<void(std::span<const NodeReply>, RespSession&, RespWriter&)> compose;
  // WAIT
  std::optional<uint64_t> wait_regions;
  uint64_t wait_deadline_ms = 0;
  std::optional<Dot> wait_write;  // RespPlan::wait_write
};

}  // namespace

struct RespServer::Impl : std::enable_shared_from_this<RespServer::Impl> {
  class Connection;
  template <typename Socket>
  class ConnectionOn;

  Impl(asio::io_context& l, std::string a, RespOptions o, Hooks h, RespServerLimits lim,
       std::shared_ptr<asio::ssl::context> t)
      : loop(l),
        address(std::move(a)),
        options(std::move(o)),
        hooks(std::move(h)),
        limits(lim),
        tls(std::move(t)),
        acceptor(l) {}

  void Accept();
  void OnAccepted(tcp::socket socket);
  // Contract 12.
  void HoldWrites() { ++write_holds; }
  void ReleaseWrites();
  // Closes the connections past a timeout (contract 8).
  void Sweep(uint64_t now_ms);

  asio::io_context& loop;
  const std::string address;
  const RespOptions options;
  const Hooks hooks;
  const RespServerLimits limits;
  const std::shared_ptr<asio::ssl::context> tls;  // null: plaintext (contract 10)
  tcp::acceptor acceptor;
  uint16_t bound_port = 0;
  uint64_t next_client = 1;
  bool stopped = false;
  std::map<uint64_t, std::shared_ptr<Connection>> connections;
  std::shared_ptr<size_t> refusing = std::make_shared<size_t>(0);  // Refusals alive
  uint64_t connections_refused = 0;
  uint64_t writes = 0;  // contract 12
  uint64_t idle_timeouts = 0;
  uint64_t command_timeouts = 0;
  TlsHandshakeFailures tls_handshake_failures;
  uint64_t next_sweep_ms = 0;
  int write_holds = 0;                            // contract 12: nesting depth
  std::vector<std::shared_ptr<Connection>> held;  // with output waiting for the holds to end
};

// What the server holds of a connection, whatever its socket (contract 10).
class RespServer::Impl::Connection : public std::enable_shared_from_this<Connection> {
 public:
  virtual ~Connection() = default;
  enum class Expiry { kNone, kIdle, kCommand, kHandshake };
  virtual void Start() = 0;
  virtual Expiry Expired(uint64_t now_ms) const = 0;
  virtual void Close() = 0;
  virtual void CheckWaits(uint64_t now_ms) = 0;
  // The holds ended (contract 12): writes what waited for them.
  virtual void WriteHeld() = 0;
};

// Socket: tcp::socket or TlsSocket, chosen at accept; the plaintext one pays nothing for TLS.
template <typename Socket>
class RespServer::Impl::ConnectionOn final : public RespServer::Impl::Connection {
 public:
  ConnectionOn(Impl& server, tcp::socket socket, uint64_t id)
      : server_(server), socket_(NewSocket(std::move(socket))), id_(id), parser_(ParserOptions()) {
    session_.client_id = id;
    parser_.set_authenticated(true);  // no AUTH configured: Redis' pre-AUTH limits do not apply
  }

  static RespParserOptions ParserOptions() {
    RespParserOptions o;
    // A value is at most 1 MiB (the HTTP API's limit); room for a command around it.
    o.max_bulk_bytes = (1 << 20) + 1024;
    o.max_command_bytes = 64 << 20;
    return o;
  }

  void Start() override {
    last_activity_ms_ = server_.hooks.now_steady_ms();
    if constexpr (std::is_same_v<Socket, TlsSocket>) {
      // Contract 10: the handshake must finish within command_timeout_ms like a started command
      // (the sweep closes the connection otherwise, which ends the handshake).
      partial_since_ms_ = std::max<uint64_t>(1, last_activity_ms_);
      handshaking_ = true;
      socket_.async_handshake(
          asio::ssl::stream_base::server, [self = Self()](boost::system::error_code ec) {
            if (self->closed_) return;
            if (ec) {
              self->server_.tls_handshake_failures.Count(ClassifyTlsHandshakeError(ec));
              return self->Close();
            }
            self->handshaking_ = false;
            self->partial_since_ms_ = 0;
            self->Read();
          });
    } else {
      Read();
    }
  }

  // Contract 8: which timeout, if any, this connection is past at `now_ms`.
  Expiry Expired(uint64_t now_ms) const override {
    if (closed_) return Expiry::kNone;
    if (partial_since_ms_ != 0 &&
        now_ms - partial_since_ms_ >= static_cast<uint64_t>(server_.limits.command_timeout_ms)) {
      return handshaking_ ? Expiry::kHandshake : Expiry::kCommand;
    }
    // A connection whose commands wait on the region (a WAIT, a durability wait) is not idle.
    const bool waiting_on_us = !slots_.empty() && output_.empty() && !writing_;
    if (!waiting_on_us && server_.limits.idle_timeout_ms > 0 &&
        now_ms - last_activity_ms_ >= static_cast<uint64_t>(server_.limits.idle_timeout_ms)) {
      return Expiry::kIdle;
    }
    return Expiry::kNone;
  }

  void Close() override {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ignored;
    Tcp(socket_).shutdown(tcp::socket::shutdown_both, ignored);
    Tcp(socket_).close(ignored);
    server_.connections.erase(id_);  // may release the last reference: touch nothing after
  }

  // WAITs: answers each that is satisfied or past its deadline.
  void CheckWaits(uint64_t now_ms) override {
    bool changed = false;
    for (auto& slot : slots_) {
      if (slot->ready || !slot->wait_regions) continue;
      const std::optional<Dot> write = slot->wait_write ? slot->wait_write : session_.last_write;
      const uint64_t held = write ? server_.hooks.node().PeersHolding(*write) : 0;
      if (held < *slot->wait_regions && now_ms < slot->wait_deadline_ms) continue;
      RespWriter out(&slot->bytes, session_.version);
      out.WriteInteger(static_cast<int64_t>(held));
      Ready(*slot);
      changed = true;
    }
    if (changed) Pump();
  }

  void WriteHeld() override {
    held_ = false;
    Write();
  }

 private:
  std::shared_ptr<ConnectionOn> Self() {
    return std::static_pointer_cast<ConnectionOn>(shared_from_this());
  }
  Socket NewSocket(tcp::socket socket) {
    if constexpr (std::is_same_v<Socket, TlsSocket>) {
      return Socket(std::move(socket), *server_.tls);
    } else {
      return socket;
    }
  }

  void Read() {
    if (reading_ || closed_ || stop_reading_) return;
    if (slots_.size() >= server_.limits.max_pending_commands || output_.size() >= kMaxOutputBytes) {
      return;
    }
    reading_ = true;
    if (parse_pending_) {
      // Commands already read wait in the parser: run them before reading more, since the
      // client may send nothing until they are answered (a pipeline longer than the bound in
      // one read, or the router's shared connections). Posted: no Parse -> Pump -> Read
      // recursion through a long pipeline of immediate replies.
      parse_pending_ = false;
      asio::post(socket_.get_executor(), [self = Self()] {
        self->reading_ = false;
        if (self->closed_) return;
        self->Parse();
        self->Read();
      });
      return;
    }
    auto buffer = parser_.PrepareAppend(kReadChunk);
    socket_.async_read_some(asio::buffer(buffer.data(), buffer.size()),
                            [self = Self()](boost::system::error_code ec, size_t n) {
                              self->reading_ = false;
                              if (self->closed_) return;
                              if (ec) return self->Close();
                              self->last_activity_ms_ = self->server_.hooks.now_steady_ms();
                              self->parser_.CommitAppend(n);
                              self->Parse();
                              self->Read();
                            });
  }

  void Parse() {
    server_.HoldWrites();  // the replies of everything this read brought leave in one write
    bool completed_any = false;
    while (!stop_reading_ && slots_.size() < server_.limits.max_pending_commands) {
      const RespParser::Outcome outcome = parser_.Next();
      if (outcome == RespParser::Outcome::kNeedMore) break;
      if (outcome == RespParser::Outcome::kError) {
        auto slot = std::make_shared<Slot>();
        RespWriter out(&slot->bytes, session_.version);
        out.WriteError(parser_.error().message());
        slot->ready = true;
        slot->close_after = true;
        slots_.push_back(std::move(slot));
        stop_reading_ = true;
        break;
      }
      Execute(parser_.args());
      completed_any = true;
    }
    // Stopped on the bound with commands possibly left in the buffer: Read() parses them first.
    parse_pending_ = !stop_reading_ && slots_.size() >= server_.limits.max_pending_commands;
    // Views into the buffer are dead once planned: every plan copied what it keeps.
    parser_.Compact();
    // What is left unparsed is the start of a command the client has not finished sending
    // (unless parsing stopped on the bound): it must be finished within command_timeout_ms. When
    // a command completed in this pass, the tail is a newer command: its clock starts now (a
    // steady pipeline whose every read ends mid-command is not a slow client).
    const bool partial = !parse_pending_ && parser_.buffered_bytes() > 0;
    if (!partial) {
      partial_since_ms_ = 0;
    } else if (partial_since_ms_ == 0 || completed_any) {
      partial_since_ms_ = std::max<uint64_t>(1, server_.hooks.now_steady_ms());
    }
    Pump();
    server_.ReleaseWrites();
  }

  void Execute(std::span<const std::string_view> args) {
    auto slot = std::make_shared<Slot>();
    slots_.push_back(slot);
    if (server_.hooks.command_metrics != nullptr) {
      slot->command = args.empty() ? RespCommandNames().size() : RespCommandIndex(args[0]);
      slot->parsed = std::chrono::steady_clock::now();
    }
    if (server_.hooks.loading()) {
      RespWriter out(&slot->bytes, session_.version);
      out.WriteError("LOADING Meridian is loading the dataset in memory");
      Ready(*slot);
      return;
    }
    const auth::RespGateDecision gate =
        auth::GateRespCommand(server_.hooks.keys, auth_, args, server_.options.strong_prefix);
    if (gate.kind != auth::RespGateDecision::Kind::kRun) {
      RespWriter out(&slot->bytes, session_.version);
      if (gate.kind == auth::RespGateDecision::Kind::kReplyOk) {
        out.WriteSimpleString("OK");
      } else {
        out.WriteError(gate.error);
      }
      Ready(*slot);
      return;
    }
    RespContext context{server_.hooks.node(), server_.options, server_.hooks.now_steady_ms()};
    RespPlan plan = PlanCommand(args, session_, context);
    if (session_.quit) {
      slot->close_after = true;
      stop_reading_ = true;
    }
    if (plan.wait_regions) {
      slot->wait_regions = plan.wait_regions;
      slot->wait_deadline_ms = plan.wait_deadline_ms;
      slot->wait_write = plan.wait_write;
      CheckWaits(context.now_steady_ms);
      return;
    }
    if (plan.commands.empty()) {
      slot->bytes = std::move(plan.reply);
      Ready(*slot);
      return;
    }
    if (server_.hooks.admit) {
      if (std::optional<std::string> refusal = server_.hooks.admit(plan.commands.size())) {
        RespWriter out(&slot->bytes, session_.version);
        out.WriteError("ERR " + *refusal);
        Ready(*slot);
        return;
      }
    }
    slot->compose = std::move(plan.compose);
    slot->replies.resize(plan.commands.size());
    for (size_t i = 0; i < plan.commands.size(); ++i) {
      server_.hooks.submit(std::move(plan.commands[i]),
                           [weak = std::weak_ptr<ConnectionOn>(Self()), slot, i](NodeReply reply) {
                             slot->replies[i] = std::move(reply);
                             if (++slot->answered < slot->replies.size()) return;
                             auto self = weak.lock();
                             if (!self) return;
                             RespWriter out(&slot->bytes, self->session_.version);
                             slot->compose(slot->replies, self->session_, out);
                             self->Ready(*slot);
                             self->Pump();
                           });
    }
  }

  // The slot's reply is complete: counted (contract 11), then sent once the replies before it are.
  void Ready(Slot& slot) {
    slot.ready = true;
    if (server_.hooks.command_metrics == nullptr || slot.command == kNotACommand) return;
    const bool error = !slot.bytes.empty() && slot.bytes.front() == '-';
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - slot.parsed;
    server_.hooks.command_metrics->Observe(slot.command, error, took.count());
  }

  // Moves the ready replies at the head into the output and writes it.
  void Pump() {
    while (!slots_.empty() && slots_.front()->ready) {
      output_ += slots_.front()->bytes;
      close_after_ = close_after_ || slots_.front()->close_after;
      slots_.pop_front();
    }
    Write();
  }

  void Write() {
    if (writing_ || closed_) return;
    if (output_.empty()) {
      if (close_after_ && slots_.empty()) Close();
      return;
    }
    if (server_.write_holds > 0) {
      if (!held_) {
        held_ = true;
        server_.held.push_back(shared_from_this());
      }
      return;
    }
    writing_ = true;
    ++server_.writes;
    in_flight_.swap(output_);
    output_.clear();
    asio::async_write(socket_, asio::buffer(in_flight_),
                      [self = Self()](boost::system::error_code ec, size_t) {
                        self->writing_ = false;
                        self->in_flight_.clear();
                        if (self->closed_) return;
                        if (ec) return self->Close();
                        self->last_activity_ms_ = self->server_.hooks.now_steady_ms();
                        self->Write();
                        self->Read();  // reading may have paused on the backlog
                      });
  }

  Impl& server_;
  Socket socket_;
  const uint64_t id_;
  RespParser parser_;
  RespSession session_;
  auth::RespAuthState auth_;
  std::deque<std::shared_ptr<Slot>> slots_;
  std::string output_;
  std::string in_flight_;
  bool reading_ = false;
  bool writing_ = false;
  bool stop_reading_ = false;
  bool parse_pending_ = false;  // Parse stopped on the bound, not for want of bytes
  bool close_after_ = false;
  bool closed_ = false;
  bool held_ = false;              // in server_.held (contract 12)
  uint64_t last_activity_ms_ = 0;  // the last read or write that completed
  uint64_t partial_since_ms_ = 0;  // when an incomplete command began; 0: none
  bool handshaking_ = false;       // a TLS handshake is under way (contract 10)
};

void RespServer::Impl::Accept() {
  acceptor.async_accept(
      [self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
        if (self->stopped || !self->acceptor.is_open()) return;
        if (!ec) self->OnAccepted(std::move(socket));
        self->Accept();
      });
}

void RespServer::Impl::OnAccepted(tcp::socket socket) {
  boost::system::error_code ec;
  socket.set_option(tcp::no_delay(true), ec);
  if (connections.size() >= limits.max_connections) {
    ++connections_refused;
    // Past kRefusingMax the socket closes here, unanswered; so does every refused TLS client
    // (its handshake would cost what the limit protects, and it cannot read a plain answer).
    if (*refusing < kRefusingMax && !tls) {
      std::make_shared<Refusal>(std::move(socket), refusing)->Start();
    }
    return;
  }
  const uint64_t id = next_client++;
  std::shared_ptr<Connection> connection;
  if (tls) {
    connection = std::make_shared<ConnectionOn<TlsSocket>>(*this, std::move(socket), id);
  } else {
    connection = std::make_shared<ConnectionOn<tcp::socket>>(*this, std::move(socket), id);
  }
  connections.emplace(id, connection);
  connection->Start();
}

void RespServer::Impl::Sweep(uint64_t now_ms) {
  if (now_ms < next_sweep_ms) return;
  const int idle = limits.idle_timeout_ms > 0 ? limits.idle_timeout_ms : limits.command_timeout_ms;
  const auto shorter = static_cast<uint64_t>(std::min(idle, limits.command_timeout_ms));
  next_sweep_ms = now_ms + std::clamp<uint64_t>(shorter / 2, 1, kSweepIntervalMsMax);
  std::vector<std::shared_ptr<Connection>> expired;
  for (auto& [id, connection] : connections) {
    switch (connection->Expired(now_ms)) {
      case Connection::Expiry::kNone:
        continue;
      case Connection::Expiry::kIdle:
        ++idle_timeouts;
        break;
      case Connection::Expiry::kCommand:
        ++command_timeouts;
        break;
      case Connection::Expiry::kHandshake:
        tls_handshake_failures.Count(TlsHandshakeFailure::kTimeout);
        break;
    }
    expired.push_back(connection);
  }
  for (auto& connection : expired)
    connection->Close();  // erases from `connections`
}

RespServer::RespServer(asio::io_context& loop, std::string address, RespOptions options,
                       Hooks hooks, RespServerLimits limits,
                       std::shared_ptr<boost::asio::ssl::context> tls)
    : impl_(std::make_shared<Impl>(loop, std::move(address), std::move(options), std::move(hooks),
                                   limits, std::move(tls))) {}

RespServer::~RespServer() = default;

Status RespServer::Start() {
  Result<tcp::endpoint> endpoint = ResolveEndpoint(impl_->address);
  if (!endpoint.ok()) return endpoint.status();
  boost::system::error_code ec;
  auto fail = [&](const char* step) {
    return Unavailable("resp listener " + impl_->address + ": " + step + ": " + ec.message());
  };
  tcp::acceptor& a = impl_->acceptor;
  if (a.open(endpoint->protocol(), ec)) return fail("open");
  if (a.set_option(asio::socket_base::reuse_address(true), ec)) return fail("setsockopt");
  if (a.bind(*endpoint, ec)) return fail("bind");
  if (a.listen(asio::socket_base::max_listen_connections, ec)) return fail("listen");
  impl_->bound_port = a.local_endpoint(ec).port();
  if (ec) return fail("local_endpoint");
  impl_->Accept();
  return Status::Ok();
}

void RespServer::Stop() {
  Impl& s = *impl_;
  if (s.stopped) return;
  s.stopped = true;
  boost::system::error_code ignored;
  s.acceptor.close(ignored);
  auto connections = s.connections;  // Close() erases from the map
  for (auto& [id, connection] : connections)
    connection->Close();
}

void RespServer::Impl::ReleaseWrites() {
  if (--write_holds > 0) return;
  std::vector<std::shared_ptr<Connection>> waiting;
  waiting.swap(held);
  for (auto& connection : waiting)
    connection->WriteHeld();
}

void RespServer::HoldWrites() {
  impl_->HoldWrites();
}

void RespServer::ReleaseWrites() {
  impl_->ReleaseWrites();
}

void RespServer::OnTick() {
  if (impl_->stopped) return;
  const uint64_t now = impl_->hooks.now_steady_ms();
  impl_->Sweep(now);
  if (impl_->hooks.loading()) return;
  auto connections = impl_->connections;
  for (auto& [id, connection] : connections)
    connection->CheckWaits(now);
}

uint16_t RespServer::port() const {
  return impl_->bound_port;
}

uint64_t RespServer::writes() const {
  return impl_->writes;
}

uint64_t RespServer::connections_refused() const {
  return impl_->connections_refused;
}

uint64_t RespServer::idle_timeouts() const {
  return impl_->idle_timeouts;
}

uint64_t RespServer::command_timeouts() const {
  return impl_->command_timeouts;
}

uint64_t RespServer::tls_handshakes_failed() const {
  return impl_->tls_handshake_failures.Total();
}

const TlsHandshakeFailures& RespServer::tls_handshake_failures() const {
  return impl_->tls_handshake_failures;
}

}  // namespace meridian
