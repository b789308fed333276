#include "tests/integration/cluster_harness.h"

#include <stdlib.h>
#include <unistd.h>

#include <csignal>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "auth/key_store.h"
#include "base/assert.h"
#include "tls/cert_files.h"
#include "tls/cluster_tls.h"

namespace meridian::testing {

namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;
using Headers = std::vector<std::pair<std::string, std::string>>;

void AddKey(auth::KeyStore& store, const std::string& name, const std::string& key,
            const std::string& grant) {
  MERIDIAN_ASSERT(store.Add({name, auth::HashApiKey(key), {*auth::ParseGrant(grant)}}).ok());
}

void Authorize(Headers& headers, const std::string& key) {
  for (const auto& [name, value] : headers) {
    if (name == "Authorization" || name == "authorization") return;
  }
  headers.emplace_back("Authorization", "Bearer " + key);
}

}  // namespace

std::string MeridianBinary() {
  return MERIDIAN_BINARY;
}

ClusterHarness::ClusterHarness(std::vector<std::string> regions, std::string topology, Links links,
                               uint32_t slices)
    : regions_(std::move(regions)), processes_(regions_.size()) {
  std::string pattern = (std::filesystem::temp_directory_path() / "meridian_it_XXXXXX").string();
  MERIDIAN_ASSERT_MSG(mkdtemp(pattern.data()) != nullptr, "mkdtemp failed");
  dir_ = pattern;
  config_path_ = dir_ + "/cluster.yaml";

  std::vector<uint16_t> ports = PickFreePorts(4 * regions_.size() + 3);
  if (slices > 1) {
    // Region listener j of region i at block + (4i + j) * slices: its slices' ports are free.
    const int span = static_cast<int>(4 * regions_.size() * slices);
    auto block = PickFreePortBlock(span, ports, static_cast<uint64_t>(::getpid()) * 7 + 3);
    MERIDIAN_ASSERT_MSG(block.ok(), "no free port block for the sliced regions");
    for (size_t k = 0; k < 4 * regions_.size(); ++k)
      ports[k] = static_cast<uint16_t>(*block + k * slices);
    for (int k = 0; k < span; ++k)
      ports.push_back(static_cast<uint16_t>(*block + k));  // kept clear of the WAN block
  }
  for (size_t i = 0; i < regions_.size(); ++i)
    ports_.push_back({ports[4 * i], ports[4 * i + 1], ports[4 * i + 2], ports[4 * i + 3]});
  wan_admin_port_ = ports[4 * regions_.size()];
  router_port_ = ports[4 * regions_.size() + 1];
  router_resp_port_ = ports[4 * regions_.size() + 2];
  // The emulator's proxies take a block of ports above base_port, all free now.
  auto wan_base = PickWanBasePort(ports, static_cast<uint64_t>(::getpid()));
  MERIDIAN_ASSERT_MSG(wan_base.ok(), "no free port block for the WAN emulator");
  wan_base_port_ = *wan_base;

  std::ostringstream yaml;
  yaml << "regions:\n";
  for (size_t i = 0; i < regions_.size(); ++i) {
    yaml << "  - name: " << regions_[i] << "\n"
         << "    http: 127.0.0.1:" << ports_[i].http << "\n"
         << "    replication: 127.0.0.1:" << ports_[i].replication << "\n"
         << "    resp: 127.0.0.1:" << ports_[i].resp << "\n"
         << "    admin: 127.0.0.1:" << ports_[i].admin << "\n"
         << "    data_dir: " << dir_ << "/data/" << regions_[i] << "\n";
  }
  yaml << "topology: " << topology << "\n";
  if (slices > 1) yaml << "slices: " << slices << "\n";
  if (topology == "hub") yaml << "hub: " << regions_[0] << "\n";
  yaml << "links:\n";
  const int rtts[] = {80, 150, 120, 100, 90, 110, 130, 140};
  int next = 0;
  for (size_t a = 0; a < regions_.size(); ++a) {
    for (size_t b = a + 1; b < regions_.size(); ++b) {
      yaml << "  - between: [" << regions_[a] << ", " << regions_[b] << "]\n"
           << "    rtt_ms: " << rtts[next++ % 8] << "\n"
           << "    jitter_ms: 4\n";
    }
  }
  yaml << "wan:\n  admin: 127.0.0.1:" << wan_admin_port_ << "\n  base_port: " << wan_base_port_
       << "\n  seed: 1\n"
       << "router:\n  http: 127.0.0.1:" << router_port_
       << "\n  resp: 127.0.0.1:" << router_resp_port_ << "\n  health_interval_ms: 100\n";
  client_key_ = auth::GenerateApiKey();
  admin_key_ = auth::GenerateApiKey();
  reader_key_ = auth::GenerateApiKey();
  const std::string router_key = auth::GenerateApiKey();
  auth::KeyStore keys;
  AddKey(keys, "client", client_key_, "*:rw");
  AddKey(keys, "admin", admin_key_, "admin");
  AddKey(keys, "reader", reader_key_, "*:r");
  AddKey(keys, "router", router_key, "*:rw");
  std::ofstream(dir_ + "/keys.txt") << keys.Format();
  std::ofstream(dir_ + "/router.key") << router_key << "\n";
  yaml << "auth:\n  keys_file: " << dir_ << "/keys.txt\n  router_key_file: " << dir_
       << "/router.key\n";
  if (links == Links::kPlaintext) {
    yaml << "tls:\n  plaintext: true\n";
  } else {
    const Status made = WriteClusterCertificates(certs_dir(), regions_, kDefaultClientRoles);
    MERIDIAN_ASSERT_MSG(made.ok(), made.ToString().c_str());
    yaml << "tls:\n  dir: " << certs_dir() << "\n";
    client_tls_ = links == Links::kClientTls;
    if (client_tls_) yaml << "  client: true\n";
  }
  std::ofstream(config_path_) << yaml.str();
}

