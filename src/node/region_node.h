// RegionNode: one region's logic, sans I/O: the replica and the handle node inside, with what the
// shell around them used to decide on its own threads: when a write is acknowledged, when a read
// may show a state, session waits, quorum reads, handle requests, health and a failed disk.
// Driven by events (a client command, a peer message, a link change, a tick, "the records up to
// step N are written / synced", "the storage failed"); each event appends to a NodeOutput what
// the shell must do now. The same node runs in the region server and in the simulator.
//
// Steps and durability. Every event whose output carries records is a step, numbered 1, 2, ...
// The shell writes the records of the steps in order (several steps may share one storage write:
// one batch per event-loop pass) and reports the highest step written (OnWritten: a process
// crash cannot lose it) and synced (OnSynced: a power loss cannot). The node holds back whatever
// depends on a step until that step is durable enough:
//   - messages to peers, and handle replies: synced (a peer must not hold an op, an ack or a vote
//     that a power loss here could take back);
//   - replies to clients' writes and reads: durable per the WAL mode (kEveryCommit: synced;
//     kPeriodic: written).
// A read of a key whose latest change is in a step not yet durable waits for that step; a read
// of any other key answers at once with the durable applied vector (plus the client's session)
// as its token, since everything it shows is on disk.
//
// Contract:
//  1. Every command gets exactly one reply, through some NodeOutput: at once, after its step is
//     durable, or when it times out (session waits, and register writes whose context names
//     writes not applied here yet: session_wait_ms; quorum reads:
//     quorum_timeout_ms; handles: the strong node's own timeout), or at Drain/failure.
//  2. Nothing the node releases depends on a step the shell has not reported durable enough.
//  3. A failed storage write or sync (OnStorageFailed) is sticky: every held reply is answered
//     "unavailable", held messages are dropped, and every later command is refused until the
//     process restarts and recovers from what is on disk.
//  4. Pure: no clock (events carry NodeTime), no threads, no sockets, no files.
//  5. A write asking for `replicas` > 1 regions is refused at once, unapplied, when fewer regions
//     than that are reachable (links up and verified, this one included). Otherwise it is applied
//     and answered once it is synced here and acknowledged by enough peers (a peer acknowledges an
//     op only after syncing it), with the count in WriteReply::replicated_to; or, past
//     write_wait_ms, with DeadlineExceeded saying how many regions hold it: the write stays applied
//     and keeps replicating, and a retry with the same idempotency key waits again.
//  6. Residency (src/replica/residency.h): a key pinned by a rule lives in the replica of its
//     group, one per set of allowed regions this region belongs to, with its own storage prefix
//     and peer messages tagged with the group. Nothing of a group reaches a region outside it:
//     its messages go to members only, and a command for a key of a group this region is not
//     in is answered Misdirected, naming the allowed regions, before anything changes. Write
//     levels and quorum reads of a pinned key count the group's members. Vectors handed to
//     clients (write replies, read tokens) are in the residency's slot space. A handle pinned
//     by a rule lives in the group's own handle node: its acceptors are the members, its
//     quorum a majority of them, its records under the group's prefix.
//  7. Subjects (src/node/subject_vault.h): values of a subject's keys are sealed under the
//     subject's data key before the replica sees them and opened only for a reader's reply; the
//     keyring goes to the regions that may hold the subject's keys (on every change, and whole
//     to a peer whose link comes up or every subject_sync_ms), and rides along with every
//     replication message carrying a subject's sealed value (ops, repairs, snapshot chunks), so
//     a region gets a key no later than a value sealed under it. An erasure destroys the keys
//     here and there, and deletes the subject's keys; reads and writes then answer Gone.
//  8. Global scans (ScanScope::kGlobal, commands.h): the page is asked of every reachable member
//     of every group held here, each answering from that group's replica alone (a region never
//     sends a key of a group the asker is not in), tombstones included so that a delete seen
//     by one region hides the key; the answers are merged per key with this region's own
//     pages and cut at the earliest cut of any page. Unreachable members and those that have
//     not answered within quorum_timeout_ms are named in the reply (partial), never waited for
//     longer.
//  9. Stocks (src/crdt/bounded_counter.h): a take beyond the rights this region holds, of a
//     stock whose value as this region shows it covers it, asks the group's reachable members
//     for rights (those its view shows holding some first) and waits up to stock_wait_ms for
//     lends to arrive; each lender lends what it can spare, up to the amount asked, as a stock
//     op of its own that replicates like any other. Served in arrival order once the rights are
//     here, else answered Aborted (409) naming the value and the rights here; a take the value
//     does not cover is answered Aborted at once. Nothing is taken before it is answered OK.
// 10. Slices (base/hash_slot.h, docs/slices.md): a node run as slice i of N holds only the keys
//     and handles whose hash slot is in slice i; a command for any other is answered
//     Misdirected, naming the slot and the slice that holds it, before anything changes. Its
//     peers are the same slice of the other regions (the shell keeps the slices' links apart),
//     so every state, op and vector here is of that slice alone.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/hash_slot.h"
#include "base/status.h"
#include "base/storage.h"
#include "node/commands.h"
#include "node/subject_vault.h"
#include "replica/replica.h"
#include "replica/residency.h"
#include "strong/strong_node.h"

