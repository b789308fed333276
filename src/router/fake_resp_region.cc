#include "router/fake_resp_region.h"

#include <gtest/gtest.h>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <future>

#include "api/session_token.h"
#include "net/endpoint.h"
#include "resp/resp_parser.h"
#include "resp/resp_writer.h"

namespace meridian::router::testing {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class FakeRespRegion::Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(FakeRespRegion& region, tcp::socket socket, uint64_t id)
      : region_(region), socket_(std::move(socket)), id_(id) {}

  void Read() {
    auto buffer = parser_.PrepareAppend(4096);
    socket_.async_read_some(asio::buffer(buffer.data(), buffer.size()),
                            [self = shared_from_this()](boost::system::error_code ec, size_t n) {
                              if (ec) return self->Close();
                              self->parser_.CommitAppend(n);
                              self->Parse();
                            });
  }

  void Close() {
    boost::system::error_code ignored;
    // RST, as the kernel sends for a process killed with unread data: the router sees a reset.
    socket_.set_option(asio::socket_base::linger(true, 0), ignored);
    socket_.close(ignored);
    region_.connections_.erase(id_);
  }

 private:
  void Parse() {
    std::string out;
    for (;;) {
      const RespParser::Outcome outcome = parser_.Next();
      if (outcome == RespParser::Outcome::kNeedMore) break;
      if (outcome == RespParser::Outcome::kError) return Close();
      std::vector<std::string> args(parser_.args().begin(), parser_.args().end());
      std::optional<std::string> reply = region_.Execute(std::move(args), id_);
      if (!reply) {
        // Died: what it answered before may have left (the reset may still drop it), nothing
        // after does.
        boost::system::error_code ignored;
        asio::write(socket_, asio::buffer(out), ignored);
        return region_.CloseAll();
      }
      out += *reply;
    }
    parser_.Compact();
    auto bytes = std::make_shared<std::string>(std::move(out));
    asio::async_write(socket_, asio::buffer(*bytes),
                      [self = shared_from_this(), bytes](boost::system::error_code ec, size_t) {
                        if (ec) return self->Close();
                        self->Read();
                      });
  }

  FakeRespRegion& region_;
  tcp::socket socket_;
  const uint64_t id_;
  RespParser parser_;
};

FakeRespRegion::FakeRespRegion(std::string name, RegionId slot)
    : name_(std::move(name)), slot_(slot) {
  work_.emplace(ioc_.get_executor());
  thread_ = std::thread([this] { ioc_.run(); });
}

FakeRespRegion::~FakeRespRegion() {
  Stop();
  work_.reset();
  ioc_.stop();
  thread_.join();
}

void FakeRespRegion::Start() {
  std::promise<std::string> bound;
  asio::post(ioc_, [this, &bound] {
    auto endpoint = ResolveEndpoint(address_);
    acceptor_ = std::make_unique<tcp::acceptor>(ioc_);
    boost::system::error_code ec;
    acceptor_->open(endpoint->protocol(), ec);
    acceptor_->set_option(asio::socket_base::reuse_address(true), ec);
    acceptor_->bind(*endpoint, ec);
    if (!ec) acceptor_->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return bound.set_value("");
    bound.set_value(EndpointToString(acceptor_->local_endpoint()));
    Accept();
  });
  const std::string address = bound.get_future().get();
  ASSERT_FALSE(address.empty()) << name_ << ": cannot listen on " << address_;
  address_ = address;
  MutexLock lock(&mu_);
  dead_ = false;
}

void FakeRespRegion::Stop() {
  std::promise<void> done;
  asio::post(ioc_, [this, &done] {
    CloseAll();
    done.set_value();
  });
  done.get_future().wait();
}

void FakeRespRegion::Accept() {
  acceptor_->async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (ec || !acceptor_ || !acceptor_->is_open()) return;
    const uint64_t id = next_connection_++;
    auto connection = std::make_shared<Connection>(*this, std::move(socket), id);
    connections_.emplace(id, connection);
    connection->Read();
    Accept();
  });
}

void FakeRespRegion::CloseAll() {
  if (acceptor_) {
    boost::system::error_code ignored;
    acceptor_->close(ignored);
  }
  auto open = connections_;
  for (auto& [id, connection] : open)
    connection->Close();
}

