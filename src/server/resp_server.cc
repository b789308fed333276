#include "server/resp_server.h"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <deque>
#include <map>
#include <utility>
#include <vector>

#include "auth/resp_gate.h"
#include "net/endpoint.h"
#include "resp/resp_parser.h"

namespace meridian {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t kMaxPendingCommands = 1024;
constexpr size_t kMaxOutputBytes = 4 << 20;
constexpr size_t kReadChunk = 16 << 10;

// One command's reply, filled when ready.
struct Slot {
  bool ready = false;
  bool close_after = false;
  std::string bytes;
  std::vector<NodeReply> replies;
  size_t answered = 0;
  std::function<void(std::span<const NodeReply>, RespSession&, RespWriter&)> compose;
  // WAIT
  std::optional<uint64_t> wait_regions;
  uint64_t wait_deadline_ms = 0;
};

}  // namespace

struct RespServer::Impl : std::enable_shared_from_this<RespServer::Impl> {
  class Connection;

  Impl(asio::io_context& l, std::string a, RespOptions o, Hooks h)
      : loop(l), address(std::move(a)), options(std::move(o)), hooks(std::move(h)), acceptor(l) {}

  void Accept();

  asio::io_context& loop;
  const std::string address;
  const RespOptions options;
  const Hooks hooks;
  tcp::acceptor acceptor;
  uint16_t bound_port = 0;
  uint64_t next_client = 1;
  bool stopped = false;
  std::map<uint64_t, std::shared_ptr<Connection>> connections;
};

class RespServer::Impl::Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(Impl& server, tcp::socket socket, uint64_t id)
      : server_(server), socket_(std::move(socket)), id_(id), parser_(ParserOptions()) {
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

  void Start() { Read(); }

  void Close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
    server_.connections.erase(id_);  // may release the last reference: touch nothing after
  }

  // WAITs: answers each that is satisfied or past its deadline.
  void CheckWaits(uint64_t now_ms) {
    bool changed = false;
    for (auto& slot : slots_) {
      if (slot->ready || !slot->wait_regions) continue;
      const uint64_t held =
          session_.last_write ? RegionsHolding(server_.hooks.node(), *session_.last_write) : 0;
      if (held < *slot->wait_regions && now_ms < slot->wait_deadline_ms) continue;
      RespWriter out(&slot->bytes, session_.version);
      out.WriteInteger(static_cast<int64_t>(held));
      slot->ready = true;
      changed = true;
    }
    if (changed) Pump();
  }

 private:
  void Read() {
    if (reading_ || closed_ || stop_reading_) return;
    if (slots_.size() >= kMaxPendingCommands || output_.size() >= kMaxOutputBytes) return;
    reading_ = true;
    if (parse_pending_) {
      // Commands already read wait in the parser: run them before reading more, since the
      // client may send nothing until they are answered (a pipeline longer than the bound in
      // one read, or the router's shared connections). Posted: no Parse -> Pump -> Read
      // recursion through a long pipeline of immediate replies.
      parse_pending_ = false;
      asio::post(socket_.get_executor(), [self = shared_from_this()] {
        self->reading_ = false;
        if (self->closed_) return;
        self->Parse();
        self->Read();
      });
      return;
    }
    auto buffer = parser_.PrepareAppend(kReadChunk);
    socket_.async_read_some(asio::buffer(buffer.data(), buffer.size()),
                            [self = shared_from_this()](boost::system::error_code ec, size_t n) {
                              self->reading_ = false;
                              if (self->closed_) return;
                              if (ec) return self->Close();
                              self->parser_.CommitAppend(n);
                              self->Parse();
                              self->Read();
                            });
  }

  void Parse() {
    while (!stop_reading_ && slots_.size() < kMaxPendingCommands) {
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
    }
    // Stopped on the bound with commands possibly left in the buffer: Read() parses them first.
    parse_pending_ = !stop_reading_ && slots_.size() >= kMaxPendingCommands;
    // Views into the buffer are dead once planned: every plan copied what it keeps.
    parser_.Compact();
    Pump();
  }

  void Execute(std::span<const std::string_view> args) {
    auto slot = std::make_shared<Slot>();
    slots_.push_back(slot);
    if (server_.hooks.loading()) {
      RespWriter out(&slot->bytes, session_.version);
      out.WriteError("LOADING Meridian is loading the dataset in memory");
      slot->ready = true;
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
      slot->ready = true;
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
      CheckWaits(context.now_steady_ms);
      return;
    }
    if (plan.commands.empty()) {
      slot->bytes = std::move(plan.reply);
      slot->ready = true;
      return;
    }
    slot->compose = std::move(plan.compose);
    slot->replies.resize(plan.commands.size());
    for (size_t i = 0; i < plan.commands.size(); ++i) {
      server_.hooks.submit(std::move(plan.commands[i]),
                           [weak = weak_from_this(), slot, i](NodeReply reply) {
                             slot->replies[i] = std::move(reply);
                             if (++slot->answered < slot->replies.size()) return;
                             auto self = weak.lock();
                             if (!self) return;
                             RespWriter out(&slot->bytes, self->session_.version);
                             slot->compose(slot->replies, self->session_, out);
                             slot->ready = true;
                             self->Pump();
                           });
    }
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
    writing_ = true;
    in_flight_.swap(output_);
    output_.clear();
    asio::async_write(socket_, asio::buffer(in_flight_),
                      [self = shared_from_this()](boost::system::error_code ec, size_t) {
                        self->writing_ = false;
                        self->in_flight_.clear();
                        if (self->closed_) return;
                        if (ec) return self->Close();
                        self->Write();
                        self->Read();  // reading may have paused on the backlog
                      });
  }

  Impl& server_;
  tcp::socket socket_;
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
};

void RespServer::Impl::Accept() {
  acceptor.async_accept(
      [self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
        if (self->stopped || !self->acceptor.is_open()) return;
        if (!ec) {
          socket.set_option(tcp::no_delay(true), ec);
          const uint64_t id = self->next_client++;
          auto connection = std::make_shared<Connection>(*self, std::move(socket), id);
          self->connections.emplace(id, connection);
          connection->Start();
        }
        self->Accept();
      });
}

RespServer::RespServer(asio::io_context& loop, std::string address, RespOptions options,
                       Hooks hooks)
    : impl_(
          std::make_shared<Impl>(loop, std::move(address), std::move(options), std::move(hooks))) {}

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

void RespServer::OnTick() {
  if (impl_->stopped || impl_->hooks.loading()) return;
  const uint64_t now = impl_->hooks.now_steady_ms();
  auto connections = impl_->connections;
  for (auto& [id, connection] : connections)
    connection->CheckWaits(now);
}

uint16_t RespServer::port() const {
  return impl_->bound_port;
}

}  // namespace meridian
