// The Simulation class behind RunSimulation (simulation.h), split by concern:
//   simulation.cc          the set-up, the event loop, the network and partitions;
//   simulation_end.cc      the end of a run: healing, quiescence and the end-of-run checks;
//   simulation_shell.cc    the shell around each region's node: pass batches, writes, fsyncs,
//                          crashes, power losses, failed and lost disks, restarts;
//   simulation_clients.cc  clients: writes, reads, handle requests and the replies they get;
//   simulation_erasures.cc subjects' erasures: asked, retried, judged.
// Internal to src/sim.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <queue>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "base/random.h"
#include "node/region_node.h"
#include "sim/checker.h"
#include "sim/checker_residency.h"
#include "sim/history.h"
#include "sim/linearizability.h"
#include "sim/simulation.h"
#include "sim/workload.h"
#include "store/memory_storage.h"

namespace meridian::sim_internal {

struct TickEvent {
  RegionId region;
};
struct DeliverEvent {
  RegionId from, to;
  uint64_t epoch;
  std::string bytes;  // a serialized pb::PeerMessage
};
struct ClientEvent {
  uint64_t write_id;
};
// The client stops waiting for the reply to request `id` (a write attempt).
struct ClientTimeoutEvent {
  RequestId id;
};
struct ReadEvent {
  uint64_t read_id;  // index into reads_
};
struct CrashEvent {
  RegionId region;
  uint32_t down_ms;
  bool power_loss = false;  // the unsynced tail is lost too
  // Set for the operator's restart of a failed region: it applies to that process only.
  std::optional<uint64_t> process;
};
struct RestartEvent {
  RegionId region;
};
struct HandleClientEvent {
  uint64_t op_id;  // index into the handle history
};
struct PartitionEvent {
  RegionId a, b;
  uint32_t duration_ms;
};
struct HealEvent {
  RegionId a, b;
};
struct ReconnectEvent {
  RegionId a, b;
};
struct BackupEvent {
  RegionId region;
};
struct DiskLossEvent {
  RegionId region;
  uint32_t down_ms;
  bool restore;  // restart on the region's last backup instead of an empty disk
};
// The end of the event-loop pass: the shell writes the pass's records (unsynced).
struct WriteEvent {
  RegionId region;
  uint64_t process;  // stale once the process it belongs to crashed
};
// An fsync asked for earlier returns.
struct SyncDoneEvent {
  RegionId region;
  uint64_t process;
  uint64_t step;  // every step written before the fsync began
};
// The region's disk fails its next Write (or fsync).
struct StorageFaultEvent {
  RegionId region;
  bool sync;
};
// Aims a crash at the region's next client write (SimOptions::write_crashes).
struct ArmWriteCrashEvent {
  RegionId region;
};
// A client asks for erasure `erasure` (an index into erasures_), or asks again.
struct EraseEvent {
  uint64_t erasure;
};
using Event = std::variant<TickEvent, DeliverEvent, ClientEvent, ClientTimeoutEvent, ReadEvent,
                           CrashEvent, RestartEvent, PartitionEvent, HealEvent, ReconnectEvent,
                           HandleClientEvent, BackupEvent, DiskLossEvent, WriteEvent, SyncDoneEvent,
                           StorageFaultEvent, ArmWriteCrashEvent, EraseEvent>;

struct Scheduled {
  uint64_t at_ms;
  uint64_t seq;  // insertion order breaks time ties: determinism
  Event event;
  bool operator>(const Scheduled& o) const {
    return at_ms != o.at_ms ? at_ms > o.at_ms : seq > o.seq;
  }
};

struct Region {
  std::unique_ptr<MemoryStorage> disk = std::make_unique<MemoryStorage>();
  std::unique_ptr<RegionNode> node;  // null while down
  uint32_t incarnation = 0;
  uint32_t disks = 0;  // disks replaced so far: each new one is a new replica incarnation
  std::optional<MemoryStorage::Contents> backup;  // the durable contents at the last backup
  // Set from a disk loss until the region has rejoined: the highest op of its own it had.
  std::optional<uint64_t> own_ops_had;

