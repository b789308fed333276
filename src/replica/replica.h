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
//  3. The applied vector never goes backwards, also across a restart (it is checkpointed per
//     tick and recovered from the checkpoint plus the oplog's tail).
//  4. A local op is in the records of the same step that applies it, so it is durable before the
//     client hears of it; it stays in the oplog until every peer that should receive it has
//     acknowledged it, or the retention bound hands that peer over to state transfer.
// 10. An applied op's one record is its oplog entry. The states it changed are saved later (per
//     tick, with the oplog index they reflect up to, m:states), so a key written many times in a
//     tick is saved once; recovery replays the log's entries from that index onto the saved
//     states. Hence: no log entry at or past the saved index is dropped before the states are
//     saved again, and a state changed other than by a logged op (a repair, a transfer, garbage
//     collection) is saved in the step that changed it.
//  5. Tombstones and idempotency records are dropped only at causal stability.
//  6. Nothing here reads a clock, touches a file or socket, or iterates an unordered container.
//  7. Every incarnation of a region's durable state has its own number (options.incarnation when
//     the storage holds none: new or restored). Peers key what they believe a region holds to its
//     incarnation, so a region that comes back with less than it acknowledged is caught up again
//     (its ops resent, or state transfer when the oplog no longer has them, its own ops included).
//  8. A new incarnation accepts no local write until it holds every op a peer holds of its own
//     origin (it has heard from every neighbour and caught up with each): otherwise it would hand
//     out sequence numbers a peer already has for other writes. The wait survives restarts.
//  9. State transfer streams: chunks are produced on demand in key order, at most
//     snapshot_window_chunks unacknowledged and snapshot_chunks_per_tick per tick, and resumed
//     from the last acknowledged chunk after a loss or reconnect. The chunks show the sender's
//     states as of the transfer's base vector (a key changed since is sent as it was then), and
//     the receiver merges them all and adopts the base in one step, so a state never shows an
//     op its region's vector does not cover (snapshot.cc says why that matters).
#pragma once

#include <array>
#include <functional>
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
#include "replica/peer_input.h"
#include "replica/range_summary.h"
#include "replica/stability.h"
#include "replica/state_index.h"
#include "replica/types.h"

namespace meridian {

struct ReplicaStats {
  uint64_t ops_applied_local = 0;
  uint64_t ops_applied_remote = 0;
  uint64_t duplicates_ignored = 0;
  uint64_t buffer_refusals = 0;
  uint64_t malformed_messages = 0;                // peer messages (or ops) refused, all reasons
  std::array<uint64_t, kPeerRefusals> refused{};  // the same, per reason (peer_input.h)
  uint64_t resends = 0;
  uint64_t snapshots_sent = 0;
  uint64_t snapshots_applied = 0;
  uint64_t anti_entropy_rounds = 0;
  uint64_t anti_entropy_repairs = 0;  // keys whose state a repair changed
  uint64_t compensations = 0;
  // Stock compensations put off: a duplicate add whose units were taken meanwhile (retried).
  uint64_t compensations_waiting = 0;
  uint64_t garbage_collected = 0;
  uint64_t idempotent_retries = 0;
  uint64_t peer_incarnation_changes = 0;  // a peer came back with new (possibly less) state
  uint64_t stale_messages = 0;            // from a peer incarnation already replaced
  uint64_t snapshot_chunks_sent = 0;
  uint64_t snapshot_chunks_applied = 0;
  uint64_t snapshot_bytes_sent = 0;
  uint64_t snapshot_bytes_applied = 0;
  uint64_t snapshot_declined = 0;    // chunks refused while another transfer was under way
  uint64_t snapshots_abandoned = 0;  // outbound transfers given up (max_frozen_keys)
};

// A state transfer in progress, either direction, for /healthz and /metrics.
struct TransferProgress {
  RegionId peer = 0;
  uint64_t transfer_id = 0;
  uint64_t keys_done = 0;
  uint64_t keys_total = 0;  // the sender's key count when it began (keys may come and go)
  uint64_t bytes_done = 0;
  uint64_t started_tick = 0;
};

// Whether this region has caught up since it started (Replica::catch_up()).
struct CatchUpStatus {
  // Latched: it heard from a neighbour and holds what each neighbour it heard from had when it
  // first heard from it (with no neighbours configured: at once). Until then it may serve stale
  // data, and the router keeps clients away while a caught-up region is reachable.
  bool caught_up = false;
  // A new incarnation waiting to hold all its own ops (invariant 8): local writes are refused.
  bool rejoining = false;
  // Once a rejoin ended in this process: how many ops of its own it then held (what its peers
  // had kept of them; anything it made above that before losing its storage is gone).
  std::optional<uint64_t> own_ops_at_rejoin;
  std::vector<RegionId> not_heard;  // neighbours not heard from since the start
  VersionVector target;             // join of what the heard neighbours had when first heard
  std::optional<TransferProgress> inbound;
  std::vector<TransferProgress> outbound;
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
  // Not copyable: index_ holds iterators of states_ (a moved map keeps its nodes).
  Replica(const Replica&) = delete;
  Replica& operator=(const Replica&) = delete;
  Replica(Replica&&) = default;