namespace meridian {

enum class WalSync {
  kEveryCommit,  // ack after the step is fsynced
  kPeriodic,     // ack after the step is written (in the kernel); fsync every interval
};
// "always" / "periodic", as `meridian region --wal-sync` spells them.
const char* WalSyncName(WalSync mode);

enum class RegionHealth { kCatchingUp, kOk, kDraining, kFailed };
std::string_view RegionHealthName(RegionHealth health);

struct NodeTime {
  uint64_t physical_ms = 0;  // wall clock (HLC input, replication lag)
  uint64_t steady_ms = 0;    // monotonic (timeouts)
};

// Known bugs the simulator's self-check builds in, one at a time (like ReplicaBugs): each must be
// caught by a check of src/sim. All false in production.
struct NodeBugs {
  bool ack_before_durable = false;  // client replies leave at once, before their step is durable
  bool read_undurable = false;      // a read of a key not yet durable answers at once
  bool forget_storage_failure = false;      // OnStorageFailed counts the steps as durable instead
  bool session_wait_ignores_token = false;  // a session read answers without waiting
  bool quorum_read_local = false;           // a quorum read answers from this region alone
  bool residency_ignored = false;  // pinned keys and handles live in the group of every region
  // A state transfer of every region's group carries the pinned keys' states too.
  bool snapshot_includes_pinned = false;
  bool subject_keys_unsent = false;          // keyrings never leave the region that made them
  bool erasure_keeps_key_records = false;    // an erasure forgets the keys, its disk keeps them
  bool write_level_counts_one_more = false;  // a w=majority/all write is answered one region early
};

struct RegionNodeOptions {
  ReplicaOptions replica;  // self, region_count, topology, hub filled by the caller
  StrongOptions strong;
  std::vector<std::string> region_names;
  Residency residency;  // nothing pinned by default
  // Contract 10: the hash slice of the keys this node holds (all of them by default), and what
  // a handle's name is prefixed with before it is hashed (the RESP strong keyspace's prefix, so
  // a handle's slot is its RESP key's).
  KeySlices slices;
  std::string handle_slot_prefix;
  // Contract 7: the key patterns naming subjects (none: no key is a subject's), and where new
  // data keys' random bytes come from (required with patterns).
  std::vector<SubjectPattern> subject_patterns;
  RandomBytes random_bytes;
  int subject_sync_ms = 60'000;
  WalSync wal_sync = WalSync::kEveryCommit;
  int session_wait_ms = 1000;
  int quorum_timeout_ms = 2000;
  // How long a w=majority / w=all write waits for its acknowledgements (contract 5): a few of
  // the largest round trips, under the router's forward timeout.
  int write_wait_ms = 3000;
  // Contract 9: how long a take waits for rights lent by peers (a few of the largest round trips
  // and an fsync each way).
  int stock_wait_ms = 1000;
  size_t max_waiting_reads = 10'000;
  // The cluster is being created (etcd's `--initial-cluster-state new`): storage found empty is
  // this region's first start, so nobody holds ops or votes of its own and it does not wait to
  // rejoin. Ignored when the storage holds anything. Unsafe for a region whose disk was lost or
  // replaced in a running cluster (it could hand out sequence numbers its peers hold): without
  // it, new storage rejoins, which is always safe but waits for every neighbour.
  bool new_cluster = false;
  NodeBugs bugs;  // the simulator's self-check only
};

struct NodeOutput {
  RecordBatch records;  // this step's records, to be written after every earlier step's
  std::vector<std::pair<RegionId, pb::PeerMessage>> messages;  // send now
  std::vector<NodeReply> replies;                              // answer now
  // Ops of every region's group applied by the event (replication-lag metrics; pinned groups'
  // ops are not listed: their ids are member indexes).
  std::vector<AppliedOp> applied;
  // A subject was erased here: the shell should rewrite its vault store now, so the destroyed
  // keys' bytes leave its files (RocksDB keeps them in old WAL and table files until then).
  bool vault_erased = false;
  bool empty() const { return records.empty() && messages.empty() && replies.empty(); }
};

struct NodeStats {
  uint64_t steps = 0;
  uint64_t held_replies = 0;  // replies waiting for durability now
  uint64_t held_messages = 0;
  uint64_t session_waits = 0;
  uint64_t quorum_reads = 0;
  uint64_t global_scans = 0;        // waiting for their peers' pages now
  uint64_t replication_waits = 0;   // w=majority / w=all writes waiting for acknowledgements
  uint64_t coalesced_messages = 0;  // op batches merged into an earlier one to the same peer
  // Peer messages refused here, before the replica or handle node saw them: from a region
  // outside the cluster, or a quorum-read answer whose vector or state is invalid
  // (src/replica/peer_input.h rules 1, 2 and 6; the replica and the handle node count theirs).
  uint64_t peer_messages_refused = 0;
  uint64_t read_replies_refused = 0;
  // Commands for a key pinned to regions this one is not among (answered Misdirected).
  uint64_t misdirected = 0;
  uint64_t subjects_erased = 0;  // erasures applied here (asked here or learnt from a peer)
  // Keyring entries refused: malformed, or from a region the subject's keys may not reach.
  uint64_t subject_keys_refused = 0;
  // Contract 9: takes waiting for rights now; rights requests sent and units lent to peers, and
  // takes refused for want of stock or rights (all since start).
  uint64_t stock_waits = 0;
  uint64_t rights_requests = 0;
  uint64_t rights_lent = 0;
  uint64_t stock_refused = 0;
};

class RegionNode {
 public:
  // Recovers the replica and the handle node from `storage` (a new cluster's first start when
  // options.new_cluster and the storage is empty); `progress` is called with the number of keys
  // loaded so far.
  static Result<std::unique_ptr<RegionNode>> Recover(
      RegionNodeOptions options, const Storage& storage,
      const std::function<void(uint64_t)>& progress = nullptr);

