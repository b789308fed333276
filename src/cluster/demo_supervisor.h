// DemoSupervisor: a whole cluster on one machine as child processes: the WAN emulator, one
// `meridian region` per region (dialling its peers through the emulator), the router and,
// when asked, Debian's `prometheus` scraping them all (cluster/prometheus_config.h), plus a
// small control API that `meridian chaos` uses to kill and restart any of them.
//
// Control API (JSON; on DemoOptions::control):
//   GET  /status                    {"regions": [{name, http, replication, running, pid}],
//                                    "processes": [{name, kind, running, pid, last_exit_code,
//                                    restarts}] (wan, each region, router, prometheus when
//                                    it runs), "wan_admin", "router", "data_dir", "config"}
//   POST /processes/{name}/kill     SIGKILL (as a crash)            -> 200 status of the process
//   POST /processes/{name}/stop     SIGTERM, bounded wait (drain)   -> 200
//   POST /processes/{name}/restart  start it again (a region on its data) -> 200; 409 if running
//   POST /processes/{region}/backup an online backup of the region into DATA/backups/{region}
//                                   (incremental after the first; the region's /admin/backup)
//   POST /processes/{region}/restore the region (stopped) from that backup: its data directory
//                                   replaced by `meridian restore`; restart it to rejoin
//   POST /regions/{name}/{action}   the same, for regions only (what older chaos clients send)
//   POST /alerts                    Alertmanager's webhook (contract 7)  -> 200; 400 bad payload
//   GET  /alerts                    the alerts received, oldest first (at most kAlertsKeptMax)
// {name} is "wan", "router", "prometheus", "alertmanager" or a region. Unknown names get 404,
// unknown routes 404, wrong methods 405. With auth on (the default) every call needs
// `Authorization: Bearer ADMIN_KEY` (the endpoints file's admin_key): 401 without a known key, 403
// without the admin role.
//
// Contract:
//  1. Start() binds the control API first, then returns only once the emulator answers, every
//     region reports "ok" on /healthz and the router has probed every region healthy from every
//     client location, and Prometheus (when it runs) answers /-/ready, each answer coming from
//     a listener that our own child holds (another
//     cluster on the same ports does not count); or it fails naming what did not come up, with
//     the last line of a child's log when that child exited (e.g. its "Address already in use"),
//     and stops what it started.
//  2. Stop() stops the router, the regions (SIGTERM, so they drain) and the emulator, each wait
//     bounded, SIGKILL past the bound: no process is left behind. Children also die with the
//     supervisor if it is killed (PR_SET_PDEATHSIG).
//  3. The data directory is removed by Stop() only when the supervisor created it and keep is
//     false.
//  4. Once started, every child is supervised: one that exits by itself (kill -9 from outside, a
//     crash) is reaped within kSuperviseInterval, logged with its exit code, shown as not running
//     with that code in /status, and stays down until restarted (a chaos kill is meant to last;
//     an automatic restart would hide the failure being shown).
//  5. A restart of a child that was signalled but not yet reaped waits up to kReapWait for it
//     instead of refusing it as running.
//  6. Prometheus is optional: off unless DemoOptions::prometheus; when its binary is not found
//     the demo logs so and runs without it (prometheus_address() is then empty). Its data lives
//     in <data dir>/prometheus, its generated config and link rules beside it.
//  7. Alertmanager runs only with Prometheus (and DemoOptions::alertmanager), found and skipped
//     like it; Prometheus sends it every alert, and it sends every alert, firing and resolved,
//     to the control API's POST /alerts (cluster/alertmanager_config.h), which logs each as
//     one line `demo: alert {json}` and keeps the recent ones for GET /alerts
//     (cluster/alert_receiver.h). Its files live in <data dir>/alertmanager.
//  8. Like each region's data directory, the regions' master keys (subjects, docs/residency.md)
//     live under the data dir, in <data dir>/kDemoMasterKeyDir, whatever `master_key_dir` the
//     config names: a relative one would otherwise be made in the working directory of whoever
//     started the demo, and outlive the cluster.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "auth/key_store.h"
#include "base/status.h"
#include "base/thread_annotations.h"
#include "cluster/alert_receiver.h"
#include "cluster/child_process.h"
#include "cluster/demo_keys.h"
#include "config/cluster_config.h"
#include "net/http_server.h"

