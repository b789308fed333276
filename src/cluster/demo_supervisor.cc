#include "cluster/demo_supervisor.h"

#include <spdlog/spdlog.h>
#include <stdlib.h>  // mkdtemp

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <thread>

#include "cluster/demo_argv.h"
#include "cluster/listener.h"
#include "cluster/local_cluster.h"
#include "net/http_client.h"
#include "tls/cert_files.h"
#include "tls/cluster_tls.h"

namespace meridian {

namespace {

using Json = nlohmann::json;
using std::chrono::milliseconds;

constexpr milliseconds kStopTimeout{10'000};
// How often the supervision thread reaps children that exited by themselves: a kill -9 from
// outside shows in the log and /status within this, and the poll costs nothing noticeable.
constexpr milliseconds kSuperviseInterval{200};
// A restart of a child that is still "running" first waits this long for it to exit: a kill -9
// sent from outside a moment before takes a few ms to tens of ms (a region closing RocksDB and
// unmapping memory) before it can be reaped. A child that is really running costs the 409 this.
constexpr milliseconds kReapWait{1'000};
// A backup or restore copies the whole region: bounded generously, since a demo may hold millions
// of keys.
constexpr milliseconds kBackupTimeout{600'000};

// `ca_file`: HTTPS verified against it (client TLS); empty: HTTP.
bool Answers(const HostPort& address, const std::string& target, const std::string& needle,
             const std::string& ca_file = "") {
  HttpClientRequest request;
  request.target = target;
  request.tls_ca_file = ca_file;
  auto response = HttpFetch(address.ToString(), request, milliseconds(1000));
  return response.ok() && response->status == 200 &&
         response->body.find(needle) != std::string::npos;
}

bool RouterSeesAllHealthy(const HostPort& router, const std::string& ca_file) {
  HttpClientRequest request;
  request.target = "/router/status";
  request.tls_ca_file = ca_file;
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

std::string DefaultDemoEndpointsFile(const HostPort& control) {
  std::error_code error;
  std::filesystem::path dir = std::filesystem::temp_directory_path(error);
  if (error) dir = "/tmp";
  return (dir / ("meridian-demo-" + std::to_string(control.port) + ".json")).string();
}

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
  // A cluster being created: no region has a data directory yet, so each region's first start
  // is its birth (`--initial-cluster-state new`) and none waits for the others to rejoin.
  bool new_cluster = true;
  for (RegionConfig& region : config_.regions) {
    region.data_dir = data_dir_ + "/" + region.name;
    if (std::filesystem::exists(region.data_dir)) new_cluster = false;
  }
  if (config_.subjects) config_.subjects->master_key_dir = data_dir_ + "/" + kDemoMasterKeyDir;
  if (options_.auth) {
    Result<DemoKeys> keys = EnsureDemoKeys(data_dir_);
    if (!keys.ok()) return keys.status();
    keys_ = *std::move(keys);
    config_.auth = keys_->auth;
    auto store = auth::KeyStore::Load(keys_->auth.keys_file);
    if (!store.ok()) return store.status();
    control_keys_ = std::make_unique<auth::KeyStore>(*std::move(store));
  } else if (!config_.auth) {
    spdlog::warn(
        "demo: authentication is off (--no-auth): anyone who reaches a port may do "
        "anything, the control API included");
  }
  MERIDIAN_RETURN_IF_ERROR(PrepareClusterTls(config_, data_dir_, options_.plaintext));
  MERIDIAN_RETURN_IF_ERROR(ApplyClientTls(config_, options_.client_tls));
  if (config_.tls && config_.tls->client) {
    client_ca_file_ = CaCertPath(config_.tls->dir);
    if (options_.prometheus) {
      spdlog::warn(
          "demo: client TLS is on and the demo's Prometheus is not set up to scrape "
          "https: Prometheus is not started");
      options_.prometheus = false;
    }
  }
  config_file_ = data_dir_ + "/cluster.yaml";
  std::ofstream(config_file_) << FormatClusterConfig(config_);
  if (!ParseClusterConfig(FormatClusterConfig(config_), config_file_).ok()) {
    return Internal("the derived config does not parse back");
  }

  const std::string self = SelfExecutable();
  auto child = [](std::string name, std::string kind, std::vector<std::string> argv) {
    Child out;
    out.name = std::move(name);
    out.kind = std::move(kind);
    out.argv = std::move(argv);
    out.process = std::make_unique<ChildProcess>();
    return out;
  };
  wan_ = child("wan", "wan", {self, "wan", "--config", config_file_});
  router_ = child("router", "router", RouterArgv(options_, self, config_file_));
  for (const RegionConfig& region : config_.regions) {
    regions_.push_back(
        child(region.name, "region", RegionArgv(options_, self, config_file_, region.name)));
    if (new_cluster) regions_.back().first_start_args = {"--initial-cluster-state", "new"};
  }
  if (Status prometheus = PreparePrometheus(); !prometheus.ok()) return prometheus;
  // The router's /dashboard queries Prometheus through the router (same origin for the page).
  if (prometheus_http_) {
    router_.argv.insert(router_.argv.end(), {"--prometheus", prometheus_http_->ToString()});
  }
  return Status::Ok();
}

Status DemoSupervisor::StartChild(Child& child, bool first_start) {
  std::vector<std::string> argv = child.argv;
  if (first_start)
    argv.insert(argv.end(), child.first_start_args.begin(), child.first_start_args.end());
  Status started = child.process->Start(argv, data_dir_ + "/logs/" + child.name + ".log");
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
  {
    MutexLock lock(&mu_);
    MERIDIAN_RETURN_IF_ERROR(Prepare());
  }
  // First, so a busy control port fails the demo before any child starts.
  MERIDIAN_RETURN_IF_ERROR(StartControl());
  Status started = Status::Ok();
  {
    MutexLock lock(&mu_);
    for (Child* child : ChildrenLocked()) {
      if (started.ok()) started = StartChild(*child, /*first_start=*/true);
    }
  }
  if (started.ok()) started = WaitReady();
  if (!started.ok()) {
    Stop();
    return started;
  }
  if (!options_.endpoints_file.empty()) {
    const std::string tmp = options_.endpoints_file + ".tmp";
    std::ofstream(tmp) << EndpointsJson() << "\n";
    std::error_code error;
    // It holds the admin key: readable by this user only, like demo-keys.json.
    std::filesystem::permissions(
        tmp, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, error);
    std::filesystem::rename(tmp, options_.endpoints_file, error);  // appears whole or not at all
    if (error) return Internal("--endpoints-file: " + error.message());
    endpoints_written_ = true;
  }
  supervisor_ = std::thread([this] { Supervise(); });
  return Status::Ok();
}

void DemoSupervisor::ReapLocked(Child& child) {
  const pid_t pid = child.process->pid();
  const std::optional<int> code = child.process->Poll();
  if (!code) return;
  child.last_exit_code = code;
  spdlog::warn(
      "demo: {} (pid {}) exited with code {}{}; see {}/logs/{}.log; `meridian chaos "
      "restart {}` starts it again",
      child.name, pid, *code, *code > 128 ? " (signal " + std::to_string(*code - 128) + ")" : "",
      data_dir_, child.name, child.name);
}

void DemoSupervisor::Supervise() {
  MutexLock lock(&mu_);
  while (!supervise_stop_) {
    for (Child* child : ChildrenLocked())
      ReapLocked(*child);
    // One interval, cut short by Stop().
    const auto deadline = std::chrono::steady_clock::now() + kSuperviseInterval;
    for (auto now = std::chrono::steady_clock::now(); !supervise_stop_ && now < deadline;
         now = std::chrono::steady_clock::now()) {
      supervise_wake_.WaitFor(&mu_, deadline - now);
    }
  }
}

Status DemoSupervisor::WaitFor(const std::string& what, Child& child, uint16_t port,
                               const std::function<bool()>& ready) {
  const auto deadline = std::chrono::steady_clock::now() + options_.ready_timeout;
  const std::string log = data_dir_ + "/logs/" + child.name + ".log";
  while (true) {
    pid_t pid = 0;
    {
      MutexLock lock(&mu_);
      if (std::optional<int> code = child.process->Poll()) {
        child.last_exit_code = code;
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
  struct Awaited {
    std::string what;
    Child* child;
    uint16_t port;
    std::function<bool()> ready;
  };
  // Listed under the lock, awaited without it (WaitFor takes it around each poll of the child).
  std::vector<Awaited> awaited;
  {
    MutexLock lock(&mu_);
    awaited.push_back({"the WAN emulator", &wan_, config_.wan.admin.port,
                       [&] { return Answers(config_.wan.admin, "/version", "meridian"); }});
    for (size_t i = 0; i < regions_.size(); ++i) {
      const RegionConfig& region = config_.regions[i];
      awaited.push_back(
          {"region " + region.name, &regions_[i], region.http.port, [this, http = region.http] {
             return Answers(http, "/healthz", "\"status\":\"ok\"", client_ca_file_);
           }});
    }
    // The router is ready once it has probed every region healthy from every client location;
    // before that it would answer clients 503 "no healthy region".
    awaited.push_back({"the router", &router_, config_.router.http.port,
                       [&] { return RouterSeesAllHealthy(config_.router.http, client_ca_file_); }});
    if (alertmanager_.process) {
      awaited.push_back({"Alertmanager", &alertmanager_, alertmanager_http_->port,
                         [&] { return Answers(*alertmanager_http_, "/-/ready", "OK"); }});
    }
    if (prometheus_.process) {
      awaited.push_back({"Prometheus", &prometheus_, prometheus_http_->port,
                         [&] { return Answers(*prometheus_http_, "/-/ready", "Ready"); }});
    }
  }
  for (const Awaited& a : awaited)
    MERIDIAN_RETURN_IF_ERROR(WaitFor(a.what, *a.child, a.port, a.ready));
  return Status::Ok();
}

std::string DemoSupervisor::EndpointsJson() const {
  Json regions = Json::object();
  for (const RegionConfig& r : config_.regions) {
    regions[r.name] = {{"http", r.http.ToString()},
                       {"replication", r.replication.ToString()},
                       {"data_dir", r.data_dir}};
    if (r.resp) regions[r.name]["resp"] = r.resp->ToString();
    if (r.admin) regions[r.name]["admin"] = r.admin->ToString();
  }
  Json endpoints = {{"regions", regions},
                    {"router", config_.router.http.ToString()},
                    {"wan_admin", config_.wan.admin.ToString()},
                    {"control", control_address()},
                    {"data_dir", data_dir_},
                    {"config", config_file_}};
  // "router" stays the HTTP address (a string, as `meridian gen --endpoints-file` reads it).
  if (config_.router.resp) endpoints["router_resp"] = config_.router.resp->ToString();
  if (prometheus_http_) endpoints["prometheus"] = prometheus_http_->ToString();
  if (alertmanager_http_) {
    endpoints["alertmanager"] = alertmanager_http_->ToString();
    endpoints["alert_webhook"] = "http://" + control_address() + "/alerts";
  }
  // How clients reach the client listeners: https / rediss and the CA with client TLS.
  const bool tls = !client_ca_file_.empty();
  endpoints["http_scheme"] = tls ? "https" : "http";
  endpoints["resp_scheme"] = tls ? "rediss" : "redis";
  if (tls) endpoints["ca_file"] = client_ca_file_;
  endpoints["dashboard"] =
      std::string(tls ? "https://" : "http://") + config_.router.http.ToString() + "/dashboard";
  if (keys_) {
    endpoints["client_key"] = keys_->client_key;
    endpoints["admin_key"] = keys_->admin_key;
  }
  return endpoints.dump(2);
}

std::vector<DemoSupervisor::Child*> DemoSupervisor::ChildrenLocked() {
  std::vector<Child*> out = {&wan_};
  for (Child& region : regions_)
    out.push_back(&region);
  out.push_back(&router_);
  if (alertmanager_.process) out.push_back(&alertmanager_);
  if (prometheus_.process) out.push_back(&prometheus_);
  return out;
}

DemoSupervisor::Child* DemoSupervisor::ChildNamed(const std::string& name, bool regions_only) {
  for (Child* child : ChildrenLocked()) {
    if (child->name == name && (!regions_only || child->kind == "region")) return child;
  }
  return nullptr;
}

HttpResponse DemoSupervisor::StatusLocked() {
  Json regions = Json::array();
  for (size_t i = 0; i < regions_.size(); ++i) {
    const Child& child = regions_[i];
    regions.push_back(
        {{"name", child.name},
         {"http", config_.regions[i].http.ToString()},
         {"replication", config_.regions[i].replication.ToString()},
         {"admin", config_.regions[i].admin ? config_.regions[i].admin->ToString() : std::string()},
         {"running", child.process->running()},
         {"pid", child.process->running() ? child.process->pid() : 0}});
  }
  Json processes = Json::array();
  for (const Child* child : ChildrenLocked()) {
    Json p{{"name", child->name},
           {"kind", child->kind},
           {"running", child->process->running()},
           {"pid", child->process->running() ? child->process->pid() : 0},
           {"restarts", child->restarts}};
    if (child->last_exit_code) p["last_exit_code"] = *child->last_exit_code;
    processes.push_back(std::move(p));
  }
  return HttpResponse::Json(200, Json{{"regions", regions},
                                      {"processes", processes},
                                      {"wan_admin", config_.wan.admin.ToString()},
                                      {"router", config_.router.http.ToString()},
                                      {"prometheus", prometheus_address()},
                                      {"alertmanager", alertmanager_address()},
                                      {"data_dir", data_dir_},
                                      {"config", config_file_}}
                                     .dump());
}

HttpResponse DemoSupervisor::ActLocked(Child& child, const std::string& action) {
  const std::string& name = child.name;
  if (action == "restart") {
    // Contract 5: signalled from outside a moment ago, it may not be reaped yet.
    if (child.process->running()) {
      if (std::optional<int> code = child.process->Wait(kReapWait)) child.last_exit_code = code;
    }
    if (child.process->running()) {
      return JsonError(409, name + " is running (pid " + std::to_string(child.process->pid()) +
                                "); kill or stop it first");
    }
    if (Status started = StartChild(child); !started.ok()) {
      return JsonError(500, started.ToString());
    }
    ++child.restarts;
  } else if (!child.process->running()) {
    return JsonError(409, name + " is not running");
  } else if (action == "kill") {
    child.process->Kill();
    child.last_exit_code = 128 + SIGKILL;
    spdlog::info("demo: killed {} (SIGKILL)", name);
  } else {
    child.last_exit_code = child.process->Stop(SIGTERM, kStopTimeout).value_or(128 + SIGKILL);
    spdlog::info("demo: stopped {}", name);
  }
  return HttpResponse::Json(200, Json{{child.kind == "region" ? "region" : "process", name},
                                      {"running", child.process->running()},
                                      {"pid", child.process->running() ? child.process->pid() : 0}}
                                     .dump());
}

HttpResponse DemoSupervisor::BackupRegion(const std::string& name) {
  std::string http;
  for (const RegionConfig& region : config_.regions) {
    if (region.name == name && region.admin) http = region.admin->ToString();
  }
  if (http.empty()) {
    return JsonError(503, "region " + name + " has no admin listener (`admin:` in the config)");
  }
  HttpClientRequest request;
  if (keys_) request.headers.emplace_back("Authorization", "Bearer " + keys_->admin_key);
  request.method = "POST";
  request.target = "/admin/backup?to=" + BackupDir(name);  // no characters that need escaping
  auto reply = HttpFetch(http, request, kBackupTimeout);
  if (!reply.ok()) return JsonError(503, "backup of " + name + ": " + reply.status().ToString());
  return HttpResponse::Json(reply->status, reply->body);
}

HttpResponse DemoSupervisor::RestoreRegionLocked(Child& child) {
  if (child.process->running()) {
    if (std::optional<int> code = child.process->Wait(kReapWait)) child.last_exit_code = code;
  }
  if (child.process->running()) {
    return JsonError(409, child.name + " is running; stop or kill it before restoring");
  }
  const std::string data_dir = data_dir_ + "/" + child.name;
  std::error_code error;
  std::filesystem::remove_all(data_dir, error);  // the disk it lost, or the one replaced
  if (error) return JsonError(500, "removing " + data_dir + ": " + error.message());
  ChildProcess restore;
  const std::string log = data_dir_ + "/logs/" + child.name + "-restore.log";
  if (Status st = restore.Start(
          {SelfExecutable(), "restore", "--from", BackupDir(child.name), "--data-dir", data_dir},
          log);
      !st.ok()) {
    return JsonError(500, st.ToString());
  }
  const std::optional<int> code = restore.Wait(kBackupTimeout);
  if (code != 0) {
    return JsonError(500, "meridian restore failed (exit " +
                              (code ? std::to_string(*code) : std::string("timeout")) + "); see " +
                              log);
  }
  spdlog::info("demo: restored {} from {}", child.name, BackupDir(child.name));
  return HttpResponse::Json(
      200,
      Json{{"region", child.name}, {"restored_from", BackupDir(child.name)}, {"running", false}}
          .dump());
}

std::string DemoSupervisor::BackupDir(const std::string& region) const {
  return data_dir_ + "/backups/" + region;
}

void DemoSupervisor::HandleControl(const HttpRequest& request, HttpResponder respond) {
  if (control_keys_) {
    // The control API kills and restores regions: admin keys only.
    const auth::KeyEntry* key =
        control_keys_->Authenticate(auth::BearerToken(request.Header("authorization")));
    if (key == nullptr) {
      HttpResponse refused =
          JsonError(401,
                    "the control API needs 'Authorization: Bearer ADMIN_KEY' (admin_key of the "
                    "endpoints file, or " +
                        data_dir_ + "/demo-keys.json)");
      refused.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"meridian-demo\"");
      return respond(std::move(refused));
    }
    if (!auth::HasAdmin(key->grants)) {
      return respond(JsonError(403, "key '" + key->name + "' lacks the admin role"));
    }
  }
  auto segments = SplitPath(request.path);
  if (!segments) return respond(JsonError(400, "malformed path"));
  // Alertmanager's webhook and its readers: the receiver has its own lock (contract 7).
  if (segments->size() == 1 && (*segments)[0] == "alerts") {
    if (request.method == "GET") return respond(HttpResponse::Json(200, alerts_.Recent()));
    if (request.method != "POST") return respond(JsonError(405, "use GET or POST"));
    Result<std::vector<AlertEvent>> events = ParseAlertmanagerWebhook(request.body);
    if (!events.ok()) return respond(JsonError(400, events.status().message()));
    alerts_.Record(*std::move(events), NowRfc3339());
    return respond(HttpResponse::Json(200, "{}"));
  }
  // A backup runs for as long as the copy takes, without the lock: the supervision and other
  // control calls go on meanwhile (the region serves throughout).
  if (segments->size() == 3 && (*segments)[2] == "backup" &&
      ((*segments)[0] == "regions" || (*segments)[0] == "processes")) {
    if (request.method != "POST") return respond(JsonError(405, "use POST"));
    {
      MutexLock lock(&mu_);
      if (ChildNamed((*segments)[1], /*regions_only=*/true) == nullptr) {
        return respond(JsonError(404, "no region '" + (*segments)[1] + "' in this demo"));
      }
    }
    return respond(BackupRegion((*segments)[1]));
  }
  MutexLock lock(&mu_);
  for (Child* child : ChildrenLocked())
    ReapLocked(*child);  // notice children that died since the last pass
  if (segments->size() == 1 && (*segments)[0] == "status") {
    if (request.method != "GET") return respond(JsonError(405, "use GET"));
    return respond(StatusLocked());
  }
  const bool regions_only = !segments->empty() && (*segments)[0] == "regions";
  if (segments->size() != 3 || (!regions_only && (*segments)[0] != "processes")) {
    return respond(JsonError(404, "no route " + request.path));
  }
  const std::string& name = (*segments)[1];
  const std::string& action = (*segments)[2];
  Child* child = ChildNamed(name, regions_only);
  if (child == nullptr) {
    std::string known;
    for (const Child* c : ChildrenLocked()) {
      if (!regions_only || c->kind == "region") known += (known.empty() ? "" : ", ") + c->name;
    }
    return respond(JsonError(404, "no " + std::string(regions_only ? "region" : "process") + " '" +
                                      name + "' in this demo (" + known + ")"));
  }
  if (action != "kill" && action != "stop" && action != "restart" && action != "restore") {
    return respond(
        JsonError(404, "unknown action '" + action + "' (kill, stop, restart, backup, restore)"));
  }
  if (request.method != "POST") return respond(JsonError(405, "use POST"));
  if (action == "restore") {
    if (child->kind != "region") return respond(JsonError(404, "only a region can be restored"));
    return respond(RestoreRegionLocked(*child));
  }
  respond(ActLocked(*child, action));
}

void DemoSupervisor::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (control_) control_->Stop();
  {
    MutexLock lock(&mu_);
    supervise_stop_ = true;
  }
  supervise_wake_.SignalAll();
  if (supervisor_.joinable()) supervisor_.join();  // stops below are not failures to report
  MutexLock lock(&mu_);
  // The observer first (its last scrapes would only log the others going), then clients, then
  // the regions (they drain), then the links between them.
  if (prometheus_.process) prometheus_.process->Stop(SIGTERM, kStopTimeout);
  if (alertmanager_.process) alertmanager_.process->Stop(SIGTERM, kStopTimeout);
  if (router_.process) router_.process->Stop(SIGTERM, kStopTimeout);
  for (Child& region : regions_) {
    if (region.process->running()) ::kill(region.process->pid(), SIGTERM);
  }
  for (Child& region : regions_)
    region.process->Stop(SIGTERM, kStopTimeout);
  if (wan_.process) wan_.process->Stop(SIGTERM, kStopTimeout);
  if (options_.remove_endpoints_file && endpoints_written_) {
    std::error_code ignored;
    std::filesystem::remove(options_.endpoints_file, ignored);
  }
  if (created_data_dir_ && !options_.keep && !data_dir_.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(data_dir_, ignored);
  }
}

}  // namespace meridian
