#include "tools/status/status_command.h"

#include <unistd.h>  // isatty

#include <csignal>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cluster/demo_supervisor.h"
#include "cluster/local_cluster.h"
#include "config/cluster_config.h"
#include "net/http_client.h"
#include "tools/status/status_report.h"
#include "tools/stop_signals.h"

namespace meridian {

namespace {

using Json = nlohmann::json;

// Per request: a region that takes longer than this to answer /healthz is shown as down.
constexpr std::chrono::milliseconds kFetchTimeout{2000};
// --watch's bounds: a redraw per second at most, and at least one a day.
constexpr int kWatchSecondsMin = 1;
constexpr int kWatchSecondsMax = 86'400;

struct StatusOptions {
  std::string endpoints_file;
  std::string config_path;
  std::string control = kDefaultDemoControl;
  int port_offset = 0;
  std::string watch;  // "" without --watch; else seconds, "" meaning the default
  bool watching = false;
  bool json = false;
};

struct Endpoints {
  std::vector<std::pair<std::string, std::string>> regions;  // name, http host:port
  std::string router;
};

Result<Endpoints> ReadEndpoints(const StatusOptions& o) {
  Endpoints out;
  if (!o.config_path.empty()) {
    Result<ClusterConfig> config = LoadClusterConfig(o.config_path);
    if (!config.ok()) return config.status();
    for (const RegionConfig& r : config->regions)
      out.regions.emplace_back(r.name, r.http.ToString());
    out.router = config->router.http.ToString();
    return out;
  }
  std::string path = o.endpoints_file;
  if (path.empty()) {
    Result<HostPort> control = ParseHostPort(o.control);
    if (!control.ok()) return InvalidArgument("--control: " + control.status().message());
    if (o.port_offset > 0) {
      control = OffsetPort(*control, o.port_offset, "the control API");
      if (!control.ok()) return control.status();
    }
    path = DefaultDemoEndpointsFile(*control);
  }
  std::ifstream in(path);
  if (!in) {
    return NotFound("no endpoints file " + path +
                    " (is `meridian demo` running? else pass --endpoints-file or --config)");
  }
  const Json endpoints = Json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!endpoints.is_object() || !endpoints.contains("regions") ||
      !endpoints["regions"].is_object()) {
    return InvalidArgument(path + " is not a demo endpoints file (no \"regions\" object)");
  }
  for (const auto& [name, region] : endpoints["regions"].items()) {
    if (!region.is_object() || !region.contains("http") || !region["http"].is_string()) {
      return InvalidArgument(path + ": region " + name + " has no http address");
    }
    out.regions.emplace_back(name, region["http"].get<std::string>());
  }
  if (endpoints.contains("router") && endpoints["router"].is_string())
    out.router = endpoints["router"];
  // The file's regions are by name; the demo's config gives their order (invariant 3 of
  // status_report.h), when it is still there.
  if (endpoints.contains("config") && endpoints["config"].is_string()) {
    Result<ClusterConfig> config = LoadClusterConfig(endpoints["config"].get<std::string>());
    if (config.ok()) {
      std::vector<std::pair<std::string, std::string>> ordered;
      for (const RegionConfig& r : config->regions) {
        for (const auto& region : out.regions) {
          if (region.first == r.name) ordered.push_back(region);
        }
      }
      if (ordered.size() == out.regions.size()) out.regions = std::move(ordered);
    }
  }
  return out;
}

std::optional<std::string> Get(const std::string& address, const std::string& target) {
  HttpClientRequest request;
  request.target = target;
  auto response = HttpFetch(address, request, kFetchTimeout);
  // /healthz answers 503 for a draining or failed region, with its status in the body.
  if (!response.ok() || (response->status != 200 && response->status != 503)) return std::nullopt;
  return response->body;
}

ClusterStatus Collect(const Endpoints& endpoints, std::map<std::string, RegionScrape>* previous) {
  ClusterStatus status;
  status.router = endpoints.router;
  std::map<std::string, bool> router_view;
  if (!endpoints.router.empty()) {
    std::optional<std::string> metrics = Get(endpoints.router, "/router/metrics");
    status.router_up = metrics.has_value();
    if (metrics) router_view = RouterHealthy(*metrics);
  }
  for (const auto& [name, http] : endpoints.regions) {
    RegionScrape scrape{name, http, Get(http, "/healthz"), std::nullopt};
    if (scrape.healthz) scrape.metrics = Get(http, "/metrics");
    auto before = previous->find(name);
    RegionStatus region =
        SummarizeRegion(scrape, before == previous->end() ? nullptr : &before->second);
    if (auto seen = router_view.find(name); seen != router_view.end()) {
      region.router_healthy = seen->second;
    }
    status.regions.push_back(std::move(region));
    if (scrape.metrics) (*previous)[name] = std::move(scrape);
  }
  return status;
}

Status RunStatus(const StatusOptions& o) {
  int seconds = 2;
  if (o.watching && !o.watch.empty()) {
    try {
      seconds = std::stoi(o.watch);
    } catch (...) {
      seconds = 0;
    }
    if (seconds < kWatchSecondsMin || seconds > kWatchSecondsMax) {
      return InvalidArgument("--watch takes whole seconds from 1 to 86400; got '" + o.watch + "'");
    }
  }
  Result<Endpoints> endpoints = ReadEndpoints(o);
  if (!endpoints.ok()) return endpoints.status();
  std::map<std::string, RegionScrape> previous;
  BlockedStopSignals signals;  // Ctrl-C ends a watch between two draws, never inside one
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  const bool terminal = ::isatty(STDOUT_FILENO) == 1;
  while (true) {
    const ClusterStatus status = Collect(*endpoints, &previous);
    if (o.watching && terminal && !o.json) std::cout << "\033[H\033[2J";  // redraw in place
    if (o.json) {
      std::cout << StatusJson(status).dump(o.watching ? -1 : 2) << std::endl;
    } else {
      if (o.watching) {
        const std::time_t now = std::time(nullptr);
        char at[32];
        std::strftime(at, sizeof at, "%H:%M:%S", std::localtime(&now));
        std::cout << "meridian status  " << at << "  (every " << seconds
                  << " s; p99s over the last interval; Ctrl-C stops)\n\n";
      }
      std::cout << RenderStatusText(status) << std::flush;
    }
    if (!o.watching) return Status::Ok();
    const timespec wait{seconds, 0};
    if (sigtimedwait(&stop, nullptr, &wait) > 0) return Status::Ok();
  }
}

}  // namespace