namespace meridian {

inline constexpr char kDefaultDemoControl[] = "127.0.0.1:7400";
// Where the regions' master keys go under the data dir (contract 8): REGION.master.key each.
inline constexpr char kDemoMasterKeyDir[] = "master-keys";
// Beside the control API, away from Prometheus' own 9090 (an operator's may already run there).
inline constexpr char kDefaultDemoPrometheus[] = "127.0.0.1:7490";
// Beside Prometheus (Alertmanager's own default, 9093, may be an operator's).
inline constexpr char kDefaultDemoAlertmanager[] = "127.0.0.1:7491";

// Where `meridian demo` writes its endpoints file when not told (`meridian status` reads it):
// one per control port, so demos moved by --port-offset do not overwrite each other's.
std::string DefaultDemoEndpointsFile(const HostPort& control);

struct DemoOptions {
  std::string config_path = "deploy/local.yaml";
  std::vector<std::string> regions;  // empty: every region of the config
  std::string topology;              // empty: the config's
  std::string data_dir;              // empty: a fresh temporary directory
  bool keep = false;                 // keep a temporary data directory after stopping
  std::string endpoints_file;        // written once everything is ready (mode 0600: keys)
  // Remove endpoints_file at Stop() (`meridian demo`'s default file; a given one stays).
  bool remove_endpoints_file = false;
  std::string control = kDefaultDemoControl;
  std::string wal_sync;  // empty: the region's default; else passed as `region --wal-sync`
  std::vector<std::string> region_args;  // appended to every region's command line
  // `--slow-request-ms N` for every region and the router (cluster/demo_argv.h); unset: their
  // own default (1000 ms).
  std::optional<int64_t> slow_request_ms;
  // Replicate without TLS (each region warns). Default: certificates in DATA_DIR/certs
  // (tls/cluster_tls.h), unless the config names its own.
  bool plaintext = false;
  // TLS on the regions' and the router's client listeners (`--client-tls`, or the config's
  // `tls: {client: true}`): https / rediss, verified against DATA_DIR/certs/ca.pem (the endpoints
  // file's ca_file). Off by default, so the README's curl and redis-cli lines work as printed.
  // Prometheus is not wired for it: it is skipped, with a warning.
  bool client_tls = false;
  // Every port of the config and the control API's move up by this much, so a second cluster
  // runs beside the first without editing YAML. REQUIRES: >= 0.
  int port_offset = 0;
  std::chrono::milliseconds ready_timeout{60'000};
  // Prometheus. Off by default (the lab and tests run without it); `meridian demo` turns it on.
  bool prometheus = false;
  std::string prometheus_address = kDefaultDemoPrometheus;  // moved by port_offset too
  std::string prometheus_binary = "prometheus";             // a path, or a name found in PATH
  // Alertmanager, with Prometheus only (contract 7).
  bool alertmanager = true;
  std::string alertmanager_address = kDefaultDemoAlertmanager;  // moved by port_offset too
  std::string alertmanager_binary = "prometheus-alertmanager";  // Debian's name for it
  // alerts.yml and recording.yml; empty: the "prometheus" directory beside the config file
  // (deploy/local.yaml -> deploy/prometheus).
  std::string prometheus_rules_dir;
  // Client authentication: keys made at the first start in the data directory (demo_keys.h)
  // and the cluster config's `auth` pointed at them. false: the config's own `auth`, if any.
  bool auth = true;
};

class DemoSupervisor {
 public:
  explicit DemoSupervisor(DemoOptions options);
  ~DemoSupervisor();  // Stop()s
  DemoSupervisor(const DemoSupervisor&) = delete;
  DemoSupervisor& operator=(const DemoSupervisor&) = delete;

  Status Start() MERIDIAN_EXCLUDES(mu_);
  void Stop() MERIDIAN_EXCLUDES(mu_);

  const ClusterConfig& config() const { return config_; }
  const std::string& data_dir() const { return data_dir_; }
  const std::string& endpoints_file() const { return options_.endpoints_file; }
  std::string control_address() const;
  // host:port of the demo's Prometheus, or empty when it does not run (contract 6).
  std::string prometheus_address() const;
  // host:port of the demo's Alertmanager, or empty when it does not run (contract 7).
  std::string alertmanager_address() const;
  // The endpoints document (also written to options.endpoints_file), with the plain client_key
  // and admin_key when auth is on.
  std::string EndpointsJson() const;
  // The demo's keys; nullopt when it runs without authentication.
  const std::optional<DemoKeys>& keys() const { return keys_; }
  // The CA that client listeners are verified with when client TLS is on; empty otherwise.
  const std::string& client_ca_file() const { return client_ca_file_; }

