// FakeRegion: a stand-in for `meridian region` in the router's tests. It answers GET /healthz
// like a region (after an optional delay, which is how tests give regions different RTTs) and
// records every other request, answering it as its data mode says.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/thread_annotations.h"
#include "net/http_server.h"

namespace meridian::router::testing {

class FakeRegion {
 public:
  enum class DataMode {
    kServe,        // 200 {"served_by": name}
    kUnavailable,  // 503, as a region that cannot serve now
    kTimedOut,     // 504, as a region that waited its bound for a session token
    kHang,         // never answers (held until Stop), as a region behind a cut link
  };
  struct Seen {
    std::string method;
    std::string target;
    std::string idempotency_key;
    std::string session_token;
    std::string remote_address;
    std::string request_id;  // X-Request-Id
  };

  FakeRegion(std::string name, std::chrono::milliseconds healthz_delay);
  ~FakeRegion();

  void Start();  // REQUIRES: not running (it may be started again after Stop)
  void Stop();   // idempotent; connections are refused afterwards
  std::string address() const { return address_; }

  void set_status(std::string status);
  void set_data_mode(DataMode mode);
  // While set, /healthz requests are held unanswered too: the region looks cut off.
  void set_healthz_hangs(bool hangs);
  std::vector<Seen> seen() const;

 private:
  void Handle(HttpRequest request, HttpResponder respond);

  const std::string name_;
  const std::chrono::milliseconds healthz_delay_;
  std::string address_ = "127.0.0.1:0";  // the first Start picks the port, restarts reuse it

  boost::asio::io_context delays_;  // answers delayed /healthz requests
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::thread delay_thread_;

  mutable Mutex mu_;
  std::string status_ MERIDIAN_GUARDED_BY(mu_) = "ok";
  DataMode mode_ MERIDIAN_GUARDED_BY(mu_) = DataMode::kServe;
  bool healthz_hangs_ MERIDIAN_GUARDED_BY(mu_) = false;
  std::vector<Seen> seen_ MERIDIAN_GUARDED_BY(mu_);
  std::vector<HttpResponder> held_ MERIDIAN_GUARDED_BY(mu_);
  std::unique_ptr<HttpServer> server_;
};

}  // namespace meridian::router::testing
