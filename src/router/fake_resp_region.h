// FakeRespRegion: a stand-in for a region's RESP listener in the router's tests (beside
// FakeRegion, which answers its /healthz). It keeps counters, dedupes MERIDIAN.IDEM keys as a
// region does, records every command with the connection it came on, and can die in the middle
// of a command the way a region killed with -9 does: the command applied, no reply, every
// connection reset.
//
// Commands: PING, ECHO x, HELLO 3, INCR k, INCRBY k n, GET k, MERIDIAN.IDEM key <command>,
// MERIDIAN.SESSIONED token <command> (answered [reply, the token merged with this region's writes
// so far in its slot, "slot.writes" for a write or nil], as a region does), MERIDIAN.WAITFOR
// write n timeout (answered set_holding's number); any other is answered "-ERR unknown command".
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/ids.h"
#include "base/thread_annotations.h"

namespace meridian::router::testing {

class FakeRespRegion {
 public:
  enum class Mode {
    kServe,     // answer every command
    kTryAgain,  // answer every command but HELLO with -TRYAGAIN, as a region that cannot serve
    kHang,      // record every command but HELLO and answer none, as a stalled region
  };
  struct Seen {
    std::vector<std::string> args;             // without the MERIDIAN.IDEM prefix
    std::string idempotency_key;               // "" when none
    std::optional<std::string> session_token;  // MERIDIAN.SESSIONED's, when it wrapped the command
    uint64_t connection = 0;
  };

  // `slot`: where its writes count in session tokens.
  explicit FakeRespRegion(std::string name, RegionId slot = 0);
  ~FakeRespRegion();

  void Start();  // REQUIRES: not running (it may be started again after it died or stopped)
  void Stop();   // idempotent; connections are refused afterwards
  std::string address() const { return address_; }

  void set_mode(Mode mode);
  // Answers `commands` more commands (HELLO aside), then dies on the next one: applies it, then
  // closes the listener and every connection without answering.
  void DieAfter(size_t commands);
  // What MERIDIAN.WAITFOR answers.
  void set_holding(int64_t regions);
  std::vector<Seen> seen() const;
  int64_t counter(const std::string& key) const;
  bool dead() const;

 private:
  class Connection;
  void Accept();
  void CloseAll();
  // The reply to one command, or nullopt when the region dies on it.
  std::optional<std::string> Execute(std::vector<std::string> args, uint64_t connection);
  std::string Sessioned(const Seen& seen, const std::string& reply, bool wrote) const
      MERIDIAN_REQUIRES(mu_);

  const std::string name_;
  const RegionId slot_;
  std::string address_ = "127.0.0.1:0";  // the first Start picks the port, restarts reuse it

  boost::asio::io_context ioc_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::thread thread_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;     // on the I/O thread once started
  std::map<uint64_t, std::shared_ptr<Connection>> connections_;  // on the I/O thread
  uint64_t next_connection_ = 1;

  mutable Mutex mu_;
  Mode mode_ MERIDIAN_GUARDED_BY(mu_) = Mode::kServe;
  std::optional<size_t> die_after_ MERIDIAN_GUARDED_BY(mu_);
  bool dead_ MERIDIAN_GUARDED_BY(mu_) = false;
  std::vector<Seen> seen_ MERIDIAN_GUARDED_BY(mu_);
  std::map<std::string, int64_t> counters_ MERIDIAN_GUARDED_BY(mu_);
  std::set<std::string> idempotency_keys_ MERIDIAN_GUARDED_BY(mu_);
  uint64_t writes_ MERIDIAN_GUARDED_BY(mu_) = 0;
  int64_t holding_ MERIDIAN_GUARDED_BY(mu_) = 0;
};

}  // namespace meridian::router::testing
