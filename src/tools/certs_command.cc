#include "tools/certs_command.h"

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "config/cluster_config.h"
#include "tls/cert_files.h"
#include "tls/cluster_tls.h"

namespace meridian {

namespace {

struct CertsOptions {
  std::string config_path = "deploy/local.yaml";
  std::string out_dir;
  std::vector<std::string> clients = kDefaultClientRoles;  // one certificate each
  std::vector<std::string> listener_hosts = kDefaultListenerHosts;
};

int RunCerts(const CertsOptions& o) {
  Result<ClusterConfig> config = LoadClusterConfig(o.config_path);
  if (!config.ok()) {
    std::cerr << "certs: " << config.status().message() << "\n";
    return 2;
  }
  std::vector<std::string> regions;
  for (const RegionConfig& region : config->regions) {
    regions.push_back(region.name);
  }
  const Status written = WriteClusterCertificates(o.out_dir, regions, o.clients, o.listener_hosts);
  if (!written.ok()) {
    std::cerr << "certs: " << written.ToString() << "\n";
    return written.code() == StatusCode::kInvalidArgument ? 2 : 1;
  }
  std::cout << "certs: wrote a CA and certificates for regions " << config->RegionNames()
            << ", their routers and " << o.clients.size() << " client role(s), and "
            << ListenerCertPath(o.out_dir) << " for the client listeners (hosts";
  for (const std::string& host : o.listener_hosts)
    std::cout << " " << host;
  std::cout << ") to " << o.out_dir << "\nAdd to the config:\ntls:\n  dir: " << o.out_dir
            << "\n  client: true   # optional: TLS on the client listeners too\n("
            << CaKeyPath(o.out_dir) << " is only needed to issue more: keep it safe)\n";
  return 0;
}

}  // namespace

void AddCertsCommand(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<CertsOptions>();
  CLI::App* cmd = app.add_subcommand(
      "certs", "Make a cluster CA and a certificate per region, router and client role");
  cmd->add_option("--config", o->config_path, "cluster config (YAML)")->capture_default_str();
  cmd->add_option("--out", o->out_dir, "directory to write (must not hold a ca.pem yet)")
      ->required();
  cmd->add_option("--client", o->clients, "client role to issue a certificate for (repeatable)")
      ->capture_default_str();
  cmd->add_option("--listener-host", o->listener_hosts,
                  "IP address or DNS name clients dial the client listeners at, for the listener "
                  "certificate (repeatable; replaces the default)")
      ->capture_default_str();
  cmd->callback([o, exit_code] { *exit_code = RunCerts(*o); });
}

}  // namespace meridian