  // --- the shell (simulation_shell.cc) ---
  uint64_t process = 0;  // bumped by every crash: events of a dead process are stale
  RecordBatch pass;      // records of the steps not written yet
  bool write_scheduled = false;
  bool sync_in_flight = false;
  uint64_t sync_requested = 0;  // the highest step an fsync was asked for
  uint64_t last_sync_request_ms = 0;
  // The applied vector as of each write not yet known synced, and as of the last write / sync:
  // what a process crash / a power loss must leave (Checker invariant 10, quorum reads).
  std::deque<std::pair<uint64_t, VersionVector>> writes_unsynced;
  VersionVector written, synced;
  bool storage_failed = false;     // a Write or fsync failed in this process
  bool restart_pending = false;    // a restart is scheduled (after a crash or a failed disk)
  bool tail_lost = false;          // the pending restart follows a power loss or failed disk
  bool disk_replaced = false;      // ... or a lost disk
  VersionVector applied_at_crash;  // its vector when it went down
  // Aimed crashes waiting for a client write here (ArmWriteCrashEvent).
  uint32_t armed_write_crashes = 0;
};

// A client request the simulation sent to a region's node and has not had answered.
struct Request {
  enum class Kind : uint8_t { kWrite, kRead, kHandle, kErase } kind;
  uint64_t index;  // write id, read id, handle op id or erasure
  RegionId region;
  uint64_t sent_ms;
  bool orphaned = false;  // its region crashed: it will never be answered
};

// One client read of a counter and what is needed to judge its answer.
struct SimRead {
  StateKey key;
  RegionId region = 0;
  uint64_t at_ms = 0;
  Consistency consistency = Consistency::kLocal;
  std::optional<VersionVector> session;  // the token of write `write_id`
  uint64_t write_id = 0;
  Dot write_dot;
  std::optional<uint64_t> write_serial;  // its CreatedOp
  uint32_t write_disk = 0;  // the disk of the write's origin then (a later disk loss voids it)
  // Quorum reads: per origin, the ops a majority of regions had synced when it was asked.
  VersionVector majority_synced;
  std::optional<uint64_t> answered_ms;
};

// A client's erasure of a subject (DELETE /subjects/{id}); tried at the next region when refused
// or unanswered, like a write with an idempotency key (an erasure is idempotent).
struct SimErasure {
  std::string subject;
  RegionId home = 0;
  uint64_t at_ms = 0;
  uint32_t attempts = 0;
  bool acknowledged = false;
  // Acknowledged, then lost with the disk of the only region that held it (allowed, like a w=1
  // write's op: the erasure's reply promises it durable there, not yet elsewhere).
  bool lost_with_disk = false;
};

constexpr uint32_t kClientRetryMs = 300;  // a client gives up on a region after this
constexpr uint32_t kClientMaxAttempts = 8;
constexpr uint32_t kHealSlackMs = 2500;  // faults may last this long past the workload window
// A handle request answered "unavailable" is tried again at the next region after this, at most
// kHandleMaxAttempts times in all (each attempt is its own operation in the history).
constexpr uint32_t kHandleRetryMs = 100;
constexpr uint32_t kHandleMaxAttempts = 3;
// After healing, each handle is read once (from rotating regions, spaced out so that the reads do
// not duel): every region must be able to serve it again, and the reads join the history.
constexpr uint32_t kFinalReadsAfterHealMs = 1500;
constexpr uint32_t kFinalReadSpacingMs = 200;
// Linearizability search budget per handle: far above what a seed's ~15 operations per handle
// need (hundreds of states), small enough that a pathological history cannot stall a run.
constexpr uint64_t kMaxCheckerStates = 200'000;
// The shell. A pass's records are written 1..kWriteDelayMaxMs after the event that made them
// (the rest of the event-loop pass); a slow fsync takes kSlowSync{Min,Max}Ms.
constexpr uint32_t kWriteDelayMaxMs = 2;
constexpr uint32_t kSlowSyncMinMs = 30;
constexpr uint32_t kSlowSyncMaxMs = 150;
// How long after a failed disk the operator restarts the region.
constexpr uint32_t kOperatorRestartMinMs = 200;
constexpr uint32_t kOperatorRestartMaxMs = 1200;
// The nodes' session wait and quorum read timeouts: short, so that runs see both time out.
constexpr int kSessionWaitMs = 400;
constexpr int kQuorumTimeoutMs = 800;
// The most a reply can be held for durability: the pass, an fsync in flight and the next one.
constexpr uint32_t kDurabilitySlackMs = kWriteDelayMaxMs + 2 * kSlowSyncMaxMs + 20;

class Simulation {
 public:
  Simulation(const SimOptions& options, std::ostream* trace);
  SimResult Run();

