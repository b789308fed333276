#include "router/router.h"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include <random>

#include "net/endpoint.h"
#include "router/forward_policy.h"
#include "router/healthz.h"
#include "router/router_impl.h"

namespace meridian::router {

namespace asio = boost::asio;

namespace {

// After Stop() has closed every pool and the prober, the upstream threads run out of work almost
// at once; this bounds the wait before the io_context is stopped outright.
constexpr auto kThreadExitWait = std::chrono::seconds(1);

// Idempotency keys must differ between router processes, so the generator is seeded from the OS
// (this is the shell; the deterministic core never sees it).
uint64_t SeedFromOs() {
  std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) ^ device();
}

void CheckTopology(const RouterTopology& topology) {
  const size_t count = topology.region_names.size();
  MERIDIAN_ASSERT(count >= 1 && count <= kMaxRegions);
  MERIDIAN_ASSERT(topology.dial.size() == count && topology.link_rtt_ms.size() == count);
  for (size_t location = 0; location < count; ++location) {
    MERIDIAN_ASSERT(topology.dial[location].size() == count);
    MERIDIAN_ASSERT(topology.link_rtt_ms[location].size() == count);
    MERIDIAN_ASSERT(topology.link_rtt_ms[location][location] == 0);
  }
}

}  // namespace

Router::Impl::Impl(RouterTopology t, RouterOptions o)
    : topology(std::move(t)),
      options(std::move(o)),
      prober_strand(asio::make_strand(ioc)),
      probe_timer(prober_strand),
      table(topology.region_names.size(), options.rtt_ewma_alpha),
      probe_in_flight(topology.region_names.size() * topology.region_names.size(), false),
      random(SeedFromOs()) {
  CheckTopology(topology);
  MERIDIAN_ASSERT(options.location < topology.region_names.size());
  MERIDIAN_ASSERT(options.threads >= 1 && options.health_interval_ms >= 1);
  // Every path renders as down (0) from the first scrape, before any probe answered.
  for (RegionId location = 0; location < region_count(); ++location) {
    for (RegionId region = 0; region < region_count(); ++region) {
      metrics.path_healthy
          .WithLabels({topology.region_names[location], topology.region_names[region]})
          .Set(0);
    }
  }
  for (const std::string& name : topology.region_names) {
    metrics.region_healthy.WithLabels({name}).Set(0);
  }
}

int64_t Router::Impl::NowUs() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(UpstreamClock::now() - epoch)
      .count();
}

Status Router::Impl::CreatePools() {
  forward_pools.assign(region_count(), {});
  probe_pools.assign(region_count(), {});
  for (RegionId location = 0; location < region_count(); ++location) {
    for (RegionId region = 0; region < region_count(); ++region) {
      const std::string& address = topology.dial[location][region];
      Result<asio::ip::tcp::endpoint> endpoint = ResolveEndpoint(address);
      if (!endpoint.ok()) {
        return Status(endpoint.status().code(), "router: region " + topology.region_names[region] +
                                                    " at " + address + ": " +
                                                    endpoint.status().message());
      }
      forward_pools[location].push_back(
          std::make_shared<UpstreamPool>(ioc, address, *endpoint, options.pool));
      // Probes are one at a time per path (contract 1): one connection, kept alive.
      UpstreamPoolOptions probe_options = options.pool;
      probe_options.connections_max = 1;
      probe_options.idle_max = 1;
      probe_pools[location].push_back(
          std::make_shared<UpstreamPool>(ioc, address, *endpoint, probe_options));
    }
  }
  if (!options.prometheus_address.empty()) {
    Result<asio::ip::tcp::endpoint> endpoint = ResolveEndpoint(options.prometheus_address);
    if (!endpoint.ok()) {
      return Status(endpoint.status().code(), "router: --prometheus " + options.prometheus_address +
                                                  ": " + endpoint.status().message());
    }
    UpstreamPoolOptions dashboard_options = options.pool;
    dashboard_options.connections_max = 4;  // a few browsers' queries, not client traffic
    dashboard_options.tls = nullptr;        // Prometheus serves plain HTTP
    prometheus_pool = std::make_shared<UpstreamPool>(ioc, options.prometheus_address, *endpoint,
                                                     dashboard_options);
  }
  return Status::Ok();
}

void Router::Impl::RunThread() {
  for (;;) {
    try {
      ioc.run();
      break;
    } catch (const std::exception& e) {
      spdlog::error("router: upstream I/O thread caught: {}", e.what());
    }
  }
  MutexLock lock(&mu);
  --threads_running;
  changed.SignalAll();
}