void FakeRespRegion::set_mode(Mode mode) {
  MutexLock lock(&mu_);
  mode_ = mode;
}

void FakeRespRegion::DieAfter(size_t commands) {
  MutexLock lock(&mu_);
  die_after_ = commands;
}

std::vector<FakeRespRegion::Seen> FakeRespRegion::seen() const {
  MutexLock lock(&mu_);
  return seen_;
}

void FakeRespRegion::set_holding(int64_t regions) {
  MutexLock lock(&mu_);
  holding_ = regions;
}

int64_t FakeRespRegion::counter(const std::string& key) const {
  MutexLock lock(&mu_);
  auto it = counters_.find(key);
  return it == counters_.end() ? 0 : it->second;
}

bool FakeRespRegion::dead() const {
  MutexLock lock(&mu_);
  return dead_;
}

// As a region's MERIDIAN.SESSIONED: the reply, the token after it, the write (when `wrote`).
std::string FakeRespRegion::Sessioned(const Seen& seen, const std::string& reply,
                                      bool wrote) const {
  if (!seen.session_token) return reply;
  VersionVector token;
  if (*seen.session_token != "-") {
    Result<VersionVector> given = DecodeSessionToken(*seen.session_token);
    if (!given.ok()) return "-ERR invalid session token\r\n";
    token = *given;
  }
  token.Set(slot_, std::max(token.Get(slot_), writes_));
  std::string wrapped;
  RespWriter wrapper(&wrapped);
  wrapper.WriteArrayHeader(3);
  wrapped += reply;
  wrapper.WriteBulk(EncodeSessionToken(token));
  wrote ? wrapper.WriteBulk(std::to_string(slot_) + "." + std::to_string(writes_))
        : wrapper.WriteNull();
  return wrapped;
}

std::optional<std::string> FakeRespRegion::Execute(std::vector<std::string> args,
                                                   uint64_t connection) {
  std::string reply;
  RespWriter out(&reply);
  MutexLock lock(&mu_);
  if (dead_) return std::nullopt;
  Seen seen;
  seen.connection = connection;
  if (args.size() >= 3 && args[0] == "MERIDIAN.SESSIONED") {
    seen.session_token = args[1];
    args.erase(args.begin(), args.begin() + 2);
  }
  if (args.size() >= 3 && args[0] == "MERIDIAN.IDEM") {
    seen.idempotency_key = args[1];
    args.erase(args.begin(), args.begin() + 2);
  }
  seen.args = args;
  seen_.push_back(seen);
  const std::string& name = args[0];
  if (name == "HELLO") {
    out.WriteMapHeader(1);
    out.WriteBulk("proto");
    out.WriteInteger(3);
    return reply;
  }
  bool dies = false;
  if (die_after_) {
    if (*die_after_ == 0) {
      dies = true;
      die_after_.reset();
    } else {
      --*die_after_;
    }
  }
  if (mode_ == Mode::kHang && !dies) return std::string();
  bool wrote = false;
  if (mode_ == Mode::kTryAgain && !dies) {
    out.WriteError("TRYAGAIN " + name_ + " cannot serve now");
    return Sessioned(seen, reply, wrote);
  }
  const bool known =
      !seen.idempotency_key.empty() && !idempotency_keys_.insert(seen.idempotency_key).second;
  if (name == "PING") {
    out.WriteSimpleString("PONG");
  } else if (name == "ECHO" && args.size() == 2) {
    out.WriteBulk(args[1]);
  } else if ((name == "INCR" && args.size() == 2) || (name == "INCRBY" && args.size() == 3)) {
    int64_t& value = counters_[args[1]];
    if (!known) value += name == "INCR" ? 1 : std::stoll(args[2]);
    if (!known) ++writes_;
    wrote = true;
    out.WriteInteger(value);
  } else if (name == "GET" && args.size() == 2) {
    auto it = counters_.find(args[1]);
    it == counters_.end() ? out.WriteNull() : out.WriteBulk(std::to_string(it->second));
  } else if (name == "MERIDIAN.WAITFOR" && args.size() == 4) {
    out.WriteInteger(holding_);
  } else {
    out.WriteError("ERR unknown command '" + name + "'");
  }
  if (dies) {
    dead_ = true;
    return std::nullopt;
  }
  return Sessioned(seen, reply, wrote);
}

}  // namespace meridian::router::testing