 private:
  // --- simulation.cc ---
  RegionNodeOptions NodeFor(RegionId r) const;
  uint64_t NewHandleOp(HandleRequest request, RegionId region);
  uint64_t Physical(RegionId r) const {
    return static_cast<uint64_t>(static_cast<int64_t>(now_) + 1'000'000 + o_.skew_ms[r]);
  }
  // The monotonic clock runs at the region's drifted rate (SimOptions::steady_drift_ppm).
  uint64_t Steady(RegionId r) const {
    return now_ +
           static_cast<uint64_t>(static_cast<int64_t>(now_) * o_.steady_drift_ppm[r] / 1'000'000);
  }
  NodeTime Now(RegionId r) const { return {Physical(r), Steady(r)}; }
  void Schedule(uint64_t at, Event e) { queue_.push({at, next_seq_++, std::move(e)}); }
  void Trace(const std::string& line) {
    if (trace_) *trace_ << now_ << "ms " << line << "\n";
  }
  void ScheduleFaults();
  void Handle(const TickEvent& e);
  void Handle(const DeliverEvent& e);
  void Handle(const PartitionEvent& e);
  void Handle(const HealEvent& e);
  void Handle(const ReconnectEvent& e);
  // --- residency (simulation.cc) ---
  bool Pinned(const StateKey& key) const { return residency_.residency().GroupOf(key) != 0; }
  bool Allowed(const StateKey& key, RegionId r) const { return residency_.Allowed(key, r); }
  // A w=majority / w=all write's acknowledgement: enough regions held its op (contract 5).
  void CheckWriteLevel(const PlannedWrite& planned, const WriteReply& written);
  // Whether region r may serve handle `name` (any case: the node folds it).
  bool HandleAllowed(const std::string& name, RegionId r) const;
  void PlanPinnedWork();
  void Send(RegionId from, RegionId to, const pb::PeerMessage& m);
  // Handle messages draw their fates from strong_random_, the replica's from random_.
  void Transmit(RegionId from, RegionId to, std::string bytes, Random& random);
  // Tells both ends whether their link is up; a link coming up is a new connection.
  void SetLink(RegionId a, RegionId b, bool up);
  void AddStrongStats(const StrongNode& node) {
    result_.handle_fast_rounds += node.stats().fast_rounds;
    result_.handle_slow_rounds += node.stats().slow_rounds;
    result_.handle_lease_reads += node.stats().lease_reads;
  }
  std::vector<LogicalWrite> Writes() const {
    std::vector<LogicalWrite> writes;
    for (const auto& p : history_)
      writes.push_back(p.write);
    return writes;
  }

  // How the events ran out: quiet (replicas converged, handles and requests settled) before the
  // deadline after healing, or not; `converged` tells the replicas' part apart.
  struct RunEnd {
    bool quiet = false;
    bool converged = false;
  };
  // The events in time order; at the heal time every fault is healed, and from then on the run
  // checks every 50 ms whether it is quiet, until it is or the deadline passes.
  RunEnd RunEvents();