 private:
  struct Child {
    std::string name;  // "wan", "router" or a region name
    std::string kind;  // "wan", "router" or "region"
    std::vector<std::string> argv;
    // Appended at the demo's own first start only, never on a restart (a region restarted on a
    // wiped directory must rejoin, not be born again).
    std::vector<std::string> first_start_args;
    std::unique_ptr<ChildProcess> process;
    std::optional<int> last_exit_code;  // of its last run, once one ended
    int restarts = 0;                   // through the control API
  };

  // Sets up the children. Before the control API and the supervision thread exist, so mu_ is
  // uncontended; it is held so that the analysis checks the children's writes.
  Status Prepare() MERIDIAN_REQUIRES(mu_);
  // Writes Prometheus' config and link rules and sets up prometheus_, or leaves it unset when
  // the binary is missing (contract 6). Fails only on an unusable address or directory.
  Status PreparePrometheus() MERIDIAN_REQUIRES(mu_);
  // The same for Alertmanager (contract 7); called by PreparePrometheus, which points at it.
  Status PrepareAlertmanager() MERIDIAN_REQUIRES(mu_);
  Status StartChild(Child& child, bool first_start = false);
  Status StartControl();
  // The control API's backup and restore of a region (see the header comment).
  HttpResponse BackupRegion(const std::string& name);
  HttpResponse RestoreRegionLocked(Child& child) MERIDIAN_REQUIRES(mu_);
  std::string BackupDir(const std::string& region) const;
  Status WaitReady() MERIDIAN_EXCLUDES(mu_);
  // Waits until `ready()` holds and `child` holds the listener on `port`; fails when the child
  // exits or the ready timeout passes.
  Status WaitFor(const std::string& what, Child& child, uint16_t port,
                 const std::function<bool()>& ready) MERIDIAN_EXCLUDES(mu_);
  void HandleControl(const HttpRequest& request, HttpResponder respond) MERIDIAN_EXCLUDES(mu_);
  HttpResponse StatusLocked() MERIDIAN_REQUIRES(mu_);
  HttpResponse ActLocked(Child& child, const std::string& action) MERIDIAN_REQUIRES(mu_);
  Child* ChildNamed(const std::string& name, bool regions_only) MERIDIAN_REQUIRES(mu_);
  // wan, regions, router, alertmanager and prometheus (when they run).
  std::vector<Child*> ChildrenLocked() MERIDIAN_REQUIRES(mu_);
  // Notes and logs a child that exited by itself.
  void ReapLocked(Child& child) MERIDIAN_REQUIRES(mu_);
  void Supervise() MERIDIAN_EXCLUDES(mu_);  // the supervision thread's loop (contract 4)

  DemoOptions options_;
  ClusterConfig config_;
  std::string data_dir_;
  std::optional<DemoKeys> keys_;
  std::string client_ca_file_;  // set when client TLS is on
  // keys_'s hashes: the control API serves admin keys only.
  std::unique_ptr<auth::KeyStore> control_keys_;
  bool created_data_dir_ = false;
  std::string config_file_;
  Mutex mu_;
  // The children (Prepare() sets them up under mu_ too).
  Child wan_ MERIDIAN_GUARDED_BY(mu_);
  Child router_ MERIDIAN_GUARDED_BY(mu_);
  // process is null when Prometheus does not run
  Child prometheus_ MERIDIAN_GUARDED_BY(mu_);
  std::optional<HostPort> prometheus_http_;
  // process is null when Alertmanager does not run
  Child alertmanager_ MERIDIAN_GUARDED_BY(mu_);
  std::optional<HostPort> alertmanager_http_;
  AlertReceiver alerts_;
  std::vector<Child> regions_ MERIDIAN_GUARDED_BY(mu_);
  std::unique_ptr<HttpServer> control_;
  CondVar supervise_wake_;  // supervise_stop_ became true
  bool supervise_stop_ MERIDIAN_GUARDED_BY(mu_) = false;
  std::thread supervisor_;
  bool stopped_ = false;
  bool endpoints_written_ = false;  // so a demo that failed to start leaves another's file alone
};

}  // namespace meridian
