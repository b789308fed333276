#include "tools/demo/demo_supervisor.h"

#include <spdlog/spdlog.h>
#include <stdlib.h>  // mkdtemp

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <thread>

#include "net/http_client.h"
#include "tools/process/listener.h"
#include "tools/process/local_cluster.h"

namespace meridian {

namespace {

using Json = nlohmann::json;
using std::chrono::milliseconds;

constexpr milliseconds kStopTimeout{10'000};

bool Answers(const HostPort& address, const std::string& target, const std::string& needle) {
  HttpClientRequest request;
  request.target = target;
  auto response = HttpFetch(address.ToString(), request, milliseconds(1000));
  return response.ok() && response->status == 200 &&
         response->body.find(needle) != std::string::npos;
}

bool RouterSeesAllHealthy(const HostPort& router) {
  HttpClientRequest request;
  request.target = "/router/status";
  auto response = HttpFetch(router.ToString(), request, milliseconds(1000));
  if (!response.ok() || response->status != 200) return false;
  const Json status = Json::parse(response->body, nullptr, /*allow_exceptions=*/false);
  if (!status.is_object() || !status.contains("by_location")) return false;
  for (const auto& [location, paths] : status["by_location"].items()) {
    for (const Json& path : paths) {
      if (!path.value("healthy", false)) return false;
    }
  }
  return true;
}

// The last non-empty line of a child's log: what it said before it exited, e.g. "... Address
// already in use". Reads only the tail, bounded, since logs grow for as long as a demo runs.
std::string LastLogLine(const std::string& path) {
  constexpr std::streamoff kTailBytesMax = 4096;
  constexpr size_t kLineBytesMax = 300;  // one line of an error, not a stack of them
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return "";
  const std::streamoff size = in.tellg();
  in.seekg(std::max<std::streamoff>(0, size - kTailBytesMax));
  std::string tail((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r' || tail.back() == ' ')) {
    tail.pop_back();
  }
  std::string line = tail.substr(tail.rfind('\n') == std::string::npos ? 0 : tail.rfind('\n') + 1);
  if (line.size() > kLineBytesMax) line = line.substr(0, kLineBytesMax) + "...";
  return line;
}

HttpResponse JsonError(int status, const std::string& message) {
  return HttpResponse::Json(status, Json{{"error", message}, {"status", status}}.dump());
}

}  // namespace

DemoSupervisor::DemoSupervisor(DemoOptions options) : options_(std::move(options)) {}

DemoSupervisor::~DemoSupervisor() {
  Stop();
}

std::string DemoSupervisor::control_address() const {
  return control_ ? control_->address() : options_.control;
}

Status DemoSupervisor::Prepare() {
  Result<ClusterConfig> loaded = LoadClusterConfig(options_.config_path);
  if (!loaded.ok()) return loaded.status();
  std::vector<std::string> names = options_.regions;
  if (names.empty()) {
    for (const RegionConfig& r : loaded->regions)
      names.push_back(r.name);
  }
  Topology topology = loaded->topology;
  if (!options_.topology.empty()) {
    if (options_.topology == "mesh") {
      topology = Topology::kMesh;
    } else if (options_.topology == "hub") {
      topology = Topology::kHub;
    } else if (options_.topology == "ring") {
      topology = Topology::kRing;
    } else {
      return InvalidArgument("--topology must be mesh, hub or ring; got '" + options_.topology +
                             "'");
    }
  }
  Result<ClusterConfig> subset = SubsetClusterConfig(*loaded, names, topology);
  if (!subset.ok()) return subset.status();
  config_ = *std::move(subset);
  if (options_.port_offset < 0) return InvalidArgument("--port-offset must not be negative");
  if (options_.port_offset > 0) {
    Result<ClusterConfig> moved = OffsetClusterPorts(config_, options_.port_offset);
    if (!moved.ok()) return moved.status();
    config_ = *std::move(moved);
    Result<HostPort> control = ParseHostPort(options_.control);
    if (!control.ok()) return InvalidArgument("--control: " + control.status().message());
    Result<HostPort> control_moved = OffsetPort(*control, options_.port_offset, "the control API");
    if (!control_moved.ok()) return control_moved.status();
    options_.control = control_moved->ToString();
  }

  std::error_code error;
  if (options_.data_dir.empty()) {
    std::string pattern = (std::filesystem::temp_directory_path() / "meridian-demo-XXXXXX");
    if (mkdtemp(pattern.data()) == nullptr) return Internal("cannot create a temporary directory");
    data_dir_ = pattern;
    created_data_dir_ = true;
  } else {
    std::filesystem::create_directories(options_.data_dir, error);
    if (error) return InvalidArgument("--data-dir " + options_.data_dir + ": " + error.message());
    data_dir_ = std::filesystem::absolute(options_.data_dir).string();
  }
  std::filesystem::create_directories(data_dir_ + "/logs", error);
  if (error) return Internal(data_dir_ + "/logs: " + error.message());
  for (RegionConfig& region : config_.regions)
    region.data_dir = data_dir_ + "/" + region.name;
  config_file_ = data_dir_ + "/cluster.yaml";
  std::ofstream(config_file_) << FormatClusterConfig(config_);
  if (!ParseClusterConfig(FormatClusterConfig(config_), config_file_).ok()) {
    return Internal("the derived config does not parse back");
  }

  const std::string self = SelfExecutable();
  wan_ = {"wan", {self, "wan", "--config", config_file_}, std::make_unique<ChildProcess>()};
  router_ = {
      "router", {self, "router", "--config", config_file_}, std::make_unique<ChildProcess>()};
  for (const RegionConfig& region : config_.regions) {
    std::vector<std::string> argv = {self,         "region",   "--config",
                                     config_file_, "--region", region.name};
    if (!options_.wal_sync.empty()) argv.insert(argv.end(), {"--wal-sync", options_.wal_sync});
    regions_.push_back({region.name, std::move(argv), std::make_unique<ChildProcess>()});
  }
  return Status::Ok();
}

Status DemoSupervisor::StartChild(Child& child) {
  Status started = child.process->Start(child.argv, data_dir_ + "/logs/" + child.name + ".log");
  if (started.ok()) spdlog::info("demo: started {} (pid {})", child.name, child.process->pid());
  return started;
}

Status DemoSupervisor::StartControl() {
  control_ = std::make_unique<HttpServer>(options_.control,
                                          [this](HttpRequest request, HttpResponder respond) {
                                            HandleControl(request, std::move(respond));
                                          });
  if (Status started = control_->Start(); !started.ok()) {
    control_.reset();
    return Status(started.code(), "demo control API: " + started.message());
  }
  return Status::Ok();
}

Status DemoSupervisor::Start() {
  MERIDIAN_RETURN_IF_ERROR(Prepare());
  // First, so a busy control port fails the demo before any child starts.
  MERIDIAN_RETURN_IF_ERROR(StartControl());
  Status started = StartChild(wan_);
  {
    std::lock_guard lock(mu_);
    for (Child& region : regions_) {
      if (started.ok()) started = StartChild(region);
    }
  }
  if (started.ok()) started = StartChild(router_);
  if (started.ok()) started = WaitReady();
  if (!started.ok()) {
    Stop();
    return started;
  }
  if (!options_.endpoints_file.empty()) {
    const std::string tmp = options_.endpoints_file + ".tmp";
    std::ofstream(tmp) << EndpointsJson() << "\n";
    std::error_code error;
    std::filesystem::rename(tmp, options_.endpoints_file, error);  // appears whole or not at all
    if (error) return Internal("--endpoints-file: " + error.message());
  }
  return Status::Ok();
}

Status DemoSupervisor::WaitFor(const std::string& what, Child& child, uint16_t port,
                               const std::function<bool()>& ready) {
  const auto deadline = std::chrono::steady_clock::now() + options_.ready_timeout;
  const std::string log = data_dir_ + "/logs/" + child.name + ".log";
  while (true) {
    pid_t pid = 0;
    {
      std::lock_guard lock(mu_);
      if (std::optional<int> code = child.process->Poll()) {
        const std::string said = LastLogLine(log);
        return Unavailable(what + " exited with code " + std::to_string(*code) +
                           (said.empty() ? "" : ": " + said) + " (log: " + log + ")");
      }
      pid = child.process->pid();
    }
    // The answer counts only when our child holds the listener: another cluster on the same
    // ports answers just as well, and a child that failed to bind has not exited yet.
    if (ready() && ProcessListensOn(pid, port)) return Status::Ok();
    if (std::chrono::steady_clock::now() >= deadline) {
      return DeadlineExceeded(what + " did not become ready; see " + log);
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
}

Status DemoSupervisor::WaitReady() {
  MERIDIAN_RETURN_IF_ERROR(WaitFor("the WAN emulator", wan_, config_.wan.admin.port, [&] {
    return Answers(config_.wan.admin, "/version", "meridian");
  }));
  for (size_t i = 0; i < regions_.size(); ++i) {
    const RegionConfig& region = config_.regions[i];
    MERIDIAN_RETURN_IF_ERROR(WaitFor("region " + region.name, regions_[i], region.http.port, [&] {
      return Answers(region.http, "/healthz", "\"status\":\"ok\"");
    }));
  }
  // The router is ready once it has probed every region healthy from every client location;
  // before that it would answer clients 503 "no healthy region".
  return WaitFor("the router", router_, config_.router.http.port,
                 [&] { return RouterSeesAllHealthy(config_.router.http); });
}

std::string DemoSupervisor::EndpointsJson() const {
  Json regions = Json::object();
  for (const RegionConfig& r : config_.regions) {
    regions[r.name] = {{"http", r.http.ToString()},
                       {"replication", r.replication.ToString()},
                       {"data_dir", r.data_dir}};
  }
  return Json{{"regions", regions},
              {"router", config_.router.http.ToString()},
              {"wan_admin", config_.wan.admin.ToString()},
              {"control", control_address()},
              {"data_dir", data_dir_},
              {"config", config_file_}}
      .dump(2);
}

DemoSupervisor::Child* DemoSupervisor::RegionChild(const std::string& name) {
  for (Child& child : regions_) {
    if (child.name == name) return &child;
  }
  return nullptr;
}

void DemoSupervisor::HandleControl(const HttpRequest& request, HttpResponder respond) {
  auto segments = SplitPath(request.path);
  if (!segments) return respond(JsonError(400, "malformed path"));
  std::lock_guard lock(mu_);
  for (Child& child : regions_)
    child.process->Poll();  // notice regions that died on their own
  if (segments->size() == 1 && (*segments)[0] == "status") {
    if (request.method != "GET") return respond(JsonError(405, "use GET"));
    Json regions = Json::array();
    for (size_t i = 0; i < regions_.size(); ++i) {
      const Child& child = regions_[i];
      regions.push_back({{"name", child.name},
                         {"http", config_.regions[i].http.ToString()},
                         {"replication", config_.regions[i].replication.ToString()},
                         {"running", child.process->running()},
                         {"pid", child.process->running() ? child.process->pid() : 0}});
    }
    return respond(HttpResponse::Json(200, Json{{"regions", regions},
                                                {"wan_admin", config_.wan.admin.ToString()},
                                                {"router", config_.router.http.ToString()},
                                                {"data_dir", data_dir_},
                                                {"config", config_file_}}
                                               .dump()));
  }
  if (segments->size() != 3 || (*segments)[0] != "regions") {
    return respond(JsonError(404, "no route " + request.path));
  }
  const std::string& name = (*segments)[1];
  const std::string& action = (*segments)[2];
  Child* child = RegionChild(name);
  if (child == nullptr) return respond(JsonError(404, "no region '" + name + "' in this demo"));
  if (action != "kill" && action != "stop" && action != "restart") {
    return respond(JsonError(404, "unknown action '" + action + "' (kill, stop, restart)"));
  }
  if (request.method != "POST") return respond(JsonError(405, "use POST"));
  if (action == "restart") {
    if (child->process->running()) {
      return respond(JsonError(409, "region " + name + " is running; kill or stop it first"));
    }
    if (Status started = StartChild(*child); !started.ok()) {
      return respond(JsonError(500, started.ToString()));
    }
  } else if (!child->process->running()) {
    return respond(JsonError(409, "region " + name + " is not running"));
  } else if (action == "kill") {
    child->process->Kill();
    spdlog::info("demo: killed region {} (SIGKILL)", name);
  } else {
    child->process->Stop(SIGTERM, kStopTimeout);
    spdlog::info("demo: stopped region {}", name);
  }
  respond(
      HttpResponse::Json(200, Json{{"region", name},
                                   {"running", child->process->running()},
                                   {"pid", child->process->running() ? child->process->pid() : 0}}
                                  .dump()));
}

void DemoSupervisor::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (control_) control_->Stop();
  // Clients first, then the regions (they drain), then the links between them.
  if (router_.process) router_.process->Stop(SIGTERM, kStopTimeout);
  {
    std::lock_guard lock(mu_);
    for (Child& region : regions_) {
      if (region.process->running()) ::kill(region.process->pid(), SIGTERM);
    }
    for (Child& region : regions_)
      region.process->Stop(SIGTERM, kStopTimeout);
  }
  if (wan_.process) wan_.process->Stop(SIGTERM, kStopTimeout);
  if (created_data_dir_ && !options_.keep && !data_dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(data_dir_, ignored);
  }
}

}  // namespace meridian
