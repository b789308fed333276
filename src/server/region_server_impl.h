// RegionServer::Impl: the state shared by the region server's parts (internal header).
//   region_start.cc    Start, step by step: listeners, storage, the node's recovery, replication
//   region_server.cc   Stop, the event loop: node events, the end-of-pass write, syncs, ticks
//   region_requests.cc the HTTP front end: requests to node commands, replies to responses
//   region_status.cc   /healthz and /metrics
//
// Threads: the loop (one; every handler, the node, the storage writes and all formatting run on
// it), the WAL syncer, and the transport's. Nothing the loop owns is guarded by a lock: other
// threads only post to it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "api/http_api.h"
#include "api/http_api_handles.h"
#include "auth/key_store.h"
#include "net/http_server.h"
#include "net/replication_transport.h"
#include "node/region_node.h"
#include "server/http_request_metrics.h"
#include "server/region_metrics.h"
#include "server/region_server.h"
#include "server/resp_command_metrics.h"
#include "server/resp_server.h"
#include "server/vault_store.h"
#include "server/wal_syncer.h"
#include "store/rocksdb_storage.h"

namespace meridian {

using SteadyTime = std::chrono::steady_clock::time_point;

struct RegionServer::Impl {
  // A front end's request handed to the node, waiting for its reply.
  using PendingRequest = std::function<void(NodeReply)>;

  RegionServerOptions options;
  std::vector<std::string> region_names;
  std::vector<std::string> slot_names;  // of session-token vectors (residency.h)
  ApiOptions api_options;
  RegionMetrics metrics;
  // The request series' children, cached so the request paths look nothing up per request.
  HttpRequestMetrics http_metrics{metrics.request_seconds, metrics.requests};
  RespCommandMetrics resp_metrics{metrics.resp_commands, metrics.resp_command_seconds};
  const SteadyTime started = std::chrono::steady_clock::now();
  // Added to the physical clock: `meridian chaos skew` shifts a region's clock source.
  std::atomic<int64_t> clock_skew_ms{0};
  // True from the moment the HTTP listener is up until recovery from disk is done: every request
  // is answered 503 "loading" (as Redis does) instead of a refused connection.
  std::atomic<bool> loading{true};
  std::atomic<uint64_t> states_loaded{0};

  // Declared before everything that holds I/O objects on it, so destroyed after them.
  boost::asio::io_context loop;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work;
  std::thread loop_thread;
  boost::asio::steady_timer tick_timer{loop};

  std::unique_ptr<RocksDbStorage> storage;
  // Subjects' data keys (vault_store.h); null when the cluster config names no subjects.
  std::unique_ptr<VaultStore> vault;
  // One online backup at a time (POST /admin/backup), off the loop: it copies files for as
  // long as that takes. Joined by Stop before the storage closes.
  std::thread backup_thread;
  std::atomic<bool> backup_running{false};
  std::unique_ptr<WalSyncer> syncer;
  std::unique_ptr<ReplicationTransport> transport;
  std::unique_ptr<HttpServer> http;
  bool client_tls = false;                 // the client listeners (HTTP, RESP) serve TLS
  std::unique_ptr<HttpServer> admin_http;  // /admin/* only; null without an admin address
  std::unique_ptr<RespServer> resp;
  // The API keys, loaded at start; nullopt: authentication off (the cluster config has no auth).
  std::optional<auth::KeyStore> keys;

  // --- loop thread only (set before `loading` turns false) ---
  std::unique_ptr<RegionNode> node;
  std::unordered_map<RequestId, PendingRequest> pending;
  RequestId next_request = 1;
  RecordBatch pass_records;  // the records of steps (written, last], for the end-of-pass write
  bool flush_posted = false;
  bool vault_purge = false;     // a subject was erased: rewrite the vault after the next write
  std::vector<bool> link_seen;  // the link state the node was last told of, per region
  RegionHealth reported_health = RegionHealth::kCatchingUp;  // for the log
  SteadyTime last_sync_request = started;
  uint64_t transfers_merged = 0;  // the replica's snapshots_applied at the last malloc_trim
  uint64_t sync_requested = 0;    // the highest step the syncer was asked for
  uint64_t loop_syncs = 0;        // fsyncs the loop ran itself (commit.sync_on_loop, Stop)
  bool stopped = false;           // Stop() ran (owner thread only)

  // --- region_server.cc ---
  uint64_t NowMs() const;
  NodeTime Now() const;
  // Takes one event's output: records to the pass's batch (and a flush after the pass),
  // messages to the transport, replies to their clients.
  void Process(NodeOutput out);
  // End of a pass: one storage write for everything the pass's steps recorded, then a sync
  // request when the node holds something back for one.
  void Flush();
  // Asks the syncer for everything written so far, unless a sync asked for already covers it.
  void RequestSync();
  void OnSynced(uint64_t step, const Status& synced);
  void OnPeerMessage(RegionId from, pb::PeerMessage message);
  void OnPeerConnected(RegionId peer);
  // Tells the node of links that changed since it last heard (the transport reports only
  // connections as events; a link that went down is seen here).
  void RefreshLinks(NodeTime now, NodeOutput* out);
  void ScheduleTick();
  void OnTick();
  // Runs `fn` on the loop and waits for it (the owner thread, at start and stop).
  void RunOnLoop(const std::function<void()>& fn);

  // --- region_requests.cc ---
  void Handle(HttpRequest request, HttpResponder respond);
  // The answer to every request while `loading`: /healthz says "loading" with the progress.
  HttpResponse LoadingResponse(const HttpRequest& request) const;
  // Hands `command` to the node; answers `request` at once with 503 when max_inflight_requests
  // are pending (contract 9).
  void Submit(NodeCommand command, PendingRequest request);
  // Whether `commands` more fit under max_inflight_requests: nullopt when they do, else the
  // refusal's message, counted under `listener`.
  std::optional<std::string> Admit(size_t commands, const char* listener);
  void Answer(NodeReply reply);
  HttpResponse FormatReply(const NodeReply& reply, const StateKey* key) const;
  // region_admin.cc: `meridian chaos skew` and `meridian backup`. HandleAdminListener
  // authenticates (admin role) and routes; HandleAdmin serves an allowed /admin/* request.
  void HandleAdminListener(HttpRequest request, HttpResponder respond);
  void HandleAdmin(const HttpRequest& request, HttpResponder respond);
  HttpResponse Dashboard(const HttpRequest& request) const;
  void HandleSkew(const HttpRequest& request, HttpResponder respond);
  void HandleBackup(const HttpRequest& request, HttpResponder respond);

  // --- region_status.cc ---
  HttpResponse Healthz() const;
  // /healthz's "catch_up": what the region waits for and the state transfers in progress.
  nlohmann::json CatchUpJson() const;
  std::string RenderMetrics();
  // Lag and applied counters for the ops one event applied.
  void ObserveApplied(const std::vector<AppliedOp>& applied, uint64_t now_ms);
};

}  // namespace meridian