  // --- the end of a run (simulation_end.cc) ---
  // At the heal time: every cut healed, loss and duplication off, crashed and failed regions
  // restarted, and the final handle reads scheduled.
  void HealEverything();
  void ScheduleFinalReads();
  // Whether the replicas converged (same vectors and contents, empty oplogs and buffers, pinned
  // groups alike, erasures agreed).
  bool Quiescent() const;
  bool HandlesSettled() const;
  bool RequestsSettled() const;
  // The write counts of the result; returns every write's history for the checkers.
  std::vector<LogicalWrite> TallyWrites();
  // Each region's replicas as the run left them, to the trace.
  void TraceFinalState(const std::vector<const Replica*>& replicas);
  // Every end-of-run check, its violations into the result in a fixed order (residency leaks
  // first, invalid peer messages last), and "did not quiesce" unless `end.quiet`.
  void Judge(const std::vector<const Replica*>& replicas, const std::vector<LogicalWrite>& writes,
             const RunEnd& end);
  // ResidencyChecker R2 over region r's disk as its process sees it; `when` for the message.
  void CheckStorage(RegionId r, const std::string& when);
  // After the run: R2 over every disk and backup.
  void CheckResidency();
  // After the run: R3 (pinned groups converged) and nothing left waiting: no session wait,
  // quorum read or replication wait at any region, every read of a pinned key answered.
  void CheckNothingWaits();
  // Linearizability of each handle's history, and every handle readable after healing.
  void CheckHandles();
  // Conflicts, clamped clocks and repairs over the replicas, and the checker's allowances.
  void TallyTotals(const std::vector<const Replica*>& replicas);

  // --- erasures (simulation_erasures.cc) ---
  void PlanErasures();
  void Handle(const EraseEvent& e);
  void OnEraseReply(const Request& request, const NodeReply& reply);
  void RetryErasure(uint64_t erasure);
  // Whether a client asked to erase the subject `key` belongs to: from then on its reference
  // models no longer hold (Checker::set_erased), and it answers Gone once the erasure arrives.
  bool ErasureAsked(std::string_view key) const;
  // A reply of Gone for `key` at region r is right only where the subject is erased (false:
  // the reply is not Gone).
  bool JudgeGone(RegionId r, const StateKey& key, const NodeReply& reply, const std::string& what);
  // Region r's disk is lost: the acknowledged erasures no other region holds go with it.
  void NoteErasuresLostWithDisk(RegionId r);
  // Every region agrees on which subjects are erased (part of Quiescent()).
  bool ErasuresSettled() const;
  // After the run: an acknowledged erasure holds everywhere; an erased subject's keys answer
  // Gone in every region, and no disk keeps a data key of it.
  void CheckErasures();

  // --- simulation_shell.cc ---
  // Runs one event of region r's node and does what its output asks.
  template <typename Fn>
  void Drive(RegionId r, Fn&& event) {
    Region& region = regions_[r];
    const uint64_t snapshots = region.node->replica().stats().snapshots_applied;
    NodeOutput out;
    event(*region.node, &out);
    Process(r, out, snapshots);
  }
  void Process(RegionId r, NodeOutput& out, uint64_t snapshots_before);
  void Handle(const WriteEvent& e);
  void Handle(const SyncDoneEvent& e);
  void RequestSync(RegionId r);
  void StartSync(RegionId r);
  void OnStorageFailure(RegionId r, const Status& error, NodeOutput* out);
  void Handle(const StorageFaultEvent& e);
  void Handle(const ArmWriteCrashEvent& e);
  void Handle(const CrashEvent& e);
  void Handle(const RestartEvent& e);
  void Handle(const BackupEvent& e);
  void Handle(const DiskLossEvent& e);
  void Down(RegionId r, uint32_t down_ms, bool power_loss);
  void CheckRejoined(RegionId r);

