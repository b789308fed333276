#include "tools/wan/wan_emulator.h"

#include <spdlog/spdlog.h>

#include <chrono>

namespace meridian::wan {

namespace {

// After Stop() resets every connection the threads run out of work almost at once; this bounds
// the wait before the io_context is stopped outright.
constexpr auto kThreadExitWait = std::chrono::seconds(1);

Status ProxyNotFound(std::string_view name) {
  return NotFound("no proxy named '" + std::string(name) + "'");
}

}  // namespace

std::vector<Toxic> MatrixToxics(int64_t rtt_ms, int64_t jitter_ms) {
  // An odd RTT or jitter puts the extra millisecond upstream, so the two halves sum exactly.
  Toxic up{"matrix_upstream",
           ToxicType::kLatency,
           ToxicStream::kUpstream,
           rtt_ms - rtt_ms / 2,
           jitter_ms - jitter_ms / 2,
           0,
           0};
  Toxic down{"matrix_downstream",
             ToxicType::kLatency,
             ToxicStream::kDownstream,
             rtt_ms / 2,
             jitter_ms / 2,
             0,
             0};
  return {down, up};
}

std::vector<ProxySpec> ProxySpecsFromConfig(const ClusterConfig& config) {
  std::vector<ProxySpec> specs;
  for (const WanProxy& proxy : WanProxyLayout(config)) {
    specs.push_back(ProxySpec{proxy.name, proxy.listen.ToString(), proxy.upstream.ToString(),
                              MatrixToxics(proxy.rtt_ms, proxy.jitter_ms)});
  }
  return specs;
}

WanEmulator::WanEmulator(std::vector<ProxySpec> proxies, WanOptions options) : options_(options) {
  MERIDIAN_ASSERT(options.threads >= 1);
  uint64_t index = 0;
  for (ProxySpec& spec : proxies) {
    // Spread the seeds far apart so proxies' per-connection streams (seed + id) never overlap.
    const uint64_t seed = options.seed ^ (++index << 40);
    proxies_.push_back(std::make_unique<ProxyServer>(ioc_, std::move(spec), seed));
  }
}

WanEmulator::~WanEmulator() {
  Stop();
}

Status WanEmulator::Start() {
  MERIDIAN_ASSERT(!started_);
  for (const auto& proxy : proxies_) {
    MERIDIAN_RETURN_IF_ERROR(proxy->Listen());
  }
  started_ = true;
  work_.emplace(ioc_.get_executor());
  for (const auto& proxy : proxies_) {
    proxy->StartAccepting();
  }
  {
    MutexLock lock(&mu_);
    threads_running_ = options_.threads;
  }
  for (int i = 0; i < options_.threads; ++i) {
    threads_.emplace_back([this] { RunThread(); });
  }
  return Status::Ok();
}

void WanEmulator::RunThread() {
  for (;;) {
    try {
      ioc_.run();
      break;
    } catch (const std::exception& e) {
      spdlog::error("wan: I/O thread caught: {}", e.what());
    }
  }
  MutexLock lock(&mu_);
  --threads_running_;
  threads_exited_.SignalAll();
}

void WanEmulator::Stop() {
  if (!started_ || stopped_) return;
  stopped_ = true;
  for (const auto& proxy : proxies_) {
    proxy->Shutdown();
  }
  work_.reset();
  {
    MutexLock lock(&mu_);
    const auto deadline = std::chrono::steady_clock::now() + kThreadExitWait;
    while (threads_running_ != 0) {
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) {
        ioc_.stop();
        break;
      }
      threads_exited_.WaitFor(&mu_, deadline - now);
    }
  }
  for (std::thread& thread : threads_) {
    thread.join();
  }
}

ProxyServer* WanEmulator::Find(std::string_view name) const {
  for (const auto& proxy : proxies_) {
    if (proxy->name() == name) return proxy.get();
  }
  return nullptr;
}

std::vector<ProxyInfo> WanEmulator::ListProxies() const {
  std::vector<ProxyInfo> out;
  for (const auto& proxy : proxies_) {
    out.push_back(proxy->Info());
  }
  return out;
}

Result<ProxyInfo> WanEmulator::GetProxy(std::string_view name) const {
  ProxyServer* proxy = Find(name);
  if (proxy == nullptr) return ProxyNotFound(name);
  return proxy->Info();
}

Result<ProxyInfo> WanEmulator::SetEnabled(std::string_view name, bool enabled) {
  ProxyServer* proxy = Find(name);
  if (proxy == nullptr) return ProxyNotFound(name);
  proxy->SetEnabled(enabled);
  spdlog::info("wan: proxy {} {}", name, enabled ? "enabled (link healed)" : "disabled (link cut)");
  return proxy->Info();
}

Status WanEmulator::AddToxic(std::string_view proxy_name, Toxic toxic) {
  ProxyServer* proxy = Find(proxy_name);
  if (proxy == nullptr) return ProxyNotFound(proxy_name);
  return proxy->AddToxic(std::move(toxic));
}

Result<Toxic> WanEmulator::GetToxic(std::string_view proxy_name, std::string_view toxic) const {
  ProxyServer* proxy = Find(proxy_name);
  if (proxy == nullptr) return ProxyNotFound(proxy_name);
  std::optional<Toxic> found = proxy->FindToxic(toxic);
  if (!found) return NotFound("no toxic '" + std::string(toxic) + "' on proxy " + proxy->name());
  return *found;
}

Status WanEmulator::ReplaceToxic(std::string_view proxy_name, Toxic toxic) {
  ProxyServer* proxy = Find(proxy_name);
  if (proxy == nullptr) return ProxyNotFound(proxy_name);
  return proxy->ReplaceToxic(std::move(toxic));
}

Status WanEmulator::RemoveToxic(std::string_view proxy_name, std::string_view toxic) {
  ProxyServer* proxy = Find(proxy_name);
  if (proxy == nullptr) return ProxyNotFound(proxy_name);
  return proxy->RemoveToxic(toxic);
}

void WanEmulator::Reset() {
  for (const auto& proxy : proxies_) {
    proxy->Reset();
  }
  spdlog::info("wan: reset every proxy to the configured matrix");
}

}  // namespace meridian::wan
