#include "tools/region_command.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <memory>
#include <string>

#include "config/cluster_config.h"
#include "server/region_server.h"
#include "tls/cluster_tls.h"
#include "tools/stop_signals.h"

namespace meridian {

namespace {

struct RegionCommandOptions {
  std::string config_path = "deploy/local.yaml";
  std::string region;
  std::string data_dir;
  std::string http;
  std::string replication;
  std::string resp;
  bool direct = false;
  bool plaintext = false;
  bool client_tls = false;
  std::string initial_cluster_state = "existing";
  int session_wait_ms = 1000;
  int quorum_timeout_ms = 2000;
  int write_wait_ms = 3000;
  int stock_wait_ms = 1000;
  int64_t slow_request_ms = 1'000;
  std::string handles = "consensus";
  std::string wal_sync = "always";
  int wal_sync_interval_ms = 100;
  bool wal_sync_on_loop = false;
  int test_recovery_delay_ms = 0;
  bool test_plain_eventual_delivery = false;
  size_t oplog_retention_ops = ReplicaOptions{}.oplog_retention_ops;
  size_t oplog_retention_mib = ReplicaOptions{}.oplog_retention_bytes >> 20;
  RegionServerOptions::Limits limits;
};

// Two client listeners of max_connections each, plus RocksDB's files and the peers' streams: a
// soft open-file limit below that would make accept fail (EMFILE) before the limit answers 503.
// Raises the soft limit towards the hard one, as redis-server does for maxclients, and warns
// when even one listener's worth does not fit.
void RaiseOpenFileLimit(size_t max_connections) {
  constexpr rlim_t kOtherFiles = 1024;  // RocksDB's table files, gRPC, logs
  const rlim_t wanted = static_cast<rlim_t>(max_connections) * 2 + kOtherFiles;
  const rlim_t needed = static_cast<rlim_t>(max_connections) + kOtherFiles;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= wanted) return;
  const rlim_t old = limit.rlim_cur;
  limit.rlim_cur = limit.rlim_max == RLIM_INFINITY ? wanted : std::min(wanted, limit.rlim_max);
  if (limit.rlim_cur > old && setrlimit(RLIMIT_NOFILE, &limit) != 0) limit.rlim_cur = old;
  if (limit.rlim_cur < needed) {
    spdlog::warn(
        "region: --max-connections {} needs about {} open files, the limit is {}: connections "
        "past it wait in the listen backlog unanswered (raise ulimit -n / LimitNOFILE)",
        max_connections, needed, limit.rlim_cur);
  }
}

int RunRegion(const RegionCommandOptions& o) {
  RaiseOpenFileLimit(o.limits.max_connections);
  BlockedStopSignals signals;  // before any thread starts
  Result<ClusterConfig> config = LoadClusterConfig(o.config_path);
  if (!config.ok()) {
    spdlog::error("region: {}", config.status().message());
    return 2;
  }
  // Plaintext replication must be asked for (docs/security.md); a forgotten `tls:` section must
  // not quietly put a region's data on the wire in the clear.
  const bool plaintext_config = config->tls && config->tls->plaintext;
  if (!config->tls && !o.plaintext) {
    spdlog::error(
        "region: {} has no tls: section. Make certificates with `meridian certs --config {} --out "
        "DIR` and add `tls: {{dir: DIR}}`, or pass --plaintext to replicate unencrypted",
        o.config_path, o.config_path);
    return 2;
  }
  if ((o.client_tls || (config->tls && config->tls->client)) && o.plaintext) {
    spdlog::error("region: --client-tls / tls.client needs certificates; drop --plaintext");
    return 2;
  }
  if (Status st = ApplyClientTls(*config, o.client_tls); !st.ok()) {
    // Serving plaintext where TLS was asked for would be worse than not starting.
    spdlog::error("region: {}", st.message());
    return 2;
  }
  if (o.plaintext || plaintext_config) {
    config->tls = TlsConfig{.dir = "", .client = false, .plaintext = true};
    spdlog::warn(
        "region {}: PLAINTEXT replication: links to peers are neither encrypted nor "
        "authenticated (--plaintext{})",
        o.region, plaintext_config ? " / tls.plaintext in the config" : "");
  }
  std::optional<RegionId> self = config->RegionIdByName(o.region);
  if (!self) {
    spdlog::error("region: unknown region '{}' (the config has: {})", o.region,
                  config->RegionNames());
    return 2;
  }
  RegionServerOptions options;
  options.cluster = *std::move(config);
  options.self = *self;
  options.data_dir = o.data_dir;
  options.http_address = o.http;
  options.replication_address = o.replication;
  options.resp_address = o.resp;
  options.direct_replication = o.direct;
  options.new_cluster = o.initial_cluster_state == "new";
  options.session_wait_ms = o.session_wait_ms;
  options.quorum_timeout_ms = o.quorum_timeout_ms;
  options.write_wait_ms = o.write_wait_ms;
  options.stock_wait_ms = o.stock_wait_ms;
  options.slow_request_ms = o.slow_request_ms;
  options.strong.mode = o.handles == "owner" ? HandleMode::kOwner : HandleMode::kConsensus;
  options.commit.wal_sync = o.wal_sync == "periodic" ? WalSync::kPeriodic : WalSync::kEveryCommit;
  options.commit.sync_interval_ms = o.wal_sync_interval_ms;
  options.commit.sync_on_loop = o.wal_sync_on_loop;
  options.TEST_recovery_delay_ms = o.test_recovery_delay_ms;
  if (o.test_plain_eventual_delivery) {
    // The lab's causal control only (docs/lab.md, causal-control): causal+ reads broken on purpose.
    spdlog::warn(
        "region {}: --TEST-plain-eventual-delivery: replicated ops are applied on "
        "arrival, without their causal dependencies; reads are NOT causally consistent",
        o.region);
    options.replica.bugs.no_causal_wait = true;
  }
  options.replica.oplog_retention_ops = o.oplog_retention_ops;
  options.replica.oplog_retention_bytes = o.oplog_retention_mib << 20;
  options.limits = o.limits;
  // One server per slice (docs/slices.md): its own loop, storage, syncer and peer streams.
  std::vector<std::unique_ptr<RegionServer>> slices;
  const uint32_t slice_count = options.cluster.slices;
  for (uint32_t slice = 0; slice < slice_count; ++slice) {
    RegionServerOptions slice_options = options;
    slice_options.slice = slice;
    auto server = RegionServer::Start(std::move(slice_options));
    if (!server.ok()) {
      spdlog::error("region {}{}: {}", o.region,
                    slice_count > 1 ? " slice " + std::to_string(slice) : std::string(),
                    server.status().ToString());
      for (auto& started : slices)
        started->Stop();
      return 1;
    }
    slices.push_back(std::move(server).value());
  }
  const int signal = signals.Wait();
  spdlog::info("region {}: signal {}; draining", o.region, signal);
  for (auto& server : slices)
    server->Stop();
  return 0;
}

}  // namespace

