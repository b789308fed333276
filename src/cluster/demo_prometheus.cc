// DemoSupervisor's monitoring children (contracts 6 and 7 of demo_supervisor.h), Prometheus and
// Alertmanager: where their binaries are, the files they are given, and their command lines.
#include <spdlog/spdlog.h>
#include <sys/stat.h>  // chmod
#include <unistd.h>    // access

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cluster/alertmanager_config.h"
#include "cluster/demo_supervisor.h"
#include "cluster/local_cluster.h"
#include "cluster/prometheus_config.h"

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

std::string DemoSupervisor::alertmanager_address() const {
  return alertmanager_http_ ? alertmanager_http_->ToString() : "";
}

Status DemoSupervisor::PrepareAlertmanager() {
  if (!options_.alertmanager) return Status::Ok();
  Result<HostPort> address = ParseHostPort(options_.alertmanager_address);
  if (!address.ok()) return InvalidArgument("--alertmanager: " + address.status().message());
  if (options_.port_offset > 0) {
    address = OffsetPort(*address, options_.port_offset, "Alertmanager");
    if (!address.ok()) return address.status();
  }
  const std::string binary = FindExecutable(options_.alertmanager_binary);
  if (binary.empty()) {
    spdlog::warn(
        "demo: no `{}` executable found, so the demo runs without Alertmanager (Debian's "
        "`prometheus-alertmanager` package provides it; scripts/build installs it)",
        options_.alertmanager_binary);
    return Status::Ok();
  }
  const std::filesystem::path dir = std::filesystem::path(data_dir_) / "alertmanager";
  std::error_code error;
  std::filesystem::create_directories(dir / "data", error);
  if (error) return Internal(dir.string() + ": " + error.message());

  AlertmanagerFiles files;
  files.webhook_url = "http://" + options_.control + "/alerts";
  if (keys_) {
    // The control API takes admin keys only; the file is as private as demo-keys.json.
    files.token_file = (dir / "webhook-token").string();
    std::ofstream(files.token_file) << keys_->admin_key;
    if (!std::ofstream(files.token_file, std::ios::app) ||
        ::chmod(files.token_file.c_str(), 0600) != 0) {
      return Internal("cannot write " + files.token_file);
    }
  }
  const std::string config_file = (dir / "alertmanager.yml").string();
  std::ofstream(config_file) << AlertmanagerConfig(files);
  if (!std::ofstream(config_file, std::ios::app)) return Internal("cannot write " + config_file);

  alertmanager_.name = "alertmanager";
  alertmanager_.kind = "alertmanager";
  alertmanager_.argv = {binary, "--config.file=" + config_file,
                        "--storage.path=" + (dir / "data").string(),
                        "--web.listen-address=" + address->ToString(),
                        // One instance: no gossip port (its default, 9094, would clash between
                        // two demos and with an operator's own Alertmanager).
                        "--cluster.listen-address="};
  alertmanager_.process = std::make_unique<ChildProcess>();
  alertmanager_http_ = *address;
  return Status::Ok();
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
  MERIDIAN_RETURN_IF_ERROR(PrepareAlertmanager());
  if (alertmanager_http_) files.alertmanager = alertmanager_http_->ToString();
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
