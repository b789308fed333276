#include "router/fake_region.h"

#include <gtest/gtest.h>

namespace meridian::router::testing {

FakeRegion::FakeRegion(std::string name, std::chrono::milliseconds healthz_delay)
    : name_(std::move(name)), healthz_delay_(healthz_delay) {
  work_.emplace(delays_.get_executor());
  delay_thread_ = std::thread([this] { delays_.run(); });
}

FakeRegion::~FakeRegion() {
  Stop();
  work_.reset();
  delays_.stop();
  delay_thread_.join();
}

void FakeRegion::Start() {
  HttpServerOptions options;
  options.stop_grace_ms = 100;  // held (hanging) requests would otherwise delay every Stop
  server_ = std::make_unique<HttpServer>(
      address_,
      [this](HttpRequest request, HttpResponder respond) {
        Handle(std::move(request), std::move(respond));
      },
      options);
  Status started = server_->Start();
  ASSERT_TRUE(started.ok()) << started.ToString();
  address_ = server_->address();
}

void FakeRegion::Stop() {
  if (server_) server_->Stop();
  server_.reset();
  MutexLock lock(&mu_);
  held_.clear();
}

void FakeRegion::set_status(std::string status) {
  MutexLock lock(&mu_);
  status_ = std::move(status);
}

void FakeRegion::set_data_mode(DataMode mode) {
  MutexLock lock(&mu_);
  mode_ = mode;
}

void FakeRegion::set_healthz_hangs(bool hangs) {
  MutexLock lock(&mu_);
  healthz_hangs_ = hangs;
}

std::vector<FakeRegion::Seen> FakeRegion::seen() const {
  MutexLock lock(&mu_);
  return seen_;
}

void FakeRegion::Handle(HttpRequest request, HttpResponder respond) {
  MutexLock lock(&mu_);
  if (request.path == "/healthz") {
    if (healthz_hangs_) {
      held_.push_back(std::move(respond));
      return;
    }
    HttpResponse answer =
        HttpResponse::Json(200, R"({"region":")" + name_ + R"(","status":")" + status_ +
                                    R"(","version_vector":{},"peers":[]})");
    auto timer = std::make_shared<boost::asio::steady_timer>(delays_, healthz_delay_);
    timer->async_wait([timer, respond, answer](boost::system::error_code) { respond(answer); });
    return;
  }
  seen_.push_back(Seen{request.method, request.target,
                       std::string(request.Header("idempotency-key")),
                       std::string(request.Header("x-session-token")), request.remote_address,
                       std::string(request.Header("x-request-id"))});
  switch (mode_) {
    case DataMode::kServe:
      return respond(HttpResponse::Json(200, R"({"served_by":")" + name_ + R"("})"));
    case DataMode::kUnavailable:
      return respond(HttpResponse::Json(503, R"({"error":{"code":"unavailable"}})"));
    case DataMode::kTimedOut:
      return respond(HttpResponse::Json(504, R"({"error":{"code":"deadline_exceeded"}})"));
    case DataMode::kHang:
      held_.push_back(std::move(respond));
      return;
  }
}

}  // namespace meridian::router::testing
