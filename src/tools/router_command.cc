#include "tools/router_command.h"

#include <spdlog/spdlog.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "auth/key_store.h"
#include "config/cluster_config.h"
#include "net/tls_context.h"
#include "router/router.h"
#include "tls/cert_files.h"
#include "tls/cluster_tls.h"
#include "tools/stop_signals.h"

namespace meridian {

namespace {

struct RouterFlags {
  std::string config_path = "deploy/local.yaml";
  std::string location;  // "": the first region of the config
  std::string http;      // "": router.http of the config
  std::string resp;      // "": router.resp of the config (none if it names none)
  int threads = 1;
  std::string prometheus;  // "": the dashboard reads the regions' /metrics
  size_t max_connections = router::RouterOptions{}.max_connections;
  bool client_tls = false;
  int64_t slow_request_ms = router::RouterOptions{}.slow_request_ms;
  int64_t resp_handshake_timeout_ms = router::RouterOptions{}.resp_handshake_timeout_ms;
  int64_t resp_command_timeout_ms = router::RouterOptions{}.resp_command_timeout_ms;
  int64_t resp_idle_timeout_ms = router::RouterOptions{}.resp_idle_timeout_ms;
};

std::string RegionList(const ClusterConfig& config) {
  std::string out;
  for (const RegionConfig& region : config.regions) {
    out += (out.empty() ? "" : ", ") + region.name;
  }
  return out;
}

// How long startup waits for the first probe of every path before saying where regions stand;
// routing starts at once either way.
constexpr auto kFirstProbeWait = std::chrono::seconds(3);

// The cluster's keys (the RESP front end checks clients' grants itself) and the router's own key
// for its upstream RESP connections. HTTP needs neither: Authorization passes through.
Status LoadRouterAuth(const ClusterConfig& config, router::RouterOptions* options) {
  if (!config.auth) {
    spdlog::warn(
        "router: the cluster config has no `auth` section: client authentication is OFF "
        "(docs/security.md)");
    return Status::Ok();
  }
  auto keys = auth::KeyStore::Load(config.auth->keys_file);
  if (!keys.ok()) return keys.status();
  options->keys = std::make_shared<const auth::KeyStore>(std::move(keys).value());
  if (config.auth->router_key_file.empty()) {
    if (!options->resp_address.empty()) {
      spdlog::warn("router: auth.router_key_file is not set: RESP commands cannot reach regions");
    }
    return Status::Ok();
  }
  std::ifstream in(config.auth->router_key_file);
  std::string key;
  if (!(in >> key)) return NotFound("cannot read the router key " + config.auth->router_key_file);
  options->upstream_key = key;
  return Status::Ok();
}

// Client TLS (`tls: {client: true}` or --client-tls): the listeners serve the certificate
// directory's listener.pem, and the links to the regions' client listeners verify them against
// its ca.pem (they serve the same listener certificate).
Status LoadRouterTls(ClusterConfig& config, bool flag, router::RouterOptions* options) {
  MERIDIAN_RETURN_IF_ERROR(ApplyClientTls(config, flag));
  if (!config.tls || !config.tls->client) return Status::Ok();
  const std::string& dir = config.tls->dir;
  Result<TlsContextPtr> listener =
      MakeServerTlsContext(ListenerCertPath(dir), ListenerKeyPath(dir));
  if (!listener.ok()) return listener.status();
  Result<TlsContextPtr> upstream = MakeClientTlsContext(CaCertPath(dir));
  if (!upstream.ok()) return upstream.status();
  options->listener_tls = *listener;
  options->upstream_tls = *upstream;
  options->pool.tls = *upstream;
  return Status::Ok();
}

int RunRouter(const RouterFlags& flags) {
  BlockedStopSignals signals;  // first: before any thread starts, and no signal is missed
  Result<ClusterConfig> config = LoadClusterConfig(flags.config_path);
  if (!config.ok()) {
    spdlog::error("router: {}", config.status().message());
    return 2;
  }
  RegionId location = 0;
  if (!flags.location.empty()) {
    std::optional<RegionId> id = config->RegionIdByName(flags.location);
    if (!id) {
      spdlog::error("router: --location: unknown region '{}' (regions: {})", flags.location,
                    RegionList(*config));
      return 2;
    }
    location = *id;
  }
  router::RouterOptions options = router::RouterOptionsFromConfig(*config, location);
  if (!flags.http.empty()) options.http_address = flags.http;
  if (!flags.resp.empty()) options.resp_address = flags.resp;
  options.threads = flags.threads;
  options.prometheus_address = flags.prometheus;
  if (Status loaded = LoadRouterAuth(*config, &options); !loaded.ok()) {
    spdlog::error("router: auth: {}", loaded.message());
    return 2;
  }
  options.max_connections = flags.max_connections;
  if (Status tls = LoadRouterTls(*config, flags.client_tls, &options); !tls.ok()) {
    spdlog::error("router: client TLS: {}", tls.message());
    return 2;
  }
  options.slow_request_ms = flags.slow_request_ms;
  options.resp_handshake_timeout_ms = flags.resp_handshake_timeout_ms;
  options.resp_command_timeout_ms = flags.resp_command_timeout_ms;
  options.resp_idle_timeout_ms = flags.resp_idle_timeout_ms;
  auto topology = router::RouterTopologyFromConfig(*config);
  if (!topology.ok()) {
    spdlog::error("router: {}", topology.status().message());
    return 2;
  }
  router::Router router(std::move(topology).value(), options);
  if (Status started = router.Start(); !started.ok()) {
    spdlog::error("router: {}", started.message());
    return 1;
  }
  spdlog::info(
      "router: {}://{} for clients in {} (X-Client-Region overrides); probing every "
      "{} ms; {} I/O threads per side; Ctrl-C stops",
      options.listener_tls ? "https" : "http", router.address(), config->regions[location].name,
      options.health_interval_ms, options.threads);
  if (options.listener_tls) {
    spdlog::info("router: client TLS (1.3) on its listeners and towards the regions (CA {})",
                 CaCertPath(config->tls->dir));
  }
  if (!options.resp_address.empty()) {
    spdlog::info("router: resp {} for Redis clients (MERIDIAN.REGION names a client's region)",
                 router.resp_address());
  }
  router.WaitUntilProbed(kFirstProbeWait);
  std::istringstream summary(router.Summary());
  for (std::string line; std::getline(summary, line);) {
    spdlog::info("router: {}", line);
  }
  const int signal = signals.Wait();
  spdlog::info("router: signal {}; stopping", signal);
  router.Stop();
  return 0;
}

}  // namespace

void AddRouterCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<RouterFlags>();
  CLI::App* command = app.add_subcommand(
      "router",
      "Geo-router: forwards client HTTP requests and Redis-protocol commands to the nearest "
      "healthy region by measured RTT and fails over on its own");
  command->add_option("--config", flags->config_path, "cluster config (YAML)")
      ->capture_default_str();
  command->add_option("--location", flags->location,
                      "region the router's clients are in (default: the config's first region)");
  command->add_option("--http", flags->http,
                      "listen address host:port (default: router.http in the config)");
  command->add_option("--resp", flags->resp,
                      "Redis-protocol listen address host:port (default: router.resp in the "
                      "config; every region needs a resp listener)");
  command->add_option("--threads", flags->threads, "I/O threads for each side (listen, upstream)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  command->add_option("--prometheus", flags->prometheus,
                      "Prometheus host:port that /dashboard queries through the router (default: "
                      "none; the dashboard then reads the regions' /metrics)");
  command
      ->add_option("--max-connections", flags->max_connections,
                   "client connections served at once per listener (HTTP, RESP); past it a "
                   "new one is answered 503 / -ERR max number of clients reached, and closed")
      ->check(CLI::Range(size_t{1}, size_t{1'000'000}))
      ->capture_default_str();
  command->add_flag("--client-tls", flags->client_tls,
                    "TLS 1.3 on the HTTP and RESP listeners and towards the regions' client "
                    "listeners (as `tls: {client: true}`); needs the config's tls: dir");
  command
      ->add_option("--slow-request-ms", flags->slow_request_ms,
                   "log a request answered after this many ms as one JSON line with its "
                   "X-Request-Id (0: every request, -1: none)")
      ->check(CLI::Range(int64_t{-1}, int64_t{3'600'000}))
      ->capture_default_str();
  command
      ->add_option("--resp-handshake-timeout-ms", flags->resp_handshake_timeout_ms,
                   "close a RESP client whose TLS handshake has not finished after this many "
                   "ms (0: never)")
      ->check(CLI::Range(int64_t{0}, int64_t{3'600'000}))
      ->capture_default_str();
  command
      ->add_option("--resp-command-timeout-ms", flags->resp_command_timeout_ms,
                   "close a RESP client whose command has begun but is still incomplete after "
                   "this many ms, however steadily its bytes trickle in (0: never)")
      ->check(CLI::Range(int64_t{0}, int64_t{3'600'000}))
      ->capture_default_str();
  command
      ->add_option("--resp-idle-timeout-ms", flags->resp_idle_timeout_ms,
                   "close a RESP client connection with nothing read or written for this many "
                   "ms and no command unanswered (0: never)")
      ->check(CLI::Range(int64_t{0}, int64_t{86'400'000}))
      ->capture_default_str();
  command->callback([flags, exit_code] { *exit_code = RunRouter(*flags); });
}

}  // namespace meridian
