// Replica: the replication state machine of one region (sans-IO).
//
// Driven by three inputs and nothing else: OnClientWrite (a validated local write), OnMessage (a
// message from a peer) and Tick (time passing; every timeout counts ticks). Physical time arrives
// as an argument; randomness is not used. Each call appends to an Output what the shell must do:
// first persist Output::records atomically, then send Output::messages and answer the client.
// The simulator and the server drive this same class.
//
// Invariants (checked by MERIDIAN_ASSERT and by the simulator):
//  1. Each op is applied at most once per region (dedupe by dot against the applied vector).
//  2. An op is applied only after its dependencies (causal delivery; early ops wait in a bounded
//     buffer).
//  3. The applied vector never goes backwards, also across a restart (it is persisted with every
//     step that changes it and restored by Recover).
//  4. A local op is in the records of the same step that applies it, so it is durable before the
//     client hears of it; it stays in the oplog until every peer that should receive it has
//     acknowledged it, or the retention bound hands that peer over to state transfer.
//  5. Tombstones and idempotency records are dropped only at causal stability.
//  6. Nothing here reads a clock, touches a file or socket, or iterates an unordered container.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/storage.h"
#include "clock/hlc.h"
#include "clock/version_vector.h"
#include "replica/causal_buffer.h"
#include "replica/conflict_log.h"
#include "replica/idempotency.h"
#include "replica/key_state.h"
#include "replica/oplog.h"
#include "replica/options.h"
#include "replica/range_summary.h"
#include "replica/stability.h"
#include "replica/types.h"

namespace meridian {

struct ReplicaStats {
  uint64_t ops_applied_local = 0;
  uint64_t ops_applied_remote = 0;
  uint64_t duplicates_ignored = 0;
  uint64_t buffer_refusals = 0;
  uint64_t malformed_messages = 0;
  uint64_t resends = 0;
  uint64_t snapshots_sent = 0;
  uint64_t snapshots_applied = 0;
  uint64_t anti_entropy_rounds = 0;
  uint64_t anti_entropy_repairs = 0;  // keys whose state a repair changed
  uint64_t compensations = 0;
  uint64_t garbage_collected = 0;
  uint64_t idempotent_retries = 0;
};

struct PeerStatus {
  RegionId region = 0;
  VersionVector acked;
  uint64_t backlog_ops = 0;     // ops this peer should get from us and has not acknowledged
  int64_t clock_offset_ms = 0;  // peer's physical clock minus ours, from its last message
  bool heard_from = false;
};

struct ReadResult {
  std::optional<KeyState> state;  // nullopt: the key has never been written here
  VersionVector applied;
};

class Replica {
 public:
  explicit Replica(ReplicaOptions options);

  // Rebuilds a replica from the records a previous incarnation persisted.
  static Result<std::unique_ptr<Replica>> Recover(ReplicaOptions options, const Storage& storage);

  // A write accepted in this region. Errors (bad request, reused idempotency key, counter
  // overflow) change nothing.
  Result<WriteReply> OnClientWrite(const ClientWrite& write, uint64_t physical_ms, Output* out);

  // A message from peer `from`. Malformed messages are counted and dropped.
  void OnMessage(RegionId from, const pb::PeerMessage& message, uint64_t physical_ms, Output* out);

  // The connection to `peer` was (re)established: resume sending from its acknowledged point.
  void OnPeerConnected(RegionId peer, Output* out);

  // Time passes; `physical_ms` feeds only the messages' clock-offset field.
  void Tick(uint64_t physical_ms, Output* out);

  ReadResult Read(const StateKey& key) const;
  // Quorum read: asks every neighbour for `key`'s state (pb::ReadRequest, tagged `request_id`).
  // Their answers come back through OnMessage as Output::read_replies; each peer sends its answer
  // in a step of its own, so it leaves only once that state is durable there.
  void RequestRead(uint64_t request_id, const StateKey& key, uint64_t physical_ms, Output* out);
  const VersionVector& applied() const { return applied_; }
  // True when everything `token` names has been applied here (read-your-writes).
  bool HasApplied(const VersionVector& token) const { return applied_.Dominates(token); }

  RegionId self() const { return options_.self; }
  const ReplicaOptions& options() const { return options_; }
  const ReplicaStats& stats() const { return stats_; }
  const ConflictLog& conflicts() const { return conflicts_; }
  const HybridClock& clock() const { return clock_; }
  const StabilityTracker& stability() const { return stability_; }
  const std::vector<RegionId>& neighbors() const { return neighbors_; }
  std::vector<PeerStatus> Peers() const;
  size_t oplog_size() const { return oplog_.size(); }
  size_t buffered_ops() const { return buffer_.size(); }
  size_t idempotency_records() const { return idempotency_.size(); }
  size_t key_count() const { return states_.size(); }
  // Regions that have not yet confirmed ops we applied: they hold garbage collection back.
  std::vector<RegionId> RegionsHoldingBackCollection() const {
    return stability_.HoldingBack(applied_);
  }
  // All states in key order (for checkers and snapshots).
  const std::map<StateKey, KeyState>& states() const { return states_; }

