// `meridian chaos`: breaks a running demo cluster on purpose, through the demo's control API
// (kill / restart a region, the router or the emulator), the WAN emulator's toxiproxy API
// (partition, heal, latency) and a region's admin route (clock skew).
#include <spdlog/spdlog.h>
#include <cstdlib>

#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cluster/demo_supervisor.h"
#include "cluster/local_cluster.h"
#include "net/http_client.h"
#include "tools/demo/demo_command.h"

namespace meridian {

namespace {

using Json = nlohmann::json;

struct ChaosOptions {
  std::string control = kDefaultDemoControl;
  std::string endpoints_file;
  // The demo's admin key (its control API and the regions' admin listeners need it): --admin-key,
  // else MERIDIAN_ADMIN_KEY, else the endpoints file's admin_key.
  std::string admin_key;
  int port_offset = 0;  // the demo's --port-offset: the control API moved up by it
  std::string action;
  std::vector<std::string> args;
  int64_t value = 0;
};

Result<Json> CallJson(const std::string& address, const std::string& method,
                      const std::string& target, const std::string& body = "",
                      const std::string& key = "") {
  HttpClientRequest request;
  if (!key.empty()) request.headers.emplace_back("Authorization", "Bearer " + key);
  request.method = method;
  request.target = target;
  request.body = body;
  auto response = HttpFetch(address, request, std::chrono::seconds(15));
  if (!response.ok()) {
    return Unavailable("nothing answers at " + address + " (" + response.status().message() + ")");
  }
  Json parsed = Json::parse(response->body, nullptr, /*allow_exceptions=*/false);
  if (response->status >= 300) {
    std::string message = response->body;
    if (!parsed.is_discarded() && parsed.contains("error") && parsed["error"].is_string()) {
      message = parsed["error"].get<std::string>();
    }
    if (response->status == 401) {
      message +=
          " (pass the demo's admin key: --admin-key, MERIDIAN_ADMIN_KEY or --endpoints-file)";
    }
    return FailedPrecondition(method + " " + target + ": " + std::to_string(response->status) +
                              " " + message);
  }
  if (response->body.empty()) return Json::object();
  if (parsed.is_discarded()) return Internal(target + " answered with invalid JSON");
  return parsed;
}

// The cluster as the demo describes it.
struct Cluster {
  std::string control;
  Json status;  // GET /status of the control API
  std::string admin_key;
  // The region's admin listener ("" when it has none).
  std::string RegionAdmin(const std::string& name) const {
    for (const Json& r : status["regions"]) {
      if (r["name"] == name && r.contains("admin")) return r["admin"];
    }
    return "";
  }
  std::string RegionHttp(const std::string& name) const {
    for (const Json& r : status["regions"]) {
      if (r["name"] == name) return r["http"];
    }
    return "";
  }
};

Result<Cluster> Connect(const ChaosOptions& o) {
  Cluster cluster{o.control, {}, o.admin_key};
  if (cluster.admin_key.empty()) {
    if (const char* env = std::getenv("MERIDIAN_ADMIN_KEY")) cluster.admin_key = env;
  }
  if (o.port_offset > 0) {
    Result<HostPort> control = ParseHostPort(o.control);
    if (!control.ok()) return InvalidArgument("--control: " + control.status().message());
    Result<HostPort> moved = OffsetPort(*control, o.port_offset, "the control API");
    if (!moved.ok()) return moved.status();
    cluster.control = moved->ToString();
  }
  if (!o.endpoints_file.empty()) {
    std::ifstream in(o.endpoints_file);
    Json endpoints = Json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (!in || endpoints.is_discarded() || !endpoints.contains("control")) {
      return InvalidArgument("cannot read the control address from " + o.endpoints_file);
    }
    cluster.control = endpoints["control"];
    if (cluster.admin_key.empty() && endpoints.contains("admin_key")) {
      cluster.admin_key = endpoints["admin_key"];
    }
  }
  auto status = CallJson(cluster.control, "GET", "/status", "", cluster.admin_key);
  if (!status.ok()) {
    return Unavailable("no demo cluster is running: " + status.status().message() +
                       " (start one with `meridian demo`, or pass --control / --endpoints-file)");
  }
  cluster.status = *status;
  return cluster;
}

Status CheckRegions(const Cluster& cluster, const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    if (cluster.RegionHttp(name).empty()) {
      std::string known;
      for (const Json& r : cluster.status["regions"]) {
        known += (known.empty() ? "" : ", ") + r["name"].get<std::string>();
      }
      return InvalidArgument("unknown region '" + name + "' (this demo runs: " + known + ")");
    }
  }
  return Status::Ok();
}

std::string Encoded(const std::string& proxy) {
  std::string out;
  for (char c : proxy)
    out += c == '>' ? std::string("%3E") : std::string(1, c);
  return out;
}

// The emulator's proxies that carry traffic between a and b: replication both ways, and the
// client paths of a router located in one reaching the other.
std::vector<std::string> ProxiesBetween(const std::string& a, const std::string& b) {
  return {a + "->" + b, b + "->" + a, "client-" + a + "->" + b, "client-" + b + "->" + a};
}

Status Pair(const ChaosOptions& o, const Cluster& cluster) {
  if (o.args.size() != 2 || o.args[0] == o.args[1]) {
    return InvalidArgument(o.action + " takes two different regions, e.g. `" + o.action +
                           " us eu`");
  }
  MERIDIAN_RETURN_IF_ERROR(CheckRegions(cluster, o.args));
  const std::string wan = cluster.status["wan_admin"];
  for (const std::string& proxy : ProxiesBetween(o.args[0], o.args[1])) {
    const std::string target = "/proxies/" + Encoded(proxy);
    if (o.action == "partition" || o.action == "heal") {
      const bool enabled = o.action == "heal";
      auto r = CallJson(wan, "POST", target, Json{{"enabled", enabled}}.dump());
      if (!r.ok()) return r.status();
    } else {  // latency: the round trip of the pair becomes `value` ms
      const int64_t up = o.value - o.value / 2, down = o.value / 2;
      for (const auto& [toxic, ms] :
           {std::pair{"matrix_upstream", up}, {"matrix_downstream", down}}) {
        auto r = CallJson(wan, "POST", target + "/toxics/" + toxic,
                          Json{{"attributes", {{"latency", ms}}}}.dump());
        if (!r.ok()) return r.status();
      }
    }
  }
  std::cout << o.action << " " << o.args[0] << " " << o.args[1]
            << (o.action == "latency" ? " rtt " + std::to_string(o.value) + " ms" : "")
            << ": done\n";
  return Status::Ok();
}

// kill, stop and restart take any process the demo runs ("wan", "router", "prometheus" or a
// region); a demo older than the "processes" list offers its regions only.
Status CheckProcess(const Cluster& cluster, const std::string& name) {
  if (!cluster.status.contains("processes")) return CheckRegions(cluster, {name});
  std::string known;
  for (const Json& p : cluster.status["processes"]) {
    if (p["name"] == name) return Status::Ok();
    known += (known.empty() ? "" : ", ") + p["name"].get<std::string>();
  }
  return InvalidArgument("unknown process '" + name + "' (this demo runs: " + known + ")");
}

Status PrintStatus(const Cluster& cluster) {
  std::cout << "regions:\n";
  for (const Json& r : cluster.status["regions"]) {
    std::string health = "down";
    std::string vv;
    if (r["running"].get<bool>()) {
      auto h = CallJson(r["http"], "GET", "/healthz");
      if (h.ok()) {
        health = (*h)["status"];
        vv = (*h)["version_vector"].dump();
      } else {
        health = "not answering";
      }
    }
    std::cout << "  " << r["name"].get<std::string>() << "  " << r["http"].get<std::string>()
              << "  " << health << "  " << vv << "\n";
  }
  if (cluster.status.contains("processes")) {
    std::cout << "processes:\n";
    for (const Json& p : cluster.status["processes"]) {
      std::string state = p["running"].get<bool>()
                              ? "running  pid " + std::to_string(p["pid"].get<int64_t>())
                              : "DOWN";
      if (p.contains("last_exit_code")) {
        state += "  (last exit code " + std::to_string(p["last_exit_code"].get<int>()) + ")";
      }
      std::cout << "  " << p["name"].get<std::string>() << "  " << state << "\n";
    }
  }
  auto proxies = CallJson(cluster.status["wan_admin"], "GET", "/proxies");
  if (!proxies.ok()) {
    // The emulator being down is a state to show, not a reason to hide the rest.
    std::cout << "links: the WAN emulator does not answer (" << proxies.status().message() << ")\n";
    return Status::Ok();
  }
  std::cout << "links (round trip):\n";
  for (const auto& [name, proxy] : proxies->items()) {
    int64_t rtt = 0;
    for (const Json& toxic : proxy["toxics"]) {
      if (toxic["type"] == "latency") rtt += toxic["attributes"]["latency"].get<int64_t>();
    }
    std::cout << "  " << name << "  " << (proxy["enabled"].get<bool>() ? "up" : "CUT") << "  "
              << rtt << " ms\n";
  }
  return Status::Ok();
}

// The alerts the demo's Alertmanager has sent it, oldest first: one line each.
Status PrintAlerts(const Cluster& cluster) {
  auto alerts = CallJson(cluster.control, "GET", "/alerts", "", cluster.admin_key);
  if (!alerts.ok()) return alerts.status();
  if (alerts->empty()) std::cout << "no alert received (yet)\n";
  for (const Json& a : *alerts) {
    std::string labels;
    for (const auto& [name, value] : a["labels"].items()) {
      if (name != "alertname") labels += " " + name + "=" + value.get<std::string>();
    }
    std::cout << a["received_at"].get<std::string>() << "  " << a["status"].get<std::string>()
              << "  " << a["alert"].get<std::string>() << labels << "\n";
  }
  return Status::Ok();
}

Status RunChaos(const ChaosOptions& o) {
  auto cluster = Connect(o);
  if (!cluster.ok()) return cluster.status();
  if (o.action == "status") return PrintStatus(*cluster);
  if (o.action == "alerts") return PrintAlerts(*cluster);
  if (o.action == "partition" || o.action == "heal" || o.action == "latency") {
    return Pair(o, *cluster);
  }
  if (o.args.size() != 1) return InvalidArgument(o.action + " takes one region");
  const std::string& name = o.args[0];
  if (o.action == "skew") {
    MERIDIAN_RETURN_IF_ERROR(CheckRegions(*cluster, o.args));
    const std::string admin = cluster->RegionAdmin(name);
    if (admin.empty()) {
      return FailedPrecondition("region " + name +
                                " has no admin listener (`admin:` in the config)");
    }
    auto r = CallJson(admin, "POST", "/admin/skew?ms=" + std::to_string(o.value), "",
                      cluster->admin_key);
    if (!r.ok()) return r.status();
    std::cout << "skew " << name << ": clock shifted by " << o.value << " ms\n";
    return Status::Ok();
  }
  MERIDIAN_RETURN_IF_ERROR(CheckProcess(*cluster, name));
  const std::string route = cluster->status.contains("processes") ? "/processes/" : "/regions/";
  auto r =
      CallJson(cluster->control, "POST", route + name + "/" + o.action, "", cluster->admin_key);
  if (!r.ok()) return r.status();
  std::cout << o.action << " " << name << ": done\n";
  return Status::Ok();
}

}  // namespace

