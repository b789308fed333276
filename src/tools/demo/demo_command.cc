#include "tools/demo/demo_command.h"

#include <spdlog/spdlog.h>

#include <iostream>
#include <memory>

#include "cluster/demo_supervisor.h"
#include "cluster/local_cluster.h"
#include "tools/stop_signals.h"

namespace meridian {

namespace {

void PrintWelcome(const DemoSupervisor& demo, int port_offset) {
  const ClusterConfig& c = demo.config();
  // Client TLS: https, and every curl line names the CA to verify with.
  const bool tls = !demo.client_ca_file().empty();
  const std::string http = tls ? "https://" : "http://";
  std::cout << "\nMeridian demo: " << c.regions.size() << " regions, " << TopologyName(c.topology)
            << " topology, data in " << demo.data_dir() << "\n\n";
  for (const RegionConfig& r : c.regions) {
    std::cout << "  region " << r.name << "  " << http << r.http.ToString() << "  replication "
              << r.replication.ToString();
    if (r.resp) std::cout << "  resp " << r.resp->ToString();
    std::cout << "\n";
  }
  std::cout << "  router     " << http << c.router.http.ToString()
            << "  (X-Client-Region: " << c.regions[0].name << " ...)";
  if (c.router.resp) std::cout << "  resp " << c.router.resp->ToString() << " (MERIDIAN.REGION)";
  std::cout << "\n"
            << "  WAN admin  http://" << c.wan.admin.ToString() << "  (toxiproxy API)\n"
            << "  control    http://" << demo.control_address() << "  (meridian chaos)\n";
  std::cout << "  dashboard  " << http << c.router.http.ToString() << "/dashboard\n";
  if (tls) {
    std::cout << "  client TLS on: verify with --cacert " << demo.client_ca_file()
              << " (redis-cli --tls --cacert, python redis ssl_ca_certs=)\n";
  }
  if (!demo.prometheus_address().empty()) {
    std::cout << "  prometheus http://" << demo.prometheus_address()
              << "  (alerts: /alerts, targets: /targets)\n";
  }
  if (!demo.alertmanager_address().empty()) {
    std::cout << "  alertmgr   http://" << demo.alertmanager_address()
              << "  (every alert lands in this log as `demo: alert {...}`; `meridian chaos "
                 "alerts` lists them)\n";
  }
  std::cout << "  logs       " << demo.data_dir() << "/logs/\n";
  const std::string offset =
      port_offset > 0 ? " --port-offset " + std::to_string(port_offset) : std::string();
  std::cout << "  status     meridian status" << offset << " [--watch]  (reads "
            << demo.endpoints_file() << ")\n\n";
  const std::string first = c.regions.front().http.ToString();
  const std::string last = c.regions.back().http.ToString();
  const std::string router = c.router.http.ToString();
  // With auth on, every line carries the client key (docs/security.md); $KEY keeps them short.
  std::string h;
  if (demo.keys()) {
    std::cout << "API keys (stored hashed in " << demo.data_dir() << "/keys.txt):\n"
              << "  client " << demo.keys()->client_key << "  (read+write every class)\n"
              << "  admin  " << demo.keys()->admin_key
              << "  (admin listeners, control API: meridian chaos)\n\n";
    h = "-H \"Authorization: Bearer $KEY\" ";
  }
  if (tls) h += "--cacert " + demo.client_ca_file() + " ";
  std::cout << "Try:\n";
  if (demo.keys()) std::cout << "  KEY=" << demo.keys()->client_key << "\n";
  std::cout << "  curl -s " << h << "-X PUT " << http << first
            << "/profile/alice -d '{\"name\":\"Alice\"}'\n"
            << "  curl -s " << h << http << last << "/profile/alice\n"
            << "  curl -s " << h << "-X POST " << http << first << "/counter/visits/incr\n"
            << "  curl -s " << h << "-X POST " << http << last
            << "/tags/alice -d '{\"add\":[\"admin\"]}'\n"
            << "  curl -s " << h << "-H 'X-Client-Region: " << c.regions.back().name << "' " << http
            << router << "/counter/visits\n"
            << (demo.keys() ? "  export MERIDIAN_ADMIN_KEY=" + demo.keys()->admin_key + "\n"
                            : std::string())
            << "  meridian chaos status            # and: partition, heal, kill, restart, latency, "
               "skew\n\n"
            << "Ctrl-C stops everything." << std::endl;
}

}  // namespace

void AddDemoCommand(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<DemoOptions>();
  o->prometheus = true;  // the lab and tests keep DemoOptions' default (off)
  CLI::App* cmd = app.add_subcommand(
      "demo", "Run a whole cluster on this machine: regions, WAN emulator and router");
  cmd->add_option("--config", o->config_path, "cluster config (YAML)")->capture_default_str();
  cmd->add_option("--regions", o->regions, "regions to run (default: all in the config)")
      ->delimiter(',');
  cmd->add_option("--topology", o->topology, "mesh, hub or ring (default: the config's)")
      ->check(CLI::IsMember({"mesh", "hub", "ring"}));
  cmd->add_option("--data-dir", o->data_dir,
                  "where regions keep their data (default: a fresh "
                  "temporary directory, removed at exit)");
  cmd->add_flag("--keep", o->keep, "keep the temporary data directory at exit");
  cmd->add_option("--endpoints-file", o->endpoints_file,
                  "write every endpoint as JSON here once the cluster is ready (default: "
                  "meridian-demo-CONTROLPORT.json in the temporary directory, removed at exit; "
                  "`meridian status` reads it)");
  cmd->add_option("--control", o->control, "address of the control API for meridian chaos")
      ->capture_default_str();
  cmd->add_option("--port-offset", o->port_offset,
                  "move every port of the config, and the control API's, up by N: a second "
                  "cluster beside the first (then `meridian chaos --port-offset N`)")
      ->check(CLI::Range(0, 50'000))
      ->capture_default_str();
  cmd->add_option("--wal-sync", o->wal_sync,
                  "regions acknowledge writes after their WAL fsync (always, the default) or "
                  "with an fsync every 100 ms (periodic); see meridian region --help")
      ->check(CLI::IsMember({"always", "periodic"}));
  cmd->add_option("--slow-request-ms", o->slow_request_ms,
                  "passed to every region and the router: log a request answered after this "
                  "many ms as one JSON line with its X-Request-Id (0: every request, -1: none; "
                  "default: theirs, 1000)")
      ->check(CLI::Range(int64_t{-1}, int64_t{3'600'000}));
  cmd->add_flag("!--no-auth", o->auth,
                "run without client authentication (a warning at start): by default the demo "
                "makes a client and an admin key at its first start and every region requires "
                "one");
  cmd->add_flag("--plaintext", o->plaintext,
                "replicate without TLS (each region logs a warning); default: a CA and "
                "certificates made in the data directory (docs/security.md)");
  cmd->add_flag("--client-tls", o->client_tls,
                "TLS 1.3 on the regions' and the router's HTTP and RESP listeners (https, "
                "rediss; CA in DATA_DIR/certs/ca.pem, named in the endpoints file); needs TLS "
                "(not --plaintext). Prometheus is then not started");
  cmd->add_flag("!--no-prometheus", o->prometheus,
                "do not start Prometheus nor Alertmanager (by default the demo runs Debian's "
                "`prometheus`, when installed, scraping every region and the router)");
  cmd->add_option("--prometheus", o->prometheus_address,
                  "Prometheus' listen address (moved by --port-offset too)")
      ->capture_default_str();
  cmd->add_flag("!--no-alertmanager", o->alertmanager,
                "do not start Alertmanager (by default Debian's `prometheus-alertmanager` runs "
                "beside Prometheus, when installed, and sends every alert to this demo's log)");
  cmd->add_option("--alertmanager", o->alertmanager_address,
                  "Alertmanager's listen address (moved by --port-offset too)")
      ->capture_default_str();
  cmd->add_option("--prometheus-rules", o->prometheus_rules_dir,
                  "directory holding alerts.yml and recording.yml (default: prometheus/ beside "
                  "the config file)");
  cmd->callback([o, exit_code] {
    BlockedStopSignals signals;  // before any thread starts
    if (o->endpoints_file.empty()) {
      // `meridian status` finds the demo here (per control port, after --port-offset).
      Result<HostPort> control = ParseHostPort(o->control);
      if (control.ok() && o->port_offset > 0) {
        control = OffsetPort(*control, o->port_offset, "the control API");
      }
      if (control.ok()) {
        o->endpoints_file = DefaultDemoEndpointsFile(*control);
        o->remove_endpoints_file = true;
      }
    }
    DemoSupervisor demo(*o);
    spdlog::info("demo: starting (logs under the data directory's logs/)");
    if (Status started = demo.Start(); !started.ok()) {
      spdlog::error("demo: {}", started.ToString());
      *exit_code = 1;
      return;
    }
    PrintWelcome(demo, o->port_offset);
    const int signal = signals.Wait();
    spdlog::info("demo: signal {}; stopping everything", signal);
    demo.Stop();
    if (o->keep || !o->data_dir.empty()) spdlog::info("demo: data kept in {}", demo.data_dir());
  });
}

}  // namespace meridian