  // --- events ---
  void OnCommand(RequestId id, NodeCommand command, NodeTime now, NodeOutput* out);
  void OnPeerMessage(RegionId from, const pb::PeerMessage& message, NodeTime now, NodeOutput* out);
  // A link to `peer` came up (true: a new connection, open for sending) or went down (false).
  void OnLinkChanged(RegionId peer, bool up, NodeTime now, NodeOutput* out);
  // Whether the up link's peer has answered its handshake. A link can come up before that (the
  // shell's transport sends right behind its hello on a redial); until verified it carries
  // traffic but does not count as a reachable region for quorum reads and write levels, since a
  // dead peer's redial looks up until its handshake times out. Going down clears it.
  void OnLinkVerified(RegionId peer, bool verified);
  void OnTick(NodeTime now, NodeOutput* out);
  // Every step <= `step` is written (process-crash durable) / synced (power-loss durable).
  void OnWritten(uint64_t step, NodeOutput* out);
  void OnSynced(uint64_t step, NodeOutput* out);
  void OnStorageFailed(const Status& error, NodeOutput* out);
  // Stops serving: health becomes draining (the router stops sending). Held work still finishes.
  void BeginDrain();

  // --- state for the shell ---
  uint64_t last_step() const { return step_; }
  uint64_t written_step() const { return written_; }
  uint64_t synced_step() const { return synced_; }
  // The step a client's reply may show, per the WAL mode: synced (kEveryCommit) or written.
  uint64_t durable_step() const;
  // True when something is held until a step is synced that is not yet: the shell should sync
  // (in kPeriodic mode it would otherwise wait for the next interval).
  bool wants_sync() const;
  RegionHealth health() const { return health_; }
  const Status& storage_failure() const { return failure_; }
  bool link_up(RegionId peer) const { return links_up_[peer]; }
  bool link_verified(RegionId peer) const { return links_verified_[peer]; }
  // The replica of every region's group (the keys no residency rule pins).
  const Replica& replica() const { return *replica_; }
  // The replica of residency group `group` here, or null when this region is not a member.
  const Replica* group_replica(size_t group) const;
  // Every replica here with its group: group 0 first.
  std::vector<std::pair<size_t, const Replica*>> replicas() const;
  // The applied vectors of every group here, in slot space (Residency).
  VersionVector SlotApplied() const;
  // How many other regions of its group have acknowledged the write whose reply dot (slot space)
  // is `slot_dot`: what RESP's WAIT answers. 0 for Dot{} or a group this region is not in.
  uint32_t PeersHolding(Dot slot_dot) const;
  // The handle node of every region's group, and of pinned group `group` (null when this region
  // is not a member).
  const StrongNode& strong() const { return *strong_; }
  const StrongNode* group_strong(size_t group) const;
  // Every handle node here with its group: group 0 first.
  std::vector<std::pair<size_t, const StrongNode*>> strong_nodes() const;
  const SubjectVault& vault() const { return vault_; }
  const RegionNodeOptions& options() const { return options_; }
  NodeStats stats() const;