void Router::Impl::ProbeRound() {
  const RegionId count = region_count();
  for (RegionId location = 0; location < count; ++location) {
    for (RegionId region = 0; region < count; ++region) {
      {
        MutexLock lock(&mu);
        if (stopping) return;
        if (probe_in_flight[location * count + region]) continue;
        probe_in_flight[location * count + region] = true;
      }
      HttpClientRequest probe;
      probe.target = "/healthz";
      const int64_t timeout_ms = ProbeTimeoutMs(options, topology.link_rtt_ms[location][region]);
      const int64_t started_us = NowUs();
      probe_pools[location][region]->Send(
          probe, UpstreamClock::now() + std::chrono::milliseconds(timeout_ms),
          [this, location, region, started_us](Result<HttpResponse> result) {
            OnProbe(location, region, started_us, std::move(result));
          });
    }
  }
  // Fixed rate; a round that fell behind (a stalled machine) restarts the schedule from now.
  const auto now = UpstreamClock::now();
  next_round += std::chrono::milliseconds(options.health_interval_ms);
  if (next_round <= now) next_round = now + std::chrono::milliseconds(options.health_interval_ms);
  probe_timer.expires_at(next_round);
  probe_timer.async_wait([this](boost::system::error_code ec) {
    if (!ec) ProbeRound();
  });
}

void Router::Impl::OnProbe(RegionId location, RegionId region, int64_t started_us,
                           Result<HttpResponse> result) {
  const int64_t now_us = NowUs();
  const std::string& name = topology.region_names[region];
  Result<std::string> status =
      result.ok() ? ParseHealthz(*result, name) : Result<std::string>(result.status());
  HealthEvent event;
  std::string cause;
  {
    MutexLock lock(&mu);
    probe_in_flight[location * region_count() + region] = false;
    if (status.ok()) {
      cause = "status " + *status;
      event = table.OnProbeAnswered(location, region, started_us, now_us, *status);
    } else {
      cause = "probe: " + status.status().message();
      event = table.OnProbeFailed(location, region, now_us, cause);
    }
  }
  changed.SignalAll();
  Apply(location, region, event, cause);
}

void Router::Impl::Apply(RegionId location, RegionId region, const HealthEvent& event,
                         const std::string& cause) {
  if (event.change == HealthChange::kNone) return;
  const bool up = event.change == HealthChange::kUp;
  const std::string& from = topology.region_names[location];
  const std::string& to = topology.region_names[region];
  metrics.path_healthy.WithLabels({from, to}).Set(up ? 1 : 0);
  if (location == options.location) metrics.region_healthy.WithLabels({to}).Set(up ? 1 : 0);
  if (event.detection_us) {
    metrics.failure_detection.Observe(static_cast<double>(*event.detection_us) / 1e6);
  }
  if (up) {
    spdlog::info("router: {} -> {}: up", from, to);
    return;
  }
  spdlog::warn("router: {} -> {}: down ({})", from, to, cause);
  if (event.failure) {
    const std::string reason =
        "region " + to + " marked down for clients in " + from + ": " + cause;
    forward_pools[location][region]->Abort(reason);
    // RESP connections to a region are shared by every location's clients: those of other
    // locations are retried too, which their idempotency keys make safe.
    if (resp_front) resp_front->AbortRegion(region, reason);
  }
}

Status Router::Impl::StartResp() {
  if (options.resp_address.empty()) return Status::Ok();
  if (topology.resp_dial.size() != topology.region_names.size()) {
    return InvalidArgument("router: a RESP listener (" + options.resp_address +
                           ") needs every region's resp address");
  }
  RespFrontOptions resp;
  resp.address = options.resp_address;
  resp.region_names = topology.region_names;
  resp.resp_dial = topology.resp_dial;
  resp.slices = topology.slices;
  resp.default_location = options.location;
  resp.forward_timeout_ms = options.forward_timeout_ms;
  resp.keys = options.keys.get();
  resp.upstream_key = options.upstream_key;
  resp.max_clients = options.max_connections;
  resp.handshake_timeout_ms = options.resp_handshake_timeout_ms;
  resp.command_timeout_ms = options.resp_command_timeout_ms;
  resp.idle_timeout_ms = options.resp_idle_timeout_ms;
  resp.listener_tls = options.listener_tls;
  resp.upstream_tls = options.upstream_tls;
  resp.residency = topology.residency;
  RespFrontHooks hooks;
  hooks.choose = [this](RegionId location, const std::vector<RegionId>& tried) {
    MutexLock lock(&mu);
    if (stopping) return std::optional<RegionId>();
    return table.ChooseNext(location, tried);
  };
  hooks.forward_failed = [this](RegionId location, RegionId region, const std::string& what) {
    HealthEvent event;
    {
      MutexLock lock(&mu);
      event = table.OnForwardFailed(location, region, NowUs(), "resp forward: " + what);
    }
    Apply(location, region, event, "resp forward: " + what);
  };
  hooks.new_key = [this] {
    MutexLock lock(&mu);
    const uint64_t high = random.Next();
    return FormatIdempotencyKey(high, random.Next());
  };
  resp_front = std::make_unique<RespFront>(ioc, std::move(resp), std::move(hooks), metrics);
  return resp_front->Start();
}