  // Rebuilds a replica from the records a previous incarnation persisted. `on_progress`, if set,
  // is called with the number of key states loaded so far, every kRecoverProgressStates of them
  // (the server reports it while it answers "loading").
  static constexpr uint64_t kRecoverProgressStates = 65'536;
  static Result<std::unique_ptr<Replica>> Recover(
      ReplicaOptions options, const Storage& storage,
      const std::function<void(uint64_t states)>& on_progress = nullptr);

  // A write accepted in this region. Errors (bad request, reused idempotency key, counter
  // overflow) change nothing.
  Result<WriteReply> OnClientWrite(const ClientWrite& write, uint64_t physical_ms, Output* out);

  // A message from peer `from`. Malformed messages are counted and dropped.
  void OnMessage(RegionId from, const pb::PeerMessage& message, uint64_t physical_ms, Output* out);

  // The connection to `peer` was (re)established: resume sending from its acknowledged point, at
  // once (the ops it lacks, or the state transfer's next chunks, and an ack).
  void OnPeerConnected(RegionId peer, Output* out);
  // The connection to `peer` is down: no state transfer to it begins or sends chunks until it
  // is back (they would only be lost, and a transfer begun keeps the old state of every key
  // written meanwhile). Links are taken to be up until first reported down.
  void OnPeerDisconnected(RegionId peer);

  // Time passes; `physical_ms` feeds only the messages' clock-offset field.
  void Tick(uint64_t physical_ms, Output* out);

  ReadResult Read(const StateKey& key) const;
  // The key's state without a copy, or null; valid until the next event.
  const KeyState* Find(const StateKey& key) const { return Find(key.data_class, key.key); }
  const KeyState* Find(DataClass data_class, std::string_view key) const {
    auto it = index_.Find(data_class, key);
    return it ? &(*it)->second.state : nullptr;
  }
  // A stock add, take or lend at this region, on the key's state as it is here (not applied):
  // what OnClientWrite would make of it, or why it would refuse it.
  Result<StockOp> PrepareStock(const StockWrite& write, const StateKey& key) const;
  // Catch-up state and the state transfers in progress.
  CatchUpStatus catch_up() const;
  bool rejoining() const { return rejoining_; }
  uint64_t incarnation() const { return incarnation_; }
  uint64_t ticks() const { return tick_; }  // Ticks so far (TransferProgress::started_tick)
  // Quorum read: asks every neighbour for `key`'s state (pb::ReadRequest, tagged `request_id`).
  // Their answers come back through OnMessage as Output::read_replies; each peer sends its answer
  // in a step of its own, so it leaves only once that state is durable there.
  void RequestRead(uint64_t request_id, const StateKey& key, uint64_t physical_ms, Output* out);
  const VersionVector& applied() const { return applied_; }
  // A write's observed context (ClientWrite::observed_context): OK when it has none, or when it
  // is a register write's and this region's state of the register covers it; InvalidArgument
  // when it names a region outside the cluster or the write is not a register's; Unavailable,
  // naming the dots missing here, when it names register writes not applied here yet (the
  // region node waits for them, as a session read waits for its token).
  Status CheckObservedContext(const ClientWrite& write) const;
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
  size_t oplog_bytes() const { return oplog_.bytes(); }
  size_t buffered_ops() const { return buffer_.size(); }
  size_t idempotency_records() const { return idempotency_.size(); }
  size_t key_count() const { return states_.size(); }
  // Regions that have not yet confirmed ops we applied: they hold garbage collection back.
  std::vector<RegionId> RegionsHoldingBackCollection() const {
    return stability_.HoldingBack(applied_);
  }
  // A key's state and what the replica keeps beside it, in one map node: one node and one copy
  // of the key per key (docs/memory.md).
  struct StoredState {
    KeyState state;
    uint64_t entry_hash = 0;  // the saved entry's hash, as summary_ counts it
    Dot last_writer;          // seq 0: none known. Volatile: only feeds conflict accounting
    bool unsaved = false;     // changed since its last save: in unsaved_ (invariant 10)
  };
  // All states in key order (for checkers and snapshots).
  const std::map<StateKey, StoredState>& states() const { return states_; }

