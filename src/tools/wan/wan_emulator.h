// WanEmulator: every inter-region TCP link of the cluster, with latency, jitter, bandwidth
// limits, stalls and partitions; the engine behind `meridian wan`.
//
// Model (see also toxic.h and proxy_connection.h):
//  1. Each proxy forwards one link ("us->eu": us dials it to reach eu's replication port;
//     "client-us->eu": the router in us reaches eu's HTTP API). Its baseline is the config's
//     latency matrix, shown as two latency toxics, "matrix_upstream" and "matrix_downstream",
//     each rtt_ms/2 with jitter_ms/2: a round trip takes rtt_ms +- jitter_ms, every direction of
//     every connection is delayed independently, and bytes are never reordered.
//  2. Extra toxics add to the baseline (a latency toxic raises the latency); Reset() restores it.
//  3. A disabled proxy is a cut link; enabling it heals the link and resets the connections that
//     saw the cut (no held byte is delivered; see ProxyConnection invariant 4).
//  4. Timing is done with Asio timers on `threads` I/O threads: no thread sleeps or spins.
//     A proxy adds ~0.1 ms of its own plus timer wake-ups (~0.5 ms per round trip when idle).
//  5. The TCP handshake is local (the proxy accepts at once), so connecting costs no emulated
//     RTT; the first bytes pay the link latency like all others.
//
// Thread-safety: all methods may be called from any thread once constructed; Start/Stop from
// the owner.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <memory>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include "base/status.h"
#include "base/thread_annotations.h"
#include "config/cluster_config.h"
#include "tools/wan/proxy_server.h"
#include "tools/wan/toxic.h"

namespace meridian::wan {

struct WanOptions {
  int threads = 1;    // one is plenty for a lab's traffic on a two-core machine
  uint64_t seed = 1;  // jitter draws; each connection gets its own stream from it
};

// The baseline toxics for a link of `rtt_ms` +- `jitter_ms` (see model point 1).
std::vector<Toxic> MatrixToxics(int64_t rtt_ms, int64_t jitter_ms);

// One spec per proxy of WanProxyLayout(config), with the matrix as baseline.
std::vector<ProxySpec> ProxySpecsFromConfig(const ClusterConfig& config);

class WanEmulator {
 public:
  WanEmulator(std::vector<ProxySpec> proxies, WanOptions options);
  ~WanEmulator();  // Stop()s
  WanEmulator(const WanEmulator&) = delete;
  WanEmulator& operator=(const WanEmulator&) = delete;

  // Binds every proxy and starts the threads; if any proxy cannot bind, nothing runs and the
  // error names it. REQUIRES: called once.
  Status Start() MERIDIAN_EXCLUDES(mu_);
  // Stops accepting, resets every connection, joins the threads. Idempotent.
  void Stop() MERIDIAN_EXCLUDES(mu_);

  std::vector<ProxyInfo> ListProxies() const;               // in spec order
  Result<ProxyInfo> GetProxy(std::string_view name) const;  // NotFound
  Result<ProxyInfo> SetEnabled(std::string_view name, bool enabled);
  Status AddToxic(std::string_view proxy, Toxic toxic);  // NotFound, AlreadyExists
  Result<Toxic> GetToxic(std::string_view proxy, std::string_view toxic) const;
  Status ReplaceToxic(std::string_view proxy, Toxic toxic);  // by toxic.name
  Status RemoveToxic(std::string_view proxy, std::string_view toxic);
  // Every proxy enabled again, with only its baseline toxics.
  void Reset();

 private:
  ProxyServer* Find(std::string_view name) const;
  void RunThread() MERIDIAN_EXCLUDES(mu_);

  const WanOptions options_;
  boost::asio::io_context ioc_;  // declared first: outlives the proxies and their sockets
  std::vector<std::unique_ptr<ProxyServer>> proxies_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::vector<std::thread> threads_;
  Mutex mu_;
  CondVar threads_exited_;
  int threads_running_ MERIDIAN_GUARDED_BY(mu_) = 0;
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace meridian::wan
