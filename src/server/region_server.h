// RegionServer: one region as a process: the replica core behind the HTTP API, persisted in
// RocksDB, replicating to its peers over gRPC (DESIGN.md sections 2, 5 and 6).
//
// Run to completion (none of the threads busy-waits): one event-loop thread accepts and parses
// requests, applies them to the region node (node/region_node.h: the replica, the handle node
// and the rules of this contract, sans I/O, the same code the simulator drives), takes peer
// messages and ticks, and at the end of each pass writes everything the pass recorded as ONE
// unsynced RocksDB batch. A syncer thread fsyncs the WAL (one fsync for every pass written before
// it began: group commit) and the loop then answers and sends what waited for it. The transport
// has its own thread(s) and posts what it receives to the loop. No request crosses a thread, and
// nothing on the loop takes a lock another thread holds for long.
//
// Contract:
//  1. A write is answered 200 only after everything it changed is in the synced WAL (with
//     commit.wal_sync periodic: in the kernel's copy of the WAL, fsynced within the interval); a
//     step's messages (ops, acks, quorum-read answers) leave only after its records are synced.
//     So no acknowledged write and no state a peer or client has seen is lost to kill -9.
//  2. A read never shows state that is not durable yet: it answers at once when the key's last
//     change is durable (handing out the durable vector, joined with the client's token, as its
//     session token), and otherwise after the steps before it are committed.
//  3. A read with a session token waits (up to session_wait_ms) until the region has applied the
//     token's vector, then answers; past the bound it fails with 504 naming what is missing. Reads
//     waiting at once are bounded (max_waiting_reads; beyond it 503).
//  4. ?consistency=quorum merges the key's state from a majority of regions (this one included),
//     answered with the join of their vectors as the session token; 503 when no majority answers
//     within quorum_timeout_ms. A write with ?w=majority or ?w=all is answered once that many
//     regions hold it durably (RegionNode contract 5): 503 at once, unapplied, when too few are
//     reachable; 504 past write_wait_ms, saying how many hold it (it stays applied).
//  5. After a storage failure the region refuses every request with 503 (its memory is ahead of
//     its disk) and reports "failed" on /healthz; a restart recovers from disk.
//  6. /healthz status: "catching_up" after start until it has heard from a peer and applied what
//     every peer it heard from had when it first heard from it (Replica::catch_up; a region that
//     hears from no peer stays catching_up), and, on new or restored storage, until it holds its
//     own ops and its handles' records again; then "ok". "draining" once Stop() began; "failed"
//     as in 5. While catching up it serves (a read's answer then carries X-Meridian-Stale), and
//     /healthz reports the state transfers in progress
//     (keys and bytes done and expected, rate, time to go); writes on new or restored storage
//     are refused with 503 until the rejoin ends.
//  7. Handles (/handle/{name}) go to the StrongNode: its promises and accepted values reach disk
//     synced before any peer or client hears of them. Replication links are
//     dialled to every region, whatever the topology, because a majority may include any of them.
//  8. Stop() drains: stops taking requests, answers those in flight, commits what the core
//     emitted, stops replication and closes RocksDB. Idempotent.
//  9. With `auth` in the cluster config, every request but GET /healthz and /metrics needs an API
//     key whose grants cover it (api/http_auth.h; RESP: auth/resp_gate.h): 401 / 403 before
//     the node sees it. /admin/* is served only on the admin listener, to keys with the admin
//     role; on the client listener it is 404. Without `auth`, a warning at start, and all open.
// 10. Bounded (options.limits, docs/security.md "Bounds"): past max_connections a new client
//     connection is answered 503 / "-ERR max number of clients reached" and closed; past
//     max_inflight_requests (requests handed to the node and not answered) a request is
//     answered 503 with Retry-After, a RESP command an error, changing nothing; idle and
//     slow connections are closed after their timeouts.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/ids.h"
#include "base/status.h"
#include "config/cluster_config.h"
#include "net/replication_transport.h"
#include "node/region_node.h"
#include "replica/options.h"
#include "server/resp_commands.h"
#include "store/rocksdb_storage.h"
#include "strong/options.h"