  // --- simulation_clients.cc ---
  void Handle(const ClientEvent& e);
  // Before a register write's first attempt at region `r`: the client reads the register there
  // (remembered for the next write of the key at `r`), and sometimes writes with the context of
  // the read before, which may have missed writes made since (issue 16).
  void TakeRegisterContext(LogicalWrite& w, RegionId r);
  void Handle(const ClientTimeoutEvent& e);
  void Handle(const ReadEvent& e);
  void Handle(const HandleClientEvent& e);
  RequestId Issue(RegionId r, Request::Kind kind, uint64_t index, NodeCommand command);
  void OnReply(RegionId r, NodeReply reply);
  void OnWriteReply(const Request& request, NodeReply& reply);
  // A stock take that waited for rights (RegionNode contract 9) makes its op in a later event
  // than its command: attributes such ops of region r to their requests, oldest first.
  void AttributeServedStockTakes(RegionId r, const std::vector<AppliedOp>& applied);
  void OnReadReply(const Request& request, NodeReply& reply);
  void OnHandleAnswer(uint64_t op_id, HandleOutcome outcome, const std::string& owner,
                      const std::string& message = "");
  void PlanReads();
  void ScheduleSessionRead(const LogicalWrite& w, const WriteReply& reply, RegionId wrote_at,
                           std::optional<uint64_t> serial, Random& random);
  // A pinned key's answer: Misdirected exactly outside its set (false: judged, stop there).
  bool CheckMisdirected(const StateKey& key, RegionId r, const NodeReply& reply, bool immediate,
                        const std::string& what);
  // The op a session read's token names was lost since (allowed: see Checker invariant 7).
  bool WriteOpLost(const SimRead& read) const {
    for (const CreatedOp& op : history_[read.write_id].write.created) {
      if (op.serial == *read.write_serial) return checker_.lost(op);
    }
    return true;
  }

  SimOptions o_;
  std::ostream* trace_;
  Random random_;
  Random strong_random_;
  Random shell_random_;  // the shell's draws: write delays, fsync latencies, aimed crashes
  Random reads_random_;  // client reads
  // Pinned keys: their workload, reads, and network fates (messages of pinned groups), so that
  // turning residency on left every other draw of a seed as it was.
  Random pinned_random_;
  Random erase_random_;    // erasures: their subjects, regions and times
  Random context_random_;  // which register writes carry the context of an earlier read
  // A client's read of a register before it wrote (TakeRegisterContext).
  struct RegisterRead {
    VersionVector context;  // the register's, as the region showed it
    VersionVector applied;  // the region's applied vector at that instant
    uint64_t process = 0;   // the region's process then (Region::process)
  };
  std::map<std::pair<RegionId, std::string>, RegisterRead> register_reads_;  // per region, key
  SubjectVault subjects_;  // the nodes' subject patterns: which subject a key belongs to
  std::vector<SimErasure> erasures_;
  std::set<std::string> erasures_asked_;  // subjects
  Checker checker_;
  ResidencyChecker residency_;
  std::vector<Region> regions_;
  std::vector<PlannedWrite> history_;
  // Every op of every region's group, with the regions that applied it (CheckWriteLevel).
  std::map<Dot, std::set<RegionId>> holders_;
  std::vector<HandleOperation> handle_ops_;
  // Op id -> which attempt of its request it is (0: the first).
  std::map<uint64_t, uint32_t> handle_attempts_;
  // Ids in handle_ops_ of the reads after healing, and of their retries.
  std::set<uint64_t> final_reads_;
  std::vector<SimRead> reads_;
  std::map<RequestId, Request> requests_;  // in flight
  RequestId next_request_ = 1;
  uint64_t next_serial_ = 1;  // CreatedOp::serial
  RequestId issuing_ = 0;     // the request whose OnCommand is running (its immediate reply)
  // Stock takes whose command made no op: they may be waiting for rights in their region, and
  // stay here (the client may have stopped waiting) until answered, matched or crashed.
  std::map<RequestId, Request> stock_takes_waiting_;
  std::vector<std::string> handle_violations_;
  std::priority_queue<Scheduled, std::vector<Scheduled>, std::greater<>> queue_;
  uint64_t next_seq_ = 0;
  uint64_t now_ = 0;
  std::map<std::pair<RegionId, RegionId>, uint32_t> cuts_;  // partition depth per pair (a<b)
  std::map<std::pair<RegionId, RegionId>, uint64_t> epochs_;
  bool healed_ = false;
  SimResult result_;
};

}  // namespace meridian::sim_internal
