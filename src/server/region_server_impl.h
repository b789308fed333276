// RegionServer::Impl: the state shared by the region server's parts (internal header).
//   region_server.cc   lifecycle, steps of the core, ticks, session waits, catch-up
//   region_requests.cc the HTTP handler: commands to steps and responses, quorum reads
//   region_status.cc   /healthz and /metrics
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "net/http_server.h"
#include "net/replication_transport.h"
#include "replica/replica.h"
#include "server/commit_pipeline.h"
#include "server/http_api.h"
#include "server/http_api_handles.h"
#include "server/region_metrics.h"
#include "server/region_server.h"
#include "store/rocksdb_storage.h"
#include "strong/strong_node.h"

namespace meridian {

enum class RegionHealth { kCatchingUp, kOk, kDraining, kFailed };
std::string_view RegionHealthName(RegionHealth health);

using SteadyTime = std::chrono::steady_clock::time_point;

struct RegionServer::Impl {
  // A read waiting for its session token's vector to be applied here.
  struct SessionWait {
    ReadCommand command;
    HttpResponder respond;
    SteadyTime deadline;
  };
  // A read collecting a majority of regions' states.
  struct QuorumRead {
    StateKey key;
    HttpResponder respond;
    SteadyTime deadline;
    size_t needed = 0;
    std::vector<RegionId> answered;
    std::optional<KeyState> merged;
    VersionVector joined;
  };

  RegionServerOptions options;
  std::vector<std::string> region_names;
  ApiOptions api_options;
  std::unique_ptr<RocksDbStorage> storage;
  std::unique_ptr<CommitPipeline> pipeline;
  std::unique_ptr<ReplicationTransport> transport;
  std::unique_ptr<HttpServer> http;
  RegionMetrics metrics;
  const SteadyTime started = std::chrono::steady_clock::now();
  // Added to the physical clock: `meridian chaos skew` shifts a region's clock source.
  std::atomic<int64_t> clock_skew_ms{0};

  // Everything below is guarded by mu_ (lock order: mu_, then quorum_mu_, then the pipeline's).
  std::mutex mu;
  std::unique_ptr<Replica> replica;
  RegionHealth health = RegionHealth::kCatchingUp;
  // True from the moment the HTTP listener is up until recovery from disk is done: every request
  // is answered 503 "loading" (as Redis does) instead of a refused connection.
  std::atomic<bool> loading{true};
  std::atomic<uint64_t> states_loaded{0};
  std::vector<SessionWait> session_waits;
  // Keys whose latest change is in a step not yet durable -> that step's number. A read of any
  // other key may answer at once: everything it shows is on disk (contract 2).
  uint64_t submitted_steps = 0;
  std::map<StateKey, uint64_t> undurable_keys;

  // Released steps: their number and the applied vector as of the last one (the vector a read of
  // a durable key may hand out as its session token).
  std::mutex durable_mu;
  uint64_t durable_steps = 0;     // GUARDED_BY(durable_mu)
  VersionVector durable_applied;  // GUARDED_BY(durable_mu)

  std::unique_ptr<StrongNode> strong;
  uint64_t next_handle_request = 1;

  std::mutex handle_mu;                               // lock order: after mu
  std::map<uint64_t, HttpResponder> handle_requests;  // GUARDED_BY(handle_mu): awaiting replies

  std::mutex quorum_mu;
  uint64_t next_quorum_id = 1;                  // GUARDED_BY(quorum_mu)
  std::map<uint64_t, QuorumRead> quorum_reads;  // GUARDED_BY(quorum_mu)

  std::mutex tick_mu;
  std::condition_variable tick_wake;
  bool stopping = false;  // GUARDED_BY(tick_mu)
  std::thread tick_thread;
  bool stopped = false;  // Stop() ran (owner thread only)

  // --- region_server.cc ---
  uint64_t NowMs() const;
  // Persists `out` through the pipeline, then sends its messages, hands its quorum-read answers
  // over and calls `then`. REQUIRES: mu held.
  void SubmitLocked(Output out, std::function<void(const Status&)> then = nullptr,
                    Durability durability = Durability::kPerMode);
  // Persists a strong step through the pipeline, fsynced whatever --wal-sync says (an acceptor
  // that forgot a vote after a power loss could let two proposers both win), then sends its
  // messages and answers its clients. REQUIRES: mu held.
  void SubmitStrongLocked(StrongOutput out);
  void OnPeerMessage(RegionId from, pb::PeerMessage message);
  void OnPeerConnected(RegionId peer);
  void TickLoop();
  void TickLocked();
  void UpdateHealthLocked();
  // A refusal for every request while the region cannot serve (failed storage), else nullopt.
  std::optional<HttpResponse> RefusalLocked() const;

  // --- region_requests.cc ---
  void Handle(HttpRequest request, HttpResponder respond);
  // The answer to every request while `loading`: /healthz says "loading" with the progress.
  HttpResponse LoadingResponse(const HttpRequest& request) const;
  void HandleWrite(const WriteCommand& command, HttpResponder respond);
  void HandleRead(const ReadCommand& command, HttpResponder respond);
  // Serves a read whose session token is satisfied. REQUIRES: mu held.
  void ServeReadLocked(const ReadCommand& command, HttpResponder respond);
  // True when `key`'s current state is durable. REQUIRES: mu held.
  bool DurableLocked(const StateKey& key);
  // Answers `response` once every step before it is durable. REQUIRES: mu held.
  void AnswerAfterCommitLocked(HttpResponse response, HttpResponder respond);
  void StartQuorumReadLocked(const StateKey& key, HttpResponder respond);
  void OnReadReply(RegionId from, const pb::ReadReply& reply);
  void ExpireQuorumReads(SteadyTime now);
  void ExpireSessionWaitsLocked(SteadyTime now);
  // Session waits whose token is now applied, removed from the list. REQUIRES: mu held.
  std::vector<SessionWait> TakeSatisfiedWaitsLocked();
  void HandleAdmin(const HttpRequest& request, HttpResponder respond);
  void HandleHandle(const HandleCommand& command, HttpResponder respond);

  // --- region_status.cc ---
  HttpResponse HealthzLocked() const;
  // /healthz's "catch_up": what the region waits for and the state transfers in progress.
  nlohmann::json CatchUpJsonLocked() const;
  std::string RenderMetricsLocked();
  // Lag and applied counters for the ops one step applied. REQUIRES: mu held.
  void ObserveAppliedLocked(const Output& out, uint64_t now_ms);
};

}  // namespace meridian