 private:
  struct Held {
    uint64_t step;
    std::optional<NodeReply> reply;
    std::optional<std::pair<RegionId, pb::PeerMessage>> message;
  };
  struct SessionWait {
    RequestId id;
    ReadCommand command;
    uint64_t deadline_ms;
    // Set for a register write whose context names writes not applied here yet (then
    // command.key is its key): it goes ahead once they are, within the same session_wait_ms.
    std::optional<WriteCommand> write = std::nullopt;
  };
  // A residency group this region is a member of (contract 6), other than every region's.
  struct PinnedGroup {
    size_t index = 0;  // in options_.residency.groups()
    std::string storage_prefix;
    std::unique_ptr<Replica> replica;
    // The group's handle node: the handles a rule pins to the group, with its members as the
    // acceptors (a majority of them is the quorum) and member indexes as region ids.
    std::unique_ptr<StrongNode> strong;
  };
  struct ReplicationWait {  // contract 5
    RequestId id;
    size_t group;
    Dot local_dot;  // the write's dot inside its group (reply.dot is in slot space)
    WriteReply reply;
    uint64_t step;  // the write's step: synced here first
    // This region has applied the op. Not so for a deduplicated retry whose idempotency record
    // came with a state transfer ahead of the op: then it counts once the op is applied (`step`
    // moves to that step), never on the record's word.
    bool applied_here;
    uint32_t needed;
    uint64_t deadline_ms;
  };
  struct StockWait {  // contract 9
    RequestId id;
    size_t group;
    WriteCommand command;
    uint64_t deadline_ms;
  };
  struct GlobalScan {  // contract 8
    RequestId id = 0;
    ScanCommand command;
    uint64_t deadline_ms = 0;
    std::set<std::pair<size_t, RegionId>> awaited;  // (group, region) pages not yet answered
    std::set<RegionId> missing;                     // regions whose page is not in the merge
    std::map<StateKey, KeyState> merged;            // every page's states, merged per key
    std::optional<StateKey> cut;                    // the earliest cut of any page
    bool undurable = false;                         // a local page shows a step not yet durable
  };
  struct QuorumRead {
    RequestId id;
    size_t group;
    StateKey key;
    uint64_t deadline_ms;
    size_t needed;
    std::vector<RegionId> answered;
    std::optional<KeyState> merged;
    VersionVector joined;
  };

  RegionNode(RegionNodeOptions options, std::unique_ptr<Replica> replica,
             std::vector<PinnedGroup> pinned, std::unique_ptr<StrongNode> strong);

