// DemoSupervisor's Prometheus child (contract 6 of demo_supervisor.h): where the binary is, the
// files it is given, and its command line.
#include <spdlog/spdlog.h>
#include <unistd.h>  // access

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tools/demo/demo_supervisor.h"
#include "tools/demo/prometheus_config.h"
#include "tools/process/local_cluster.h"

namespace meridian {

namespace {

// `name` itself when it holds a '/', else the first executable of that name on PATH; empty
// when there is none.
std::string FindExecutable(const std::string& name) {
  if (name.find('/') != std::string::npos) return ::access(name.c_str(), X_OK) == 0 ? name : "";
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

}  // namespace

std::string DemoSupervisor::prometheus_address() const {
  return prometheus_http_ ? prometheus_http_->ToString() : "";
}

Status DemoSupervisor::PreparePrometheus() {
  if (!options_.prometheus) return Status::Ok();
  Result<HostPort> address = ParseHostPort(options_.prometheus_address);
  if (!address.ok()) return InvalidArgument("--prometheus: " + address.status().message());
  if (options_.port_offset > 0) {
    address = OffsetPort(*address, options_.port_offset, "Prometheus");
    if (!address.ok()) return address.status();
  }
  const std::string binary = FindExecutable(options_.prometheus_binary);
  if (binary.empty()) {
    spdlog::warn(
        "demo: no `{}` executable found, so the demo runs without Prometheus (Debian's "
        "`prometheus` package provides it; scripts/build installs it)",
        options_.prometheus_binary);
    return Status::Ok();
  }
  const std::filesystem::path dir = std::filesystem::path(data_dir_) / "prometheus";
  std::error_code error;
  std::filesystem::create_directories(dir / "data", error);
  if (error) return Internal(dir.string() + ": " + error.message());

  PrometheusFiles files;
  std::filesystem::path rules = options_.prometheus_rules_dir;
  if (rules.empty())
    rules = std::filesystem::path(options_.config_path).parent_path() / "prometheus";
  for (const char* name : {"recording.yml", "alerts.yml"}) {
    const std::filesystem::path file = std::filesystem::absolute(rules / name, error);
    if (!error && std::filesystem::exists(file)) {
      files.rule_files.push_back(file.string());
    } else {
      spdlog::warn("demo: no {} in {}: Prometheus runs without it", name, rules.string());
    }
  }
  const std::string links = (dir / "links.yml").string();
  std::ofstream(links) << LinkDelayRules(config_);
  files.rule_files.push_back(links);
  const std::string config_file = (dir / "prometheus.yml").string();
  std::ofstream(config_file) << PrometheusScrapeConfig(config_, files);
  if (!std::ofstream(config_file, std::ios::app)) return Internal("cannot write " + config_file);

  prometheus_.name = "prometheus";
  prometheus_.kind = "prometheus";
  prometheus_.argv = {binary, "--config.file=" + config_file,
                      "--storage.tsdb.path=" + (dir / "data").string(),
                      "--web.listen-address=" + address->ToString(),
                      // A demo's history: a day is plenty, and keeps the disk bounded.
                      "--storage.tsdb.retention.time=1d"};
  prometheus_.process = std::make_unique<ChildProcess>();
  prometheus_http_ = *address;
  return Status::Ok();
}

}  // namespace meridian