  // Test hook: overwrite a key's state without an op, to show anti-entropy repairs divergence.
  void TEST_CorruptState(const StateKey& key, KeyState state);

 private:
  // A state transfer this region streams to a peer (snapshot.cc).
  struct OutboundTransfer {
    uint64_t id = 0;
    VersionVector base;  // our applied vector when it began: the transfer's causal context
    uint64_t total_keys = 0;
    uint32_t next_index = 0;        // the next chunk to produce
    std::optional<StateKey> after;  // the next chunk starts after this key (nullopt: the first)
    bool states_done = false;       // every state key sent; idempotency records follow
    std::string after_idempotency;  // idempotency records continue after this key
    bool produced_last = false;
    // Produced, not yet acknowledged, with where each began: the resume point after a loss.
    struct Sent {
      std::optional<StateKey> after;
      bool states_done = false;
      std::string after_idempotency;
      uint64_t keys = 0, bytes = 0;
    };
    std::map<uint32_t, Sent> unacked;
    // Everything up to this key has been acknowledged (nullopt: nothing yet).
    std::optional<StateKey> acked_after;
    // Keys changed since `base` and not yet acknowledged, as they were at `base` (nullopt: the key
    // did not exist then). At most max_frozen_keys (options.h).
    std::map<StateKey, std::optional<KeyState>> frozen;
    uint64_t keys_acked = 0, bytes_acked = 0;
    uint64_t started_tick = 0, last_progress_tick = 0;
  };
  // The one transfer this region takes in at a time.
  struct InboundTransfer {
    RegionId from = 0;
    uint64_t transfer_id = 0;
    uint32_t next_index = 0;
    uint64_t total_keys = 0, keys = 0, bytes = 0;
    uint64_t started_tick = 0, last_chunk_tick = 0;
    // The chunks received, serialized as they came (validated), merged only with the last one.
    // Kept encoded: a decoded state takes several times its encoding, and a transfer of a
    // million keys staged decoded cost the receiver about as much again as its states.
    std::vector<std::string> staged_chunks;
    std::vector<std::pair<std::string, IdempotencyRecord>> staged_idempotency;
  };
  struct PeerLink {
    VersionVector acked;
    VersionVector persisted_acked;  // what the last m:peer record says (write only changes)
    bool ack_seen = false;          // an ack arrived since this incarnation started
    bool link_down = false;         // OnPeerDisconnected, until OnPeerConnected
    uint64_t next_index = 1;        // next oplog index to consider sending
    std::vector<Dot> unacked;       // sent, not yet covered by `acked`, in send order
    uint64_t last_progress_tick = 0;
    int64_t clock_offset_ms = 0;
    // The peer's incarnation (0: not known yet), persisted; messages from the ones it replaced
    // are stale and dropped (newest last, at most kRetiredIncarnations).
    uint64_t incarnation = 0;
    std::vector<uint64_t> retired_incarnations;
    // Its last ack said it is rejoining (may lack ops of its own origin).
    bool peer_rejoining = false;
    // What the peer had when we first heard from it since our start (the catch-up target).
    std::optional<VersionVector> first_heard;
    std::optional<OutboundTransfer> transfer;
    uint64_t transfer_retry_tick = 0;  // no new transfer before this tick (after a decline)
    // The last transfer we took from this peer's incarnation (id, base vector): a late duplicate
    // of one of its chunks is answered "applied" rather than taken for the start of a new
    // transfer, which would leave the sender resending its last chunk forever. Matched by base
    // too: a sender that lost its unsynced tail may hand out an id again, for another base (for
    // the same base, possibly cut into other chunks, every chunk is in what we merged).
    std::optional<std::pair<uint64_t, VersionVector>> finished_inbound;
  };
  static constexpr size_t kRetiredIncarnations = 8;  // a few restarts' worth of stragglers