ClusterHarness::~ClusterHarness() {
  if (router_.running()) router_.Stop(SIGTERM, std::chrono::seconds(10));
  if (wan_.running()) wan_.Stop(SIGTERM, std::chrono::seconds(10));
  for (size_t i = 0; i < processes_.size(); ++i) {
    if (processes_[i].running()) processes_[i].Stop(SIGTERM, std::chrono::seconds(10));
  }
  if (std::getenv("MERIDIAN_KEEP_TEST_DIR") == nullptr) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

std::string ClusterHarness::http_address(size_t region) const {
  return "127.0.0.1:" + std::to_string(ports_.at(region).http);
}

std::string ClusterHarness::log_path(size_t i) const {
  return dir_ + "/" + regions_.at(i) + ".log";
}

std::string ClusterHarness::ReadLog(size_t i) const {
  std::ifstream in(log_path(i));
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

Status ClusterHarness::StartRegion(size_t i, const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {MeridianBinary(), "region",   "--config",
                                   config_path_,     "--region", regions_.at(i)};
  if (direct_) argv.push_back("--direct");
  argv.insert(argv.end(), region_flags_.begin(), region_flags_.end());
  argv.insert(argv.end(), extra.begin(), extra.end());
  started_once_.resize(regions_.size(), false);
  if (first_start_new_ && !started_once_[i]) {
    argv.insert(argv.end(), {"--initial-cluster-state", "new"});
  }
  started_once_[i] = true;
  return processes_.at(i).Start(argv, log_path(i));
}

Status ClusterHarness::StartAll(milliseconds timeout) {
  for (size_t i = 0; i < regions_.size(); ++i)
    MERIDIAN_RETURN_IF_ERROR(StartRegion(i));
  for (size_t i = 0; i < regions_.size(); ++i) {
    MERIDIAN_RETURN_IF_ERROR(WaitForStatus(i, "ok", timeout));
  }
  return Status::Ok();
}

void ClusterHarness::KillRegion(size_t i) {
  processes_.at(i).Kill();
}

std::optional<int> ClusterHarness::StopRegion(size_t i) {
  return processes_.at(i).Stop(SIGTERM, std::chrono::seconds(10));
}

Status ClusterHarness::StartWan(milliseconds timeout) {
  std::vector<std::string> argv = {MeridianBinary(), "wan", "--config", config_path_};
  argv.insert(argv.end(), wan_flags_.begin(), wan_flags_.end());
  MERIDIAN_RETURN_IF_ERROR(wan_.Start(argv, dir_ + "/wan.log"));
  const std::string admin = "127.0.0.1:" + std::to_string(wan_admin_port_);
  const bool up = Eventually(
      [&] {
        HttpClientRequest request;
        request.target = "/version";
        auto r = HttpFetch(admin, request, milliseconds(500));
        return r.ok() && r->status == 200;
      },
      timeout);
  if (up) return Status::Ok();
  return DeadlineExceeded("the WAN emulator did not answer at " + admin);
}

Status ClusterHarness::StartRouter(const std::string& location, milliseconds timeout) {
  MERIDIAN_RETURN_IF_ERROR(
      router_.Start({MeridianBinary(), "router", "--config", config_path_, "--location", location},
                    dir_ + "/router.log"));
  // /router/status lists every path; healthy once none says otherwise.
  const std::string address = "127.0.0.1:" + std::to_string(router_port_);
  std::string last = "no answer";
  const bool ready = Eventually(
      [&] {
        HttpClientRequest request;
        request.target = "/router/status";
        if (client_tls_) request.tls_ca_file = CaCertPath(certs_dir());
        auto r = HttpFetch(address, request, milliseconds(500));
        if (!r.ok() || r->status != 200) return false;
        last = r->body;
        return r->body.find("\"healthy\":false") == std::string::npos &&
               r->body.find("\"healthy\":true") != std::string::npos;
      },
      timeout);
  if (ready) return Status::Ok();
  return DeadlineExceeded("the router did not see every region healthy: " + last +
                          "\n--- log ---\n" + router_log());
}

std::string ClusterHarness::router_log() const {
  std::ifstream in(dir_ + "/router.log");
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

ClusterHarness::ScriptResult ClusterHarness::RunScript(const std::string& script,
                                                       const std::vector<std::string>& args,
                                                       std::chrono::seconds timeout) const {
  const std::string log = dir_ + "/" + std::filesystem::path(script).filename().string() + ".log";
  std::vector<std::string> command = {"/usr/bin/python3", script};
  command.insert(command.end(), args.begin(), args.end());
  ChildProcess child;
  ScriptResult result;
  if (Status started = child.Start(command, log); !started.ok()) {
    result.output = "could not start " + script + ": " + started.ToString();
    return result;
  }
  result.code = child.Wait(timeout);
  std::stringstream output;
  output << std::ifstream(log).rdbuf();
  result.output = output.str();
  return result;
}

std::string ClusterHarness::JoinedPorts(bool resp) const {
  std::string out;
  for (size_t i = 0; i < ports_.size(); ++i)
    out += (i ? "," : "") + std::to_string(resp ? ports_[i].resp : ports_[i].http);
  return out;
}

Status ClusterHarness::WaitForStatus(size_t i, const std::string& status, milliseconds timeout) {
  const std::string needle = "\"status\":\"" + status + "\"";
  std::string last = "no answer";
  const bool reached = Eventually(
      [&] {
        auto r = Call(i, "GET", "/healthz", "", {}, milliseconds(500));
        if (!r.ok()) {
          last = r.status().ToString();
          return false;
        }
        last = r->body;
        return r->body.find(needle) != std::string::npos;
      },
      timeout);
  if (reached) return Status::Ok();
  return DeadlineExceeded("region " + regions_[i] + " did not report " + status + ": " + last +
                          "\n--- log ---\n" + ReadLog(i));
}

void ClusterHarness::AppendConfig(const std::string& yaml) {
  std::ofstream(config_path_, std::ios::app) << yaml;
}

Result<HttpResponse> ClusterHarness::Call(size_t i, const std::string& method,
                                          const std::string& target, const std::string& body,
                                          std::vector<std::pair<std::string, std::string>> headers,
                                          milliseconds timeout) {
  HttpClientRequest request;
  request.method = method;
  request.target = target;
  request.body = body;
  Authorize(headers, client_key_);
  request.headers = std::move(headers);
  if (client_tls_) request.tls_ca_file = CaCertPath(certs_dir());
  return HttpFetch(http_address(i), request, timeout);
}

Result<HttpResponse> ClusterHarness::AdminCall(size_t i, const std::string& method,
                                               const std::string& target, Headers headers,
                                               milliseconds timeout) {
  HttpClientRequest request;
  request.method = method;
  request.target = target;
  Authorize(headers, admin_key_);
  request.headers = std::move(headers);
  return HttpFetch("127.0.0.1:" + std::to_string(ports_.at(i).admin), request, timeout);
}

bool Eventually(const std::function<bool()>& probe, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    if (probe()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(20));
  }
}

}  // namespace meridian::testing