  // Takes a replica step's output (of residency group `group`): numbers it, prefixes its
  // records, holds its messages until synced.
  void Absorb(Output step, NodeOutput* out) { Absorb(0, std::move(step), out); }
  void Absorb(size_t group, Output step, NodeOutput* out);
  Replica* MutableGroupReplica(size_t group);
  StrongNode* MutableGroupStrong(size_t group);
  void AddPinnedStates(pb::SnapshotChunk* chunk) const;  // NodeBugs::snapshot_includes_pinned
  // Contract 6: the group of `key` when this region holds it, else Misdirected.
  Result<size_t> GroupHere(const StateKey& key);
  // Counts and words the refusal of a key or handle ("key", "handle") of `group` under `rule`.
  Status MisdirectedTo(size_t group, const char* what, const ResidencyRule& rule);
  // A group-local vector or dot of `group` in slot space, and back (nullopt: a slot of another
  // group is set).
  VersionVector ToSlots(size_t group, const VersionVector& local) const;
  VersionVector FromSlots(size_t group, const VersionVector& slots) const;
  Dot ToSlot(size_t group, Dot local) const;
  // The member index of region `region` in `group`, or nullopt.
  std::optional<RegionId> LocalId(size_t group, RegionId region) const;
  RegionId GlobalId(size_t group, RegionId local) const;
  bool HasApplied(size_t group, const VersionVector& token) const;
  uint32_t GroupSize(size_t group) const;
  void AbsorbStrong(size_t group, StrongOutput step, NodeTime now, NodeOutput* out);
  // Contract 6 for handles: the group of handle `name` when this region holds it, else
  // Misdirected (an invalid name: the handle node's own refusal, in group 0).
  // Contract 10: Misdirected when `key` (a key, or a handle's prefixed name) is another slice's.
  Status SliceRefusal(std::string_view key, const char* what);
  Result<size_t> HandleGroupHere(std::string_view name);
  // How many of `group`'s members are reachable (links up and verified), this one included.
  size_t ReachableMembers(size_t group) const;
  // Opens a new step when `records` is not empty; returns the step the held items wait for.
  uint64_t TakeRecords(RecordBatch& records, NodeOutput* out);
  void HoldReply(NodeReply reply, bool needs_sync, NodeOutput* out);
  void HoldMessage(RegionId to, pb::PeerMessage message, NodeOutput* out);
  void Release(NodeOutput* out);
  Status Refusal() const;

  void HandleWrite(RequestId id, WriteCommand command, NodeTime now, NodeOutput* out);
  void HandleRead(RequestId id, const ReadCommand& command, NodeTime now, NodeOutput* out);
  void ServeRead(RequestId id, const ReadCommand& command, NodeTime now, NodeOutput* out);
  void ServeScan(RequestId id, const ScanCommand& command, NodeTime now, NodeOutput* out);
  // One group's page of a scan (ServeScan merges the groups'); with `absent`, the states of the
  // deleted keys examined too (a global scan's page: contract 8).
  ScanResult ScanGroup(const Replica& replica, const ScanCommand& command, bool* undurable,
                       bool absent = false) const;
  // A merged page's reply: subjects' values opened, erased subjects' keys left out, held while
  // it shows a step not yet durable (as a read).
  void AnswerScanPage(RequestId id, ScanResult result, bool undurable, NodeOutput* out);
  // --- global scans (contract 8; region_node_global_scan.cc) ---
  void StartGlobalScan(RequestId id, const ScanCommand& command, NodeTime now, NodeOutput* out);
  void OnScanRequest(size_t group, RegionId from, const pb::ScanRequest& request, NodeTime now,
                     NodeOutput* out);
  void OnScanReply(size_t group, RegionId from, const pb::ScanReply& reply, NodeOutput* out);
  void FinishGlobalScan(GlobalScan& scan, NodeOutput* out);
  // --- stocks (contract 9; region_node_stock.cc) ---
  // A take of `command` (of `group`) was refused for want of rights here: true when it now waits
  // for lends (rights asked of peers), false when it is to be answered with `refusal` at once.
  bool WaitForStockRights(RequestId id, size_t group, const WriteCommand& command,
                          const Status& refusal, NodeTime now, NodeOutput* out);
  void OnStockRightsRequest(size_t group, RegionId from, const pb::StockRightsRequest& request,
                            NodeTime now, NodeOutput* out);
  void ServeStockWaits(NodeTime now, NodeOutput* out);
  void ExpireStockWaits(NodeTime now, NodeOutput* out);
  void HandleHandle(RequestId id, const HandleCommand& command, NodeTime now, NodeOutput* out);
  // A read across `all` regions or a majority of them (this one included), merged.
  void StartQuorumRead(RequestId id, size_t group, const StateKey& key, bool all, NodeTime now,
                       NodeOutput* out);
  void OnReadReply(size_t group, RegionId from, const pb::ReadReply& reply, NodeOutput* out);
  void ServeSatisfiedWaits(NodeTime now, NodeOutput* out);
  void ExpireWaits(NodeTime now, NodeOutput* out);
  // Contract 5: answers the replication waits that enough regions now hold.
  void ServeReplicatedWrites(NodeOutput* out);
  uint32_t RegionsHolding(const ReplicationWait& wait, const std::vector<PeerStatus>& peers) const;
  void UpdateHealth();
  size_t ReachableRegions() const;