  // Counts a peer message (or op) dropped for breaking a rule of peer_input.h.
  void Refuse(PeerRefusal reason) {
    ++stats_.malformed_messages;
    ++stats_.refused[static_cast<size_t>(reason)];
  }
  // Rule 5 of peer_input.h: `claimed` holds no more of our own ops than we applied (unless we
  // are rejoining, when peers legitimately do).
  bool ClaimsUnknownOwnOps(const VersionVector& claimed) const {
    return !rejoining_ && claimed.Get(options_.self) > applied_.Get(options_.self);
  }

  // Persists the incarnation with the first step (and the rejoin mark with it), and m:states
  // when the storage has none.
  void BeginStep(Output* out);

  // --- applying ops (apply.cc) ---
  void ApplyOp(const Op& op, bool local, uint64_t physical_ms, Output* out);
  void RecordConflicts(const Op& op, bool concurrent, const ApplyEffects& effects);
  // A remote op that made its key present in its class while another class holds the key live,
  // written by an op it had not seen: two regions created one key as two Redis types.
  void RecordTypeClashes(const Op& op);
  // A state changed other than by a logged op: becomes `state`; the caller's step then calls
  // SaveStates (invariant 10).
  void PutState(const StateKey& key, const KeyState& state, Output* out);
  // Recovery: a logged op past the saved states' index, applied to its state again as ApplyOp
  // did (same order, same seeded bugs), and left unsaved (invariant 10).
  void Replay(const Op& op);
  // `op` as a seeded bug makes it meet `state` (in `mutated`), or `op` itself.
  const Op& EffectiveOp(const Op& op, const KeyState& state, Op* mutated) const;
  void MarkUnsaved(std::map<StateKey, StoredState>::iterator it);
  // Records every unsaved state and m:states (the log index they now reflect up to), and brings
  // the summary and the garbage set up to date with them. Before anything reads the summary, and
  // in every step that changed a state other than by a logged op.
  void SaveStates(Output* out);
  void AfterIdempotentOp(const Op& op, uint64_t physical_ms, Output* out);
  void PersistIdempotency(const std::string& key, Output* out);
  // Compensations a rejoining region deferred (snapshot.cc), once it may make ops again.
  void CompensatePending(uint64_t physical_ms, Output* out);
  void Compensate(const std::string& idempotency_key, const IdempotencyRecord::Write& loser,
                  uint64_t physical_ms, Output* out);
  Op NewLocalOp(const StateKey& target, uint64_t physical_ms);
  // Persists the applied vector and the clock's high-water mark when they moved since last time,
  // and saves the states (SaveStates). Per tick, and in any step that drops log entries or merges
  // ops without logging them: the marks on disk plus the log's entries always give back both
  // (recovery takes the maximum).
  void CheckpointMarks(Output* out);

  // --- client writes (client_write.cc) ---
  Status ValidateWrite(const ClientWrite& write) const;
  Op BuildOp(const ClientWrite& write, uint64_t physical_ms);

