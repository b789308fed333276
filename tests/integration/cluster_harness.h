// ClusterHarness: real `meridian` processes on loopback for integration tests.
//
// It writes a cluster config with free 127.0.0.1 ports under a fresh temporary directory, starts
// regions as child processes (`meridian region --direct` unless told otherwise), and stops them
// all (SIGKILL if SIGTERM does not end them within a bound) when destroyed, so a failing test
// leaves no process behind. Every wait is bounded.
//
// Authentication is on, as in the demo: the config names a key file holding a client key (*:rw),
// an admin key (admin), a reader key (*:r) and the router's key. Call() sends the client key
// unless the caller passes its own Authorization header; AdminCall() goes to a region's admin
// listener with the admin key.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "cluster/child_process.h"
#include "cluster/local_cluster.h"
#include "net/http_client.h"
#include "net/http_message.h"

namespace meridian::testing {

struct RegionPorts {
  uint16_t http = 0;
  uint16_t replication = 0;
  uint16_t resp = 0;
  uint16_t admin = 0;
};

class ClusterHarness {
 public:
  // `regions` names, e.g. {"us", "eu", "ap"}; RTTs for the config's links matrix.
  // kTls (the default): a CA and certificates in DIR/certs, and the config's tls: names them,
  // so every test runs over mutual TLS; kPlaintext: `tls: {plaintext: true}`; kClientTls: as
  // kTls plus `client: true` (HTTPS and TLS RESP on every client listener; Call and the
  // readiness checks then verify against certs_dir()/ca.pem).
  enum class Links { kTls, kPlaintext, kClientTls };
  // `slices` > 1: the config's `slices:`, every region listener at a port whose next
  // slices - 1 ports are free too (slice i listens on port + i); the ports above are slice 0's.
  explicit ClusterHarness(std::vector<std::string> regions = {"us", "eu", "ap"},
                          std::string topology = "mesh", Links links = Links::kTls,
                          uint32_t slices = 1);
  ~ClusterHarness();

  const std::string& dir() const { return dir_; }
  const std::string& config_path() const { return config_path_; }
  std::string certs_dir() const { return dir_ + "/certs"; }  // empty with kPlaintext
  bool client_tls() const { return client_tls_; }
  const std::vector<std::string>& regions() const { return regions_; }
  std::string http_address(size_t region) const;
  uint16_t http_port(size_t region) const { return ports_.at(region).http; }
  uint16_t resp_port(size_t region) const { return ports_.at(region).resp; }
  uint16_t admin_port(size_t region) const { return ports_.at(region).admin; }
  const std::string& client_key() const { return client_key_; }
  const std::string& admin_key() const { return admin_key_; }
  const std::string& reader_key() const { return reader_key_; }
  uint16_t wan_base_port() const { return wan_base_port_; }
  uint16_t wan_admin_port() const { return wan_admin_port_; }
  uint16_t router_port() const { return router_port_; }
  uint16_t router_resp_port() const { return router_resp_port_; }

  // Appends YAML (a top-level section, e.g. `residency:`) to the config. Before any start.
  void AppendConfig(const std::string& yaml);
  // Flags every later StartRegion passes to every region (e.g. {"--wal-sync", "periodic"}).
  void set_region_flags(std::vector<std::string> flags) { region_flags_ = std::move(flags); }
  // false: regions dial each other through the WAN emulator's proxies (StartWan first), not
  // directly; every replication byte then crosses it.
  void set_direct_replication(bool on) { direct_ = on; }
  // Flags StartWan passes to `meridian wan` (e.g. {"--TEST-capture", FILE}).
  void set_wan_flags(std::vector<std::string> flags) { wan_flags_ = std::move(flags); }
  // Whether a region's first start here passes `--initial-cluster-state new` (default: yes, the
  // harness creates the cluster; a later start of the same region never does, so a region
  // restarted on a deleted data directory rejoins).
  void set_first_start_new(bool on) { first_start_new_ = on; }
  // Starts region `i` (meridian region --direct), region flags and then extra flags appended.
  // Does not wait.
  Status StartRegion(size_t i, const std::vector<std::string>& extra = {});
  // Starts every region and waits until each answers /healthz with "ok".
  Status StartAll(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  void KillRegion(size_t i);
  std::optional<int> StopRegion(size_t i);  // SIGTERM, bounded
  bool running(size_t i) const { return processes_.at(i).running(); }
  // Polls /healthz until its status is `status` (e.g. "ok") or the timeout passes.
  Status WaitForStatus(size_t i, const std::string& status, std::chrono::milliseconds timeout);
  std::string log_path(size_t i) const;
  std::string ReadLog(size_t i) const;

  // Starts `meridian wan` (the router reaches other regions through its client proxies) and
  // waits until its admin API answers.
  Status StartWan(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Starts `meridian router --location LOCATION` (HTTP and RESP, router_port() and
  // router_resp_port()) and waits until it sees every path healthy. REQUIRES: StartWan().
  Status StartRouter(const std::string& location,
                     std::chrono::milliseconds timeout = std::chrono::seconds(30));
  std::string router_log() const;

  // A check script run to its end: `python3 script args...` with its output in
  // dir()/<script's file name>.log, waited for up to `timeout`. `code` is nullopt when it did not
  // end in time (it is killed then).
  struct ScriptResult {
    std::optional<int> code;
    std::string output;
  };
  ScriptResult RunScript(const std::string& script, const std::vector<std::string>& args,
                         std::chrono::seconds timeout) const;
  // "p0,p1,p2": every region's RESP (or HTTP) port in region order, as the scripts take them.
  std::string JoinedPorts(bool resp) const;

  // One request to region `i`'s admin listener, with the admin key unless `headers` hold an
  // Authorization.
  Result<HttpResponse> AdminCall(size_t i, const std::string& method, const std::string& target,
                                 std::vector<std::pair<std::string, std::string>> headers = {},
                                 std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // One request to region `i`'s HTTP API, with the client key unless `headers` hold an
  // Authorization.
  Result<HttpResponse> Call(size_t i, const std::string& method, const std::string& target,
                            const std::string& body = "",
                            std::vector<std::pair<std::string, std::string>> headers = {},
                            std::chrono::milliseconds timeout = std::chrono::seconds(5));

 private:
  std::vector<std::string> region_flags_;
  std::string client_key_;
  std::string admin_key_;
  std::string reader_key_;
  std::vector<std::string> wan_flags_;
  bool direct_ = true;
  bool client_tls_ = false;
  std::vector<std::string> regions_;
  std::string dir_;
  std::string config_path_;
  std::vector<RegionPorts> ports_;
  uint16_t wan_base_port_ = 0;
  uint16_t wan_admin_port_ = 0;
  uint16_t router_port_ = 0;
  uint16_t router_resp_port_ = 0;
  std::vector<ChildProcess> processes_;
  bool first_start_new_ = true;
  std::vector<bool> started_once_;
  ChildProcess wan_;
  ChildProcess router_;
};

// Polls `probe` every 20 ms until it returns true or `timeout` passes; returns its last value.
bool Eventually(const std::function<bool()>& probe, std::chrono::milliseconds timeout);

// The meridian binary under test (set by CMake).
std::string MeridianBinary();

}  // namespace meridian::testing