  // Test hook: overwrite a key's state without an op, to show anti-entropy repairs divergence.
  void TEST_CorruptState(const StateKey& key, KeyState state);

 private:
  struct PeerLink {
    VersionVector acked;
    VersionVector persisted_acked;  // what the last m:peer record says (write only changes)
    bool ack_seen = false;          // an ack arrived since this incarnation started
    uint64_t next_index = 1;        // next oplog index to consider sending
    std::vector<Dot> unacked;       // sent, not yet covered by `acked`, in send order
    uint64_t last_progress_tick = 0;
    std::optional<uint64_t> snapshot_started_tick;
    int64_t clock_offset_ms = 0;
  };
  struct StagedSnapshot {
    uint64_t transfer_id = 0;
    uint32_t next_index = 0;
    std::vector<pb::SnapshotChunk> chunks;
  };

  // --- applying ops (apply.cc) ---
  void ApplyOp(const Op& op, bool local, uint64_t physical_ms, Output* out);
  void RecordConflicts(const Op& op, bool concurrent, const ApplyEffects& effects);
  void PutState(const StateKey& key, const KeyState& state, Output* out);
  void AfterIdempotentOp(const Op& op, uint64_t physical_ms, Output* out);
  void PersistIdempotency(const std::string& key, Output* out);
  void Compensate(const std::string& idempotency_key, const IdempotencyRecord::Write& loser,
                  uint64_t physical_ms, Output* out);
  Op NewLocalOp(const StateKey& target, uint64_t physical_ms, Output* out);
  void PersistApplied(Output* out);

  // --- client writes (client_write.cc) ---
  Status ValidateWrite(const ClientWrite& write) const;
  Op BuildOp(const ClientWrite& write, uint64_t physical_ms, Output* out);

  // --- replication stream (handle_ops.cc) ---
  void HandleOpBatch(RegionId from, const pb::OpBatch& batch, uint64_t physical_ms, Output* out);
  void ApplyReadyBuffered(uint64_t physical_ms, Output* out);
  void HandleAck(RegionId from, const pb::Ack& ack, Output* out);
  void HandleReadRequest(RegionId from, const pb::ReadRequest& request, uint64_t physical_ms,
                         Output* out);
  void SendAck(RegionId to, uint64_t physical_ms, Output* out);
  void Pump(RegionId peer, uint64_t physical_ms, Output* out);
  void PumpAll(uint64_t physical_ms, Output* out);
  bool ShouldForward(RegionId origin, RegionId peer) const;
  // ShouldForward, or (mesh) a relay of an op the peer should have had from its origin by now.
  bool ShouldSend(const OplogEntry& entry, RegionId peer) const;
  // Mesh: the peer has not acknowledged some op of a third origin that we applied.
  bool LacksRelayableOps(RegionId peer) const;
  void Rewind(RegionId peer);
  pb::PeerMessage NewMessage(uint64_t physical_ms) const;

  // --- anti-entropy and state transfer (anti_entropy.cc, snapshot.cc) ---
  void StartAntiEntropy(uint64_t physical_ms, Output* out);
  void HandleSummaryRequest(RegionId from, const pb::SummaryRequest& m, uint64_t physical_ms,
                            Output* out);
  void HandleSummaryReply(RegionId from, const pb::SummaryReply& m, uint64_t physical_ms,
                          Output* out);
  void HandleRepair(RegionId from, const pb::RepairPush& m, uint64_t physical_ms, Output* out);
  void AddBucketEntries(const std::set<uint32_t>& buckets, pb::RepairPush* push) const;
  bool NeedsSnapshot(RegionId peer) const;
  void SendSnapshot(RegionId peer, uint64_t physical_ms, Output* out);
  void HandleSnapshotChunk(RegionId from, const pb::SnapshotChunk& chunk, uint64_t physical_ms,
                           Output* out);
  Status MergeSnapshot(const std::vector<pb::SnapshotChunk>& chunks, uint64_t physical_ms,
                       Output* out);
  Status MergeEntry(const pb::KeyStateEntry& entry, Output* out, bool* changed);

  // --- housekeeping (housekeeping.cc) ---
  void CollectGarbage(Output* out);
  void TruncateOplog(Output* out);

  ReplicaOptions options_;
  std::vector<RegionId> neighbors_;
  HybridClock clock_;
  VersionVector applied_;
  std::map<StateKey, KeyState> states_;
  std::map<StateKey, Dot> last_writer_;  // volatile: only feeds conflict accounting
  std::map<StateKey, uint64_t> entry_hashes_;
  std::set<StateKey> garbage_keys_;  // keys holding tombstones
  RangeSummary summary_;
  Oplog oplog_;
  CausalBuffer buffer_;
  IdempotencyTable idempotency_;
  StabilityTracker stability_;
  ConflictLog conflicts_;
  std::map<RegionId, PeerLink> peers_;
  std::map<RegionId, StagedSnapshot> staged_snapshots_;
  uint64_t tick_ = 0;
  uint64_t next_transfer_id_ = 1;
  ReplicaStats stats_;
};

}  // namespace meridian