Router::Router(RouterTopology topology, RouterOptions options)
    : impl_(std::make_unique<Impl>(std::move(topology), std::move(options))) {}

Router::~Router() {
  Stop();
}

Status Router::Start() {
  Impl& impl = *impl_;
  MERIDIAN_ASSERT(!impl.started);
  MERIDIAN_RETURN_IF_ERROR(impl.CreatePools());
  // Before any I/O thread runs: a probe's failure may abort RESP commands from then on.
  MERIDIAN_RETURN_IF_ERROR(impl.StartResp());
  impl.started = true;
  impl.work.emplace(impl.ioc.get_executor());
  {
    MutexLock lock(&impl.mu);
    impl.threads_running = impl.options.threads;
  }
  for (int i = 0; i < impl.options.threads; ++i) {
    impl.threads.emplace_back([&impl] { impl.RunThread(); });
  }
  asio::post(impl.prober_strand, [&impl] {
    impl.next_round = UpstreamClock::now();
    impl.ProbeRound();
  });
  HttpServerOptions server_options;
  server_options.threads = impl.options.threads;
  server_options.max_connections = impl.options.max_connections;
  server_options.tls = impl.options.listener_tls;
  impl.server = std::make_unique<HttpServer>(
      impl.options.http_address,
      [&impl](HttpRequest request, HttpResponder respond) {
        impl.Handle(std::move(request), std::move(respond));
      },
      server_options);
  if (Status listening = impl.server->Start(); !listening.ok()) {
    Stop();
    return listening;
  }
  return Status::Ok();
}

void Router::Stop() {
  Impl& impl = *impl_;
  if (!impl.started || impl.stopped) return;
  impl.stopped = true;
  if (impl.server) impl.server->Stop();  // in-flight forwards finish within its grace
  if (impl.resp_front) impl.resp_front->Stop();
  {
    MutexLock lock(&impl.mu);
    impl.stopping = true;
  }
  asio::post(impl.prober_strand, [&impl] { impl.probe_timer.cancel(); });
  for (auto* pools : {&impl.forward_pools, &impl.probe_pools}) {
    for (auto& row : *pools) {
      for (auto& pool : row) {
        pool->Close();
      }
    }
  }
  if (impl.prometheus_pool) impl.prometheus_pool->Close();
  impl.work.reset();
  {
    MutexLock lock(&impl.mu);
    const auto deadline = std::chrono::steady_clock::now() + kThreadExitWait;
    while (impl.threads_running != 0) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) {
        impl.ioc.stop();
        break;
      }
      impl.changed.WaitFor(&impl.mu, deadline - now);
    }
  }
  for (std::thread& thread : impl.threads) {
    thread.join();
  }
}

std::string Router::address() const {
  MERIDIAN_ASSERT(impl_->started && impl_->server);
  return impl_->server->address();
}

std::string Router::resp_address() const {
  MERIDIAN_ASSERT(impl_->started && impl_->resp_front);
  return impl_->resp_front->address();
}

bool Router::WaitUntilProbed(std::chrono::milliseconds timeout) {
  MutexLock lock(&impl_->mu);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!impl_->table.AllProbed()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    impl_->changed.WaitFor(&impl_->mu, deadline - now);
  }
  return true;
}

std::string Router::StatusJson() const {
  return impl_->StatusJson();
}

std::string Router::Summary() const {
  return impl_->Summary();
}

std::string Router::MetricsText() const {
  return impl_->RenderMetrics();
}

}  // namespace meridian::router