namespace meridian {

struct RegionServerOptions {
  ClusterConfig cluster;
  RegionId self = 0;
  // Which of the region's cluster.slices this server is (docs/slices.md): it holds the keys of
  // that hash slice only (RegionNode contract 10), listens on each address's port + slice,
  // keeps its data under data_dir/slice-N, and replicates with the same slice of its peers
  // (their replication port + slice) on links of its own. With slices > 1, replication must be
  // direct (the WAN emulator proxies one link per pair of regions) and the config may name no
  // subjects (an erasure would reach one slice's keys).
  uint32_t slice = 0;
  // Empty: the cluster config's values for this region.
  std::string data_dir;
  std::string http_address;
  std::string replication_address;
  // The Redis protocol listener; empty: the cluster config's `resp` for this region, if any.
  std::string resp_address;
  // The admin listener (/admin/*); empty: the cluster config's `admin` for this region, if any.
  // Without one the admin routes are reachable nowhere.
  std::string admin_address;
  RespOptions resp;
  // false: dial peers through the WAN emulator's proxies (the demo); true: dial their replication
  // listeners directly (tests and deployments without an emulator).
  bool direct_replication = false;

  // The core's timeouts count ticks; ReplicaOptions' defaults assume 10 ms.
  int tick_ms = 10;
  bool new_cluster = false;  // RegionNodeOptions::new_cluster (--initial-cluster-state new)
  int session_wait_ms = 1000;
  int quorum_timeout_ms = 2000;
  int write_wait_ms = 3000;  // RegionNodeOptions::write_wait_ms (?w=majority|all)
  int stock_wait_ms = 1000;  // RegionNodeOptions::stock_wait_ms (a take waiting for rights)
  // A client request answered after this long is logged as one JSON line with its X-Request-Id
  // (api/request_log.h); 0 logs every request, -1 none. Same reasoning as the router's.
  int64_t slow_request_ms = 1'000;
  size_t max_waiting_reads = 10'000;

  // What clients can make the region hold (contract 9); each number's reason is beside the
  // listener's own option (HttpServerOptions, RespServerLimits) or here.
  struct Limits {
    size_t max_connections = 10'000;  // per client listener: HTTP and RESP each
    // Requests submitted to the node and not answered, from both listeners: writes waiting for
    // their fsync, reads waiting for their session or a quorum. As many as max_connections, so
    // one request per connection always fits; deep RESP pipelines are what it refuses.
    size_t max_inflight_requests = 10'000;
    size_t max_pipelined_commands = 1024;  // per RESP connection (backpressure, not refusal)
    int http_idle_timeout_ms = 30'000;
    int resp_idle_timeout_ms = 300'000;  // 0: never
    // A request (HTTP) or command (RESP) whose first byte arrived must be complete within this.
    int request_timeout_ms = 10'000;
  } limits;

  // self, region_count, topology and hub are filled from the cluster config.
  ReplicaOptions replica;
  // Handles (class D): self and region_count are filled from the cluster config; mode picks
  // CASPaxos (default) or the owner-region baseline.
  StrongOptions strong;
  RocksDbOptions rocksdb;
  ReplicationTransportOptions transport;
  // When a write is acknowledged: after its WAL fsync (default), or once the kernel has it with
  // an fsync every interval.
  struct Commit {
    WalSync wal_sync = WalSync::kEveryCommit;
    // kPeriodic: how often the WAL is fsynced, which bounds what a power loss can take. (It is
    // also fsynced whenever ops wait to leave for peers: they leave only once synced.)
    int sync_interval_ms = 100;
    // The loop runs each fsync itself (as redis-server's appendfsync always does) instead of
    // handing it to the WAL syncer's thread: commands that arrive meanwhile wait in the sockets
    // and share the next sync.
    bool sync_on_loop = false;
  } commit;

  // Test hook: waits this long after the HTTP listener is up and before loading the data, so a
  // test sees the "loading" answers whatever the data's size.
  int TEST_recovery_delay_ms = 0;
};

class RegionServer {
 public:
  // Opens the database, recovers the replica from it, starts replication and the HTTP API.
  static Result<std::unique_ptr<RegionServer>> Start(RegionServerOptions options);
  ~RegionServer();  // Stop()s
  RegionServer(const RegionServer&) = delete;
  RegionServer& operator=(const RegionServer&) = delete;

  void Stop();

  uint16_t http_port() const;
  uint16_t replication_port() const;
  uint16_t resp_port() const;   // 0 when no RESP listener
  uint16_t admin_port() const;  // 0 when no admin listener
  const std::string& name() const;

  struct Impl;

 private:
  explicit RegionServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace meridian
