// Internal to Router: its state, shared by the lifecycle and probing (router.cc), forwarding
// (router_forward.cc) and the router's own endpoints (router_status.cc).
//
// Invariants:
//  1. table, probe_in_flight, random, stopping and threads_running are touched only under mu
//     (MERIDIAN_GUARDED_BY, checked by clang), which is never held
//     across I/O or a call into a pool or a responder.
//  2. The prober's timer is touched only on prober_strand.
//  3. The pools exist from Start() on and are never replaced; each is used by one path.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/random.h"
#include "base/thread_annotations.h"
#include "net/http_server.h"
#include "router/health_table.h"
#include "router/resp_front.h"
#include "router/router.h"
#include "router/router_metrics.h"
#include "router/upstream_pool.h"

namespace meridian::router {

// One client request on its way through the regions.
struct ForwardCall {
  HttpClientRequest request;  // identical on every attempt, idempotency key included
  RegionId location = 0;
  HttpResponder respond;
  std::vector<RegionId> tried;
  // Regions that may not hold the request's key (residency): never tried.
  std::vector<RegionId> barred;
  std::string allowed_names;          // "eu, eu2" when some are barred, for the 503 message
  std::vector<RegionId> catching_up;  // tried as a last resort (HealthTable::ChooseCatchingUp)
  std::optional<RegionId> fallback_region;  // the last retryable answer, delivered if all fail
  std::optional<HttpResponse> fallback;
  std::string errors;  // what each failed attempt said, for the client's error message
};

struct Router::Impl {
  Impl(RouterTopology t, RouterOptions o);

  // --- lifecycle and probes (router.cc)
  Status CreatePools();
  // The RESP front end, wired to the health table (when options.resp_address is set).
  Status StartResp();
  void RunThread() MERIDIAN_EXCLUDES(mu);
  void ProbeRound() MERIDIAN_EXCLUDES(mu);
  void OnProbe(RegionId location, RegionId region, int64_t started_us, Result<HttpResponse> result)
      MERIDIAN_EXCLUDES(mu);
  // Publishes a health change: metrics, log, and on failure aborts the path's forwards.
  void Apply(RegionId location, RegionId region, const HealthEvent& event,
             const std::string& cause);
  int64_t NowUs() const;
  RegionId region_count() const { return static_cast<RegionId>(topology.region_names.size()); }

  // --- forwarding (router_forward.cc)
  void Handle(HttpRequest request, HttpResponder respond);
  void Forward(HttpRequest request, HttpResponder respond) MERIDIAN_EXCLUDES(mu);
  // `respond`, answering with X-Request-Id: `request_id` and logging the request when it took
  // options.slow_request_ms or longer (api/request_log.h).
  HttpResponder WithRequestId(HttpResponder respond, const HttpRequest& request,
                              std::string request_id);
  // Residency: the regions that may not hold the request's key are never tried.
  void BarRegionsOutsideResidency(const HttpRequest& request, ForwardCall& call) const;
  void NextAttempt(const std::shared_ptr<ForwardCall>& call) MERIDIAN_EXCLUDES(mu);
  void OnAttempt(const std::shared_ptr<ForwardCall>& call, RegionId region,
                 UpstreamClock::time_point sent_at, Result<HttpResponse> result);
  void Deliver(const std::shared_ptr<ForwardCall>& call, RegionId region, HttpResponse response);
  void FinishWithoutRegion(const std::shared_ptr<ForwardCall>& call);
  // Answers a client request the router refuses or cannot place (counted as region "none").
  void Answer(const HttpResponder& respond, HttpResponse response);

  // --- the router's endpoints (router_status.cc)
  void HandleOwn(const HttpRequest& request, const HttpResponder& respond);
  std::string StatusJson() const MERIDIAN_EXCLUDES(mu);
  // GET /router/metrics: the registry, with the HTTP listener's TLS failures brought up to date.
  std::string RenderMetrics() const;

  // --- the dashboard and its data (router_dashboard.cc)
  void HandleDashboard(const HttpRequest& request, const HttpResponder& respond);
  void ProxyForDashboard(const std::shared_ptr<UpstreamPool>& pool, HttpClientRequest upstream,
                         const HttpResponder& respond);
  std::string Summary() const MERIDIAN_EXCLUDES(mu);

  const RouterTopology topology;
  const RouterOptions options;
  const UpstreamClock::time_point epoch = UpstreamClock::now();
  RouterMetrics metrics;
  ForwardMetrics forward_metrics{metrics, topology.region_names};

  // Declared before everything that holds sockets or timers on it, so that it is destroyed last.
  boost::asio::io_context ioc;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  std::vector<std::vector<std::shared_ptr<UpstreamPool>>> forward_pools;  // [location][region]
  std::vector<std::vector<std::shared_ptr<UpstreamPool>>> probe_pools;    // [location][region]
  std::shared_ptr<UpstreamPool> prometheus_pool;  // null without options.prometheus_address
  boost::asio::strand<boost::asio::io_context::executor_type> prober_strand;
  boost::asio::steady_timer probe_timer;
  UpstreamClock::time_point next_round;  // on prober_strand

  mutable Mutex mu;
  CondVar changed;  // a probe completed, or an upstream thread exited
  HealthTable table MERIDIAN_GUARDED_BY(mu);
  std::vector<bool> probe_in_flight MERIDIAN_GUARDED_BY(mu);  // [location * count + region]
  Random random MERIDIAN_GUARDED_BY(mu);                      // for idempotency keys
  bool stopping MERIDIAN_GUARDED_BY(mu) = false;
  int threads_running MERIDIAN_GUARDED_BY(mu) = 0;

  std::unique_ptr<HttpServer> server;
  // Created by Start() before any I/O thread runs, and never replaced.
  std::unique_ptr<RespFront> resp_front;
  bool started = false;
  bool stopped = false;
};

}  // namespace meridian::router