void AddChaosCommand(CLI::App& app, int* exit_code) {
  CLI::App* chaos = app.add_subcommand(
      "chaos", "Break a running demo cluster: kill, restart, partition, heal, latency, skew");
  chaos->require_subcommand(1);
  auto common = std::make_shared<ChaosOptions>();
  chaos->add_option("--control", common->control, "the demo's control API")->capture_default_str();
  chaos->add_option("--endpoints-file", common->endpoints_file,
                    "read the control address and admin key from the demo's endpoints file");
  chaos->add_option("--admin-key", common->admin_key,
                    "the demo's admin key (default: $MERIDIAN_ADMIN_KEY, or the endpoints file's)");
  chaos
      ->add_option("--port-offset", common->port_offset,
                   "the demo's --port-offset: its control API is moved up by N")
      ->check(CLI::Range(0, 50'000));

  auto add = [&](const std::string& name, const std::string& help, size_t regions,
                 const std::string& value_name) {
    CLI::App* sub = chaos->add_subcommand(name, help);
    auto o = std::make_shared<ChaosOptions>();
    // One positional per region: CLI11 fills a vector positional greedily, value included.
    auto first = std::make_shared<std::string>(), second = std::make_shared<std::string>();
    if (regions >= 1) sub->add_option("region", *first, "REGION")->required();
    if (regions >= 2) sub->add_option("other", *second, "REGION")->required();
    if (!value_name.empty()) {
      auto* opt = sub->add_option(value_name, o->value, value_name)->required();
      if (value_name == "MS_RTT") opt->check(CLI::Range(int64_t{0}, int64_t{60'000}));
      if (value_name == "MS") opt->check(CLI::Range(int64_t{-86'400'000}, int64_t{86'400'000}));
    }
    sub->callback([o, common, name, exit_code, first, second, regions] {
      o->args.clear();
      if (regions >= 1) o->args.push_back(*first);
      if (regions >= 2) o->args.push_back(*second);
      o->control = common->control;
      o->endpoints_file = common->endpoints_file;
      o->admin_key = common->admin_key;
      o->port_offset = common->port_offset;
      o->action = name;
      if (Status done = RunChaos(*o); !done.ok()) {
        std::cerr << "chaos " << name << ": " << done.message() << "\n";
        *exit_code = done.code() == StatusCode::kInvalidArgument ? 2 : 1;
      }
    });
  };
  add("kill", "SIGKILL a region, the router or the wan emulator (a crash)", 1, "");
  add("restart", "start a killed or stopped process again (a region on its data)", 1, "");
  add("stop", "stop a region, the router or the wan emulator gracefully (SIGTERM)", 1, "");
  add("backup", "back up a region online into the demo's backups/REGION (incremental)", 1, "");
  add("restore", "replace a stopped region's data with its latest backup; restart it after", 1, "");
  add("partition", "cut every link between two regions (both directions)", 2, "");
  add("heal", "restore the links between two regions", 2, "");
  add("latency", "set the round trip between two regions", 2, "MS_RTT");
  add("skew", "shift a region's physical clock by MS (negative: behind)", 1, "MS");
  add("status", "regions, their health and the links", 0, "");
  add("alerts", "the alerts the demo's Alertmanager sent it (firing and resolved)", 0, "");
}

}  // namespace meridian