  // --- subjects (contract 7; region_node_subjects.cc) ---
  // The regions that may hold a key of `subject`: the residency sets of its key prefixes.
  RegionMask SubjectRegions(std::string_view subject) const;
  // Seals a write of a subject's key; a new data key's record becomes a step of its own, and the
  // keyring goes to the subject's regions.
  Status SealSubjectWrite(WriteCommand* command, const Replica& replica, NodeTime now,
                          NodeOutput* out);
  // Opens a state for a reader's reply when `key` is a subject's.
  Status OpenForReader(const StateKey& key, std::optional<KeyState>* state) const;
  void HandleErase(RequestId id, const EraseCommand& command, NodeTime now, NodeOutput* out);
  void OnSubjectKeys(RegionId from, const pb::SubjectKeys& keys, NodeTime now, NodeOutput* out);
  // Merges a peer's keyring entries (at most `max_entries`), refusing and counting those the
  // sender or this region may not hold; `answer` gets the subjects this region knows more of.
  void MergeKeyrings(RegionId from, const pb::SubjectKeys& keys, size_t max_entries,
                     NodeOutput* out, std::vector<std::string>* answer);
  // Adds to a replication message bound for `peer` the keyrings of the subjects whose keys its
  // body carries (PeerMessage.keyrings).
  void AttachKeyrings(RegionId peer, pb::PeerMessage* message) const;
  // Keyrings riding along with a replication message: one per subject its body carries, so at
  // most its keys (a snapshot chunk holds snapshot_chunk_keys, 1024 by default). A body naming
  // more subjects than this leaves the rest to the keyring messages.
  static constexpr size_t kKeyringsPerMessage = 4096;
  // Sends the keyring entries of `subjects` that `peer` may hold (all when empty).
  void SendSubjectKeys(RegionId peer, const std::vector<std::string>& subjects, NodeTime now,
                       NodeOutput* out);

  RegionNodeOptions options_;
  std::unique_ptr<Replica> replica_;  // group 0
  std::vector<PinnedGroup> pinned_;   // ascending group index
  std::unique_ptr<StrongNode> strong_;
  SubjectVault vault_;
  uint64_t next_subject_sync_ms_ = 0;
  uint64_t subjects_erased_ = 0;
  uint64_t subject_keys_refused_ = 0;
  RegionHealth health_ = RegionHealth::kCatchingUp;
  Status failure_;
  std::vector<bool> links_up_;
  std::vector<bool> links_verified_;  // up, and the peer answered (OnLinkVerified)

  uint64_t step_ = 0;
  uint64_t written_ = 0;
  uint64_t synced_ = 0;
  std::deque<Held> until_written_;  // ascending step
  std::deque<Held> until_synced_;   // ascending step
  uint64_t coalesced_messages_ = 0;
  // Keys whose latest change is in a step not yet durable -> that step. Emptied whenever every
  // step is durable, so a read looks it up only while writes are in flight.
  std::map<StateKey, uint64_t> undurable_keys_;
  std::vector<StateKey> pending_keys_;  // scratch for Absorb
  // The applied vector (slot space) after each step not yet durable, and as of the last durable
  // one.
  std::deque<std::pair<uint64_t, VersionVector>> step_applied_;
  VersionVector durable_applied_;

  std::vector<SessionWait> session_waits_;
  std::vector<ReplicationWait> replication_waits_;
  std::map<uint64_t, QuorumRead> quorum_reads_;  // by the replica's read-request id
  std::map<uint64_t, GlobalScan> global_scans_;  // by scan id (ScanRequest.id)
  std::deque<StockWait> stock_waits_;            // in arrival order
  uint64_t rights_requests_ = 0;                 // NodeStats
  uint64_t rights_lent_ = 0;
  uint64_t stock_refused_ = 0;
  uint64_t next_scan_id_ = 1;
  uint64_t next_quorum_id_ = 1;
  uint64_t peer_messages_refused_ = 0;  // NodeStats
  uint64_t read_replies_refused_ = 0;
  uint64_t misdirected_ = 0;
  std::set<RequestId> handle_requests_;  // handle commands not answered yet (the strong node's ids)
};

}  // namespace meridian