  // --- replication stream (handle_ops.cc) ---
  void HandleOpBatch(RegionId from, const pb::OpBatch& batch, uint64_t physical_ms, Output* out);
  void ApplyReadyBuffered(uint64_t physical_ms, Output* out);
  void HandleAck(RegionId from, const pb::Ack& ack, uint64_t physical_ms, Output* out);
  // False when the message comes from a replaced incarnation; resets the link on a new one.
  bool CheckIncarnation(RegionId from, uint64_t incarnation, Output* out);
  void OnPeerIncarnationChanged(RegionId peer, uint64_t incarnation, Output* out);
  void PersistPeerIncarnation(RegionId peer, Output* out);
  // Latches caught_up, and ends the rejoin wait (invariant 8) when its condition holds.
  void UpdateCatchUp(uint64_t physical_ms, Output* out);
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
  void StartTransfer(RegionId peer, Output* out);
  // Produces chunks for `peer` while its window and this tick's budget allow.
  void PumpTransfer(RegionId peer, uint64_t physical_ms, Output* out);
  pb::PeerMessage NextChunk(OutboundTransfer& t, uint64_t physical_ms);
  // Forgets the unacknowledged chunks: production restarts at the first of them.
  static void ResumeTransfer(OutboundTransfer& t);
  void HandleSnapshotChunk(RegionId from, const pb::SnapshotChunk& chunk, uint64_t physical_ms,
                           Output* out);
  void HandleSnapshotAck(RegionId from, const pb::SnapshotAck& ack, uint64_t physical_ms,
                         Output* out);
  void SendSnapshotAck(RegionId to, uint64_t transfer_id, uint32_t applied_index, bool declined,
                       uint64_t physical_ms, Output* out);
  Status ValidateChunk(const pb::SnapshotChunk& chunk) const;
  // Merges everything staged and adopts `base`.
  void FinishInbound(InboundTransfer& in, const VersionVector& base, uint64_t physical_ms,
                     Output* out);
  // Keeps the state of `key` as of every outbound transfer's base before PutState changes it.
  void FreezeForTransfers(const StateKey& key);
  Status MergeEntry(const pb::KeyStateEntry& entry, Output* out, bool* changed);
  // Merges `incoming` into the state of `key`; `changed`: its content changed. The caller's step
  // saves it (SaveStates).
  void MergeKeyState(const StateKey& key, const KeyState& incoming, Output* out, bool* changed);

  // --- housekeeping (housekeeping.cc) ---
  void CollectGarbage(Output* out);
  void TruncateOplog(Output* out);

  ReplicaOptions options_;
  std::vector<RegionId> neighbors_;
  HybridClock clock_;
  VersionVector applied_;
  // What CheckpointMarks last wrote (empty after a restart: the first tick writes them again).
  VersionVector persisted_applied_;
  HlcTimestamp persisted_clock_;
  std::map<StateKey, StoredState> states_;
  using StatesIterator = std::map<StateKey, StoredState>::iterator;
  // Point lookups of states_ by hash (state_index.h); FindState and EmplaceState keep it whole.
  StateIndex<StatesIterator> index_;
  // states_.find(key), through the index.
  StatesIterator FindState(const StateKey& key);
  std::map<StateKey, StoredState>::const_iterator FindState(const StateKey& key) const;
  // The key's entry, inserted with the class's empty state when absent; `inserted` says which.
  StatesIterator EmplaceState(const StateKey& key, bool* inserted = nullptr);
  // States changed since they were last saved (StoredState::unsaved), in change order. Map
  // iterators: no key copied, and states_ never erases.
  std::vector<std::map<StateKey, StoredState>::iterator> unsaved_;
  std::set<StateKey> garbage_keys_;  // keys holding tombstones
  RangeSummary summary_;
  Oplog oplog_;
  CausalBuffer buffer_;
  IdempotencyTable idempotency_;
  StabilityTracker stability_;
  ConflictLog conflicts_;
  std::map<RegionId, PeerLink> peers_;
  std::optional<InboundTransfer> inbound_;
  size_t chunks_this_tick_ = 0;  // produced since the last Tick, across peers
  uint64_t incarnation_ = 0;
  bool rejoining_ = false;              // invariant 8; mirrored by the m:rejoin record
  bool incarnation_unwritten_ = false;  // the first step must persist m:inc (and m:rejoin)
  // The first step must persist m:states: the storage is new, or predates it (invariant 10).
  bool states_through_unwritten_ = true;
  CatchUpStatus catch_up_;
  std::optional<uint64_t> first_heard_tick_;  // when the first neighbour was heard from
  uint64_t tick_ = 0;
  // The physical time of the latest Tick or message: what OnPeerConnected, which carries none,
  // puts in its messages' clock-offset field (at most a tick old).
  uint64_t last_physical_ms_ = 0;
  uint64_t next_transfer_id_ = 1;
  ReplicaStats stats_;
};

}  // namespace meridian