void AddRegionCommand(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<RegionCommandOptions>();
  CLI::App* cmd = app.add_subcommand(
      "region", "Run one region: the HTTP API on RocksDB, replicating to its peers over gRPC");
  cmd->add_option("--config", o->config_path, "cluster config (YAML)")->capture_default_str();
  cmd->add_option("--region", o->region, "this region's name in the config")->required();
  cmd->add_option("--data-dir", o->data_dir, "RocksDB directory (default: the config's)");
  cmd->add_option("--http", o->http, "client API listen address (default: the config's)");
  cmd->add_option("--resp", o->resp,
                  "Redis protocol listen address (default: the config's `resp`, if any)");
  cmd->add_option("--replication", o->replication,
                  "replication listen address (default: the config's)");
  cmd->add_flag("--direct", o->direct,
                "dial peers' replication listeners directly, not through the WAN emulator");
  cmd->add_flag("--plaintext", o->plaintext,
                "replicate without TLS (logs a warning): only when the config has no tls: "
                "section on purpose, e.g. a benchmark of one machine");
  cmd->add_flag("--client-tls", o->client_tls,
                "TLS 1.3 on the HTTP and RESP client listeners, with the certificate directory's "
                "listener.pem (as `tls: {client: true}`); needs the config's tls: dir");
  cmd->add_option("--initial-cluster-state", o->initial_cluster_state,
                  "new: an empty data directory is this region's first start in a cluster being "
                  "created (no rejoin wait); existing: an empty data directory is a lost or "
                  "replaced disk, and the region rejoins its peers before taking writes. Ignored "
                  "when the data directory holds data")
      ->capture_default_str()
      ->check(CLI::IsMember({"new", "existing"}));
  cmd->add_option("--session-wait-ms", o->session_wait_ms,
                  "how long a read waits for its session token to be applied")
      ->capture_default_str()
      ->check(CLI::Range(0, 60'000));
  cmd->add_option("--quorum-timeout-ms", o->quorum_timeout_ms,
                  "how long a quorum read waits for a majority")
      ->capture_default_str()
      ->check(CLI::Range(1, 60'000));
  cmd->add_option("--slow-request-ms", o->slow_request_ms,
                  "log a request answered after this many ms as one JSON line with its "
                  "X-Request-Id (0: every request, -1: none)")
      ->check(CLI::Range(int64_t{-1}, int64_t{3'600'000}))
      ->capture_default_str();
  cmd->add_option("--stock-wait-ms", o->stock_wait_ms,
                  "how long a stock take beyond this region's rights waits for peers to lend "
                  "rights before it is answered 409 (0: never wait)")
      ->capture_default_str()
      ->check(CLI::Range(0, 60'000));
  cmd->add_option("--write-wait-ms", o->write_wait_ms,
                  "how long a ?w=majority / ?w=all write waits for enough regions to hold it")
      ->capture_default_str()
      ->check(CLI::Range(1, 60'000));
  cmd->add_option("--handles", o->handles,
                  "handles: consensus (CASPaxos over a majority) or owner (one region per handle)")
      ->capture_default_str()
      ->check(CLI::IsMember({"consensus", "owner"}));
  cmd->add_option("--wal-sync", o->wal_sync,
                  "acknowledge writes after their WAL fsync (always), or once the kernel has "
                  "them with an fsync every --wal-sync-interval-ms (periodic: survives kill -9, "
                  "a power loss may take the last interval)")
      ->capture_default_str()
      ->check(CLI::IsMember({"always", "periodic"}));
  cmd->add_option("--wal-sync-interval-ms", o->wal_sync_interval_ms,
                  "with --wal-sync periodic: how often the WAL is fsynced")
      ->capture_default_str()
      ->check(CLI::Range(1, 60'000));
  cmd->add_flag("--wal-sync-on-loop", o->wal_sync_on_loop,
                "run each WAL fsync on the event loop instead of the syncer thread");
  cmd->add_option("--oplog-retention-ops", o->oplog_retention_ops,
                  "ops kept for a lagging peer; past it (or the MiB bound) the peer is caught up "
                  "by state transfer")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{100'000'000}));
  cmd->add_option("--oplog-retention-mib", o->oplog_retention_mib,
                  "memory the oplog may hold for lagging peers, in MiB")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1} << 20));
  // Bounds (docs/security.md "Bounds"; the table in docs/server.md).
  cmd->add_option("--max-connections", o->limits.max_connections,
                  "client connections served at once per listener (HTTP, RESP); past it a new "
                  "one is answered 503 / -ERR max number of clients reached, and closed")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1'000'000}));
  cmd->add_option("--max-inflight-requests", o->limits.max_inflight_requests,
                  "requests handed to the region and not yet answered; past it 503 with "
                  "Retry-After (RESP: an error)")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{10'000'000}));
  cmd->add_option("--max-pipelined-commands", o->limits.max_pipelined_commands,
                  "RESP commands read and not yet answered per connection; past it the "
                  "connection is not read until answers drain")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1'000'000}));
  cmd->add_option("--http-idle-timeout-ms", o->limits.http_idle_timeout_ms,
                  "an HTTP connection with no request for this long is closed")
      ->capture_default_str()
      ->check(CLI::Range(1, 86'400'000));
  cmd->add_option("--resp-idle-timeout-ms", o->limits.resp_idle_timeout_ms,
                  "a RESP connection with nothing read or written for this long is closed (0: "
                  "never)")
      ->capture_default_str()
      ->check(CLI::Range(0, 86'400'000));
  cmd->add_option("--request-timeout-ms", o->limits.request_timeout_ms,
                  "a request (HTTP) or command (RESP) whose first byte arrived must be complete "
                  "within this, or the connection gets 408 (HTTP) / is closed (RESP)")
      ->capture_default_str()
      ->check(CLI::Range(1, 3'600'000));
  cmd->add_option("--TEST-recovery-delay-ms", o->test_recovery_delay_ms,
                  "tests only: wait this long, listening and answering \"loading\", before "
                  "loading the data")
      ->check(CLI::Range(0, 60'000));
  cmd->add_flag("--TEST-plain-eventual-delivery", o->test_plain_eventual_delivery,
                "tests only (the lab's causal control): apply every replicated op on arrival, "
                "without waiting for the ops it depends on, as plain eventual consistency would; "
                "breaks causal+ reads on purpose");
  cmd->callback([o, exit_code] { *exit_code = RunRegion(*o); });
}

}  // namespace meridian
