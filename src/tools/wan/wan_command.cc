#include "tools/wan/wan_command.h"

#include <spdlog/spdlog.h>

#include <memory>

#include "config/cluster_config.h"
#include "net/http_server.h"
#include "tools/stop_signals.h"
#include "tools/wan/wan_admin.h"
#include "tools/wan/wan_capture.h"
#include "tools/wan/wan_emulator.h"

namespace meridian {

namespace {

void LogLayout(const ClusterConfig& config, const wan::WanEmulator& emulator) {
  for (const wan::ProxyInfo& proxy : emulator.ListProxies()) {
    spdlog::info("wan: {:<16} {} -> {}", proxy.name, proxy.listen, proxy.upstream);
  }
  for (const LinkConfig& link : config.links) {
    spdlog::info("wan: link {}-{}: rtt {} ms +- {} ms", config.regions[link.a].name,
                 config.regions[link.b].name, link.rtt_ms, link.jitter_ms);
  }
}

}  // namespace

int RunWan(const WanCommandOptions& options) {
  BlockedStopSignals signals;  // first: before any thread starts, and no signal is missed
  Result<ClusterConfig> config = LoadClusterConfig(options.config_path);
  if (!config.ok()) {
    spdlog::error("wan: {}", config.status().message());
    return 2;
  }
  if (!options.TEST_capture_path.empty()) {
    if (Status st = wan::TEST_StartCapture(options.TEST_capture_path); !st.ok()) {
      spdlog::error("wan: --TEST-capture: {}", st.message());
      return 1;
    }
  }
  wan::WanOptions wan_options;
  wan_options.threads = options.threads > 0 ? options.threads : config->wan.threads;
  wan_options.seed = config->wan.seed;
  wan::WanEmulator emulator(wan::ProxySpecsFromConfig(*config), wan_options);
  if (Status started = emulator.Start(); !started.ok()) {
    spdlog::error("wan: {}", started.message());
    return 1;
  }
  HttpServer admin(config->wan.admin.ToString(), wan::MakeWanAdminHandler(emulator));
  if (Status started = admin.Start(); !started.ok()) {
    spdlog::error("wan: admin API: {}", started.message());
    return 1;
  }
  LogLayout(*config, emulator);
  spdlog::info("wan: admin API on http://{} ({} I/O threads); Ctrl-C stops", admin.address(),
               wan_options.threads);
  const int signal = signals.Wait();
  spdlog::info("wan: signal {}; stopping", signal);
  admin.Stop();
  emulator.Stop();
  return 0;
}

void AddWanCommand(CLI::App& app) {
  auto options = std::make_shared<WanCommandOptions>();
  CLI::App* wan = app.add_subcommand(
      "wan",
      "WAN emulator: a latency/jitter/partition proxy for every inter-region link, with a "
      "toxiproxy-shaped admin API");
  wan->add_option("--config", options->config_path, "cluster config (YAML)")->capture_default_str();
  wan->add_option("--threads", options->threads, "I/O threads (default: wan.threads in the config)")
      ->check(CLI::Range(1, 64));
  wan->add_option("--TEST-capture", options->TEST_capture_path,
                  "tests only: append every byte the proxies carry to this file");
  wan->callback([options] {
    const int code = RunWan(*options);
    // CLI11's way to set the exit code from a callback; CLI11_PARSE in main catches it.
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace meridian