void AddStatusCommand(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<StatusOptions>();
  CLI::App* cmd = app.add_subcommand(
      "status", "The cluster at a glance: per region health, peers, lag, backlog, p99s, clocks");
  cmd->add_option("--endpoints-file", o->endpoints_file,
                  "a demo's endpoints file (default: the one `meridian demo` writes for its "
                  "control port)");
  cmd->add_option("--config", o->config_path, "read the regions and router from a cluster config")
      ->excludes("--endpoints-file");
  cmd->add_option("--control", o->control, "the demo's control API (names its endpoints file)")
      ->capture_default_str();
  cmd->add_option("--port-offset", o->port_offset, "the demo's --port-offset")
      ->check(CLI::Range(0, 50'000));
  CLI::Option* watch = cmd->add_option("--watch", o->watch,
                                       "redraw every SECONDS (default 2) until Ctrl-C; p99s are "
                                       "then over the last interval")
                           ->expected(0, 1)
                           ->type_name("[SECONDS]");
  cmd->add_flag("--json", o->json, "print JSON (one document per draw with --watch)");
  cmd->callback([o, exit_code, watch] {
    o->watching = watch->count() > 0;
    if (Status done = RunStatus(*o); !done.ok()) {
      std::cerr << "status: " << done.message() << "\n";
      *exit_code = done.code() == StatusCode::kInvalidArgument ? 2 : 1;
    }
  });
}

}  // namespace meridian
