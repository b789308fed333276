#include "sim/simulation.h"

#include <map>
#include <memory>
#include <queue>
#include <set>
#include <variant>

#include "base/random.h"
#include "replica/replica.h"
#include "replica/storage_keys.h"
#include "sim/checker.h"
#include "sim/history.h"
#include "sim/linearizability.h"
#include "sim/workload.h"
#include "store/memory_storage.h"
#include "strong/handle_name.h"
#include "strong/strong_node.h"

namespace meridian {
namespace {

struct TickEvent {
  RegionId region;
};
struct DeliverEvent {
  RegionId from, to;
  uint64_t epoch;
  std::string bytes;
  bool strong = false;  // a pb::StrongMessage rather than a pb::PeerMessage
};
struct ClientEvent {
  uint64_t write_id;
};
struct CrashEvent {
  RegionId region;
  uint32_t down_ms;
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
using Event =
    std::variant<TickEvent, DeliverEvent, ClientEvent, CrashEvent, RestartEvent, PartitionEvent,
                 HealEvent, ReconnectEvent, HandleClientEvent, BackupEvent, DiskLossEvent>;

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
  std::unique_ptr<Replica> replica;    // null while crashed
  std::unique_ptr<StrongNode> strong;  // null while crashed (same process as the replica)
  uint32_t incarnation = 0;
  uint32_t disks = 0;  // disks replaced so far: each new one is a new replica incarnation
  std::optional<MemoryStorage::Contents> backup;  // the durable contents at the last backup
  // Set from a disk loss until the region has rejoined: the highest op of its own it had.
  std::optional<uint64_t> own_ops_had;
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

class Simulation {
 public:
  Simulation(const SimOptions& options, std::ostream* trace)
      : o_(options),
        trace_(trace),
        random_(options.seed),
        // Handles draw from their own generator, so adding them left every replica-side fate of
        // a seed (and so the regression seeds) as it was.
        strong_random_(options.seed ^ 0x57a0'9d5eedULL),
        checker_(options.regions),
        regions_(options.regions) {
    for (RegionId r = 0; r < o_.regions; ++r) {
      regions_[r].replica = std::make_unique<Replica>(ReplicaFor(r));
      regions_[r].strong = std::make_unique<StrongNode>(StrongFor(r));
      Schedule(1 + r, TickEvent{r});
    }
    history_ = GenerateWorkload(o_, random_);
    for (const auto& w : history_)
      Schedule(w.first_at_ms, ClientEvent{w.write.id});
    for (const PlannedHandleOp& p : GenerateHandleWorkload(o_, strong_random_))
      Schedule(p.at_ms, HandleClientEvent{NewHandleOp(p.request, p.home)});
    ScheduleFaults();
    result_.seed = o_.seed;
    result_.writes = history_.size();
  }

  SimResult Run();

 private:
  ReplicaOptions ReplicaFor(RegionId r) const {
    ReplicaOptions ro;
    ro.self = r;
    ro.region_count = o_.regions;
    ro.topology = o_.topology;
    ro.bugs = o_.bugs;
    // Simulated time is cheap: shorter periods exercise more rounds per run.
    ro.resend_timeout_ticks = 40;
    ro.anti_entropy_interval_ticks = 100;
    ro.snapshot_retry_ticks = 100;
    ro.oplog_retention_ops = 64;  // small, so lagging peers need state transfer now and then
    // Small chunks and window, so that a transfer spans many chunks and meets losses.
    ro.snapshot_chunk_keys = 4;
    ro.snapshot_window_chunks = 2;
    ro.incarnation = 1 + r * uint64_t{1'000'000} + regions_[r].disks;
    return ro;
  }
  StrongOptions StrongFor(RegionId r) const {
    StrongOptions so;
    so.self = r;
    so.region_count = o_.regions;
    so.mode = o_.handle_mode;
    so.random_seed = o_.seed * 1000 + regions_[r].incarnation;
    so.bugs = o_.strong_bugs;
    return so;
  }
  uint64_t NewHandleOp(HandleRequest request, RegionId region) {
    HandleOperation op;
    op.id = handle_ops_.size();
    op.region = region;
    op.request = std::move(request);
    handle_ops_.push_back(std::move(op));
    return handle_ops_.back().id;
  }
  uint64_t Physical(RegionId r) const {
    return static_cast<uint64_t>(static_cast<int64_t>(now_) + 1'000'000 + o_.skew_ms[r]);
  }
  void Schedule(uint64_t at, Event e) { queue_.push({at, next_seq_++, std::move(e)}); }
  void Trace(const std::string& line) {
    if (trace_) *trace_ << now_ << "ms " << line << "\n";
  }

  void ScheduleFaults();
  void Handle(const TickEvent& e);
  void Handle(const DeliverEvent& e);
  void Handle(const ClientEvent& e);
  void Handle(const CrashEvent& e);
  void Handle(const RestartEvent& e);
  void Handle(const PartitionEvent& e);
  void Handle(const HealEvent& e);
  void Handle(const ReconnectEvent& e);
  void Handle(const HandleClientEvent& e);
  void Handle(const BackupEvent& e);
  void Handle(const DiskLossEvent& e);
  void Commit(RegionId r, Output& out);
  void Commit(RegionId r, StrongOutput& out);
  void Send(RegionId from, RegionId to, const pb::PeerMessage& m);
  void Send(RegionId from, RegionId to, const pb::StrongMessage& m);
  void Transmit(RegionId from, RegionId to, std::string bytes, bool strong, Random& random);
  void OnHandleAnswer(uint64_t op_id, HandleOutcome outcome, const std::string& owner,
                      const std::string& message = "");
  void ScheduleFinalReads();
  bool HandlesSettled() const;
  void CheckHandles();
  void AddStrongStats(const StrongNode& node) {
    result_.handle_fast_rounds += node.stats().fast_rounds;
    result_.handle_slow_rounds += node.stats().slow_rounds;
  }
  void HealEverything();
  // A new connection between a and b: both sides resume their streams.
  void ConnectPeers(RegionId a, RegionId b) {
    for (auto [x, y] : {std::pair{a, b}, std::pair{b, a}}) {
      if (!regions_[x].replica) continue;
      Output out;
      regions_[x].replica->OnPeerConnected(y, &out);
      Commit(x, out);
      StrongOutput strong_out;
      regions_[x].strong->OnPeerConnected(y, &strong_out);
      Commit(x, strong_out);
    }
  }
  std::vector<LogicalWrite> Writes() const {
    std::vector<LogicalWrite> writes;
    for (const auto& p : history_)
      writes.push_back(p.write);
    return writes;
  }
  bool Quiescent() const;

  SimOptions o_;
  std::ostream* trace_;
  Random random_;
  Random strong_random_;
  Checker checker_;
  std::vector<Region> regions_;
  std::vector<PlannedWrite> history_;
  std::vector<HandleOperation> handle_ops_;
  // Op id -> which attempt of its request it is (0: the first).
  std::map<uint64_t, uint32_t> handle_attempts_;
  // Ids in handle_ops_ of the reads after healing, and of their retries.
  std::set<uint64_t> final_reads_;
  std::vector<std::string> handle_violations_;
  std::priority_queue<Scheduled, std::vector<Scheduled>, std::greater<>> queue_;
  uint64_t next_seq_ = 0;
  uint64_t now_ = 0;
  std::map<std::pair<RegionId, RegionId>, uint32_t> cuts_;  // partition depth per pair (a<b)
  std::map<std::pair<RegionId, RegionId>, uint64_t> epochs_;
  bool healed_ = false;
  SimResult result_;
};

void Simulation::ScheduleFaults() {
  const uint32_t window = o_.workload_ms;
  for (uint32_t i = 0; i < o_.partitions && o_.regions > 1; ++i) {
    RegionId a = static_cast<RegionId>(random_.Uniform(o_.regions));
    RegionId b = static_cast<RegionId>((a + 1 + random_.Uniform(o_.regions - 1)) % o_.regions);
    Schedule(random_.Uniform(window),
             PartitionEvent{std::min(a, b), std::max(a, b),
                            static_cast<uint32_t>(random_.Range(200, 2000))});
  }
  for (uint32_t i = 0; i < o_.crashes; ++i) {
    Schedule(random_.Uniform(window), CrashEvent{static_cast<RegionId>(random_.Uniform(o_.regions)),
                                                 static_cast<uint32_t>(random_.Range(100, 1500))});
  }
  for (uint32_t i = 0; i < o_.reconnects && o_.regions > 1; ++i) {
    RegionId a = static_cast<RegionId>(random_.Uniform(o_.regions));
    RegionId b = static_cast<RegionId>((a + 1 + random_.Uniform(o_.regions - 1)) % o_.regions);
    Schedule(random_.Uniform(window), ReconnectEvent{std::min(a, b), std::max(a, b)});
  }
  // Disk faults draw from their own generator, so adding them left every other fate of a seed
  // as it was.
  Random disks(o_.seed ^ 0xd15c'fa17ULL);
  // The owner-mode baseline keeps each handle on one region only: a lost disk loses its handles,
  // which is what that mode concedes, not something to check.
  const bool disks_may_fail = o_.handle_mode == HandleMode::kConsensus;
  for (uint32_t i = 0; i < o_.disk_losses && disks_may_fail; ++i) {
    Schedule(disks.Uniform(window),
             DiskLossEvent{static_cast<RegionId>(disks.Uniform(o_.regions)),
                           static_cast<uint32_t>(disks.Range(100, 1500)), /*restore=*/false});
  }
  for (uint32_t i = 0; i < o_.restores && disks_may_fail; ++i) {
    const auto region = static_cast<RegionId>(disks.Uniform(o_.regions));
    const uint64_t backup_at = disks.Uniform(window / 2);
    Schedule(backup_at, BackupEvent{region});
    Schedule(
        backup_at + 1 + disks.Uniform(window / 2),
        DiskLossEvent{region, static_cast<uint32_t>(disks.Range(100, 1500)), /*restore=*/true});
  }
  result_.faults += o_.partitions + o_.crashes + o_.reconnects +
                    (disks_may_fail ? o_.disk_losses + o_.restores : 0);
}

void Simulation::Commit(RegionId r, Output& out) {
  Region& region = regions_[r];
  if (!out.records.empty()) {
    // The shell's rule: persist the step's records before anything of it leaves the region.
    MERIDIAN_ASSERT(region.disk->Write(out.records, {.sync = true}).ok());
  }
  if (region.own_ops_had && !region.replica->rejoining()) {
    // Rejoined after losing its disk: it then held every op of its own any region holds (and
    // every region had dropped the old incarnation's held-back ops), so the ops above are gone.
    const uint64_t kept = *region.replica->catch_up().own_ops_at_rejoin;
    Trace("rejoined " + std::to_string(r) + " holding " + std::to_string(kept) + " of the " +
          std::to_string(*region.own_ops_had) + " ops of its own it had before the disk loss");
    if (*region.own_ops_had > kept) checker_.OnOpsLost(r, kept + 1, *region.own_ops_had, Writes());
    region.own_ops_had.reset();
  }
  checker_.OnStep(r, out, region.replica->applied());
  if (out.merged_snapshot) checker_.CheckReflectsVector(*region.replica, Writes());
  result_.ops += out.applied.size();
  for (const auto& [to, message] : out.messages)
    Send(r, to, message);
}

void Simulation::Commit(RegionId r, StrongOutput& out) {
  Region& region = regions_[r];
  if (!out.records.empty()) {
    // Promises and accepted values are durable before any peer or client hears of them.
    MERIDIAN_ASSERT(region.disk->Write(out.records, {.sync = true}).ok());
  }
  for (const auto& [to, message] : out.messages)
    Send(r, to, message);
  for (const HandleReply& reply : out.replies)
    OnHandleAnswer(reply.request_id, reply.outcome, reply.record.owner, reply.message);
}

void Simulation::OnHandleAnswer(uint64_t op_id, HandleOutcome outcome, const std::string& owner,
                                const std::string& message) {
  MERIDIAN_ASSERT(op_id < handle_ops_.size());
  HandleOperation& op = handle_ops_[op_id];
  if (op.complete_ms) {
    handle_violations_.push_back("handle request #" + std::to_string(op_id) + " answered twice");
    return;
  }
  op.complete_ms = now_;
  op.outcome = outcome;
  op.result_owner = owner;
  Trace("handle " + DescribeOperation(op) + (message.empty() ? "" : " (" + message + ")"));
  // Invariant 6 of strong_node.h: every request is answered within the request timeout (plus
  // the tick that notices it), also in a minority.
  const uint64_t bound_ms = (StrongOptions{}.request_timeout_ticks + 2) * uint64_t{o_.tick_ms};
  if (now_ - op.invoke_ms > bound_ms) {
    handle_violations_.push_back("handle request answered after " +
                                 std::to_string(now_ - op.invoke_ms) +
                                 " ms: " + DescribeOperation(op));
  }
  if (outcome == HandleOutcome::kUnavailable && handle_attempts_[op_id] + 1 < kHandleMaxAttempts) {
    const uint64_t retry =
        NewHandleOp(op.request, static_cast<RegionId>((op.region + 1) % o_.regions));
    handle_attempts_[retry] = handle_attempts_[op_id] + 1;
    if (final_reads_.count(op_id) != 0) final_reads_.insert(retry);
    Schedule(now_ + kHandleRetryMs, HandleClientEvent{retry});
  }
}

void Simulation::Send(RegionId from, RegionId to, const pb::PeerMessage& m) {
  ++result_.messages;
  Transmit(from, to, m.SerializeAsString(), /*strong=*/false, random_);
}

void Simulation::Send(RegionId from, RegionId to, const pb::StrongMessage& m) {
  ++result_.handle_messages;
  Transmit(from, to, m.SerializeAsString(), /*strong=*/true, strong_random_);
}

void Simulation::Transmit(RegionId from, RegionId to, std::string bytes, bool strong,
                          Random& random) {
  auto pair = std::make_pair(std::min(from, to), std::max(from, to));
  if (cuts_[pair] > 0) return;
  if (random.Chance(o_.loss)) {
    ++result_.faults;
    return;
  }
  const int copies = random.Chance(o_.duplication) ? 2 : 1;
  if (copies == 2) ++result_.faults;
  for (int i = 0; i < copies; ++i) {
    const int64_t jitter = random.Range(-static_cast<int64_t>(o_.jitter_ms) / 2,
                                        static_cast<int64_t>(o_.jitter_ms) / 2);
    const int64_t delay = std::max<int64_t>(1, o_.rtt_ms[from][to] / 2 + jitter);
    Schedule(now_ + static_cast<uint64_t>(delay),
             DeliverEvent{from, to, epochs_[pair], bytes, strong});
  }
}

void Simulation::Handle(const TickEvent& e) {
  Schedule(now_ + o_.tick_ms, e);
  Region& region = regions_[e.region];
  if (!region.replica) return;
  Output out;
  region.replica->Tick(Physical(e.region), &out);
  Commit(e.region, out);
  StrongOutput strong_out;
  region.strong->Tick(&strong_out);
  Commit(e.region, strong_out);
}

void Simulation::Handle(const DeliverEvent& e) {
  Region& region = regions_[e.to];
  auto pair = std::make_pair(std::min(e.from, e.to), std::max(e.from, e.to));
  if (!region.replica || !regions_[e.from].replica || epochs_[pair] != e.epoch) return;
  if (e.strong) {
    pb::StrongMessage m;
    MERIDIAN_ASSERT(m.ParseFromString(e.bytes));
    if (trace_)
      Trace("deliver " + std::to_string(e.from) + "->" + std::to_string(e.to) + " " +
            m.ShortDebugString());
    StrongOutput out;
    region.strong->OnMessage(e.from, m, &out);
    Commit(e.to, out);
    return;
  }
  pb::PeerMessage m;
  MERIDIAN_ASSERT(m.ParseFromString(e.bytes));
  Output out;
  region.replica->OnMessage(e.from, m, Physical(e.to), &out);
  Commit(e.to, out);
}

void Simulation::Handle(const ClientEvent& e) {
  PlannedWrite& planned = history_[e.write_id];
  LogicalWrite& w = planned.write;
  const RegionId r = static_cast<RegionId>((planned.home + w.attempts) % o_.regions);
  ++w.attempts;
  if (w.attempts > 1) ++result_.retries;
  auto retry = [&]() {
    if (w.attempts < kClientMaxAttempts) Schedule(now_ + kClientRetryMs, e);
  };
  Region& region = regions_[r];
  if (!region.replica) return retry();  // connection refused: nothing was applied
  Output out;
  auto reply = region.replica->OnClientWrite(w.write, Physical(r), &out);
  if (!reply.ok() && reply.status().code() == StatusCode::kUnavailable) {
    return retry();  // a rejoining region refuses writes: nothing was applied
  }
  MERIDIAN_ASSERT_MSG(reply.ok(), "the simulated workload only makes valid writes");
  if (!reply->deduplicated) {
    for (const AppliedOp& op : out.applied) {
      if (op.dot == reply->dot) w.created.push_back({w.id, op.dot, op.deps, op.stamp});
    }
  }
  Commit(r, out);
  Trace("write " + std::to_string(w.id) + " " +
        std::string(DataClassName(w.write.target.data_class)) + "/" + w.write.target.key + " at " +
        std::to_string(r) + " -> " + reply->dot.ToString() +
        (reply->deduplicated ? " (deduplicated)" : ""));
  if (!w.write.idempotency_key.empty() && random_.Chance(o_.reply_loss)) {
    ++result_.faults;
    return retry();  // the reply was lost; only a write with a key may be retried safely
  }
  w.acknowledged = true;
}

void Simulation::Handle(const HandleClientEvent& e) {
  HandleOperation& op = handle_ops_[e.op_id];
  op.invoke_ms = now_;
  Region& region = regions_[op.region];
  if (!region.strong) {
    // Connection refused: certainly not applied; the client tries the next region.
    return OnHandleAnswer(op.id, HandleOutcome::kUnavailable, "", "region down");
  }
  StrongOutput out;
  auto name = region.strong->OnClientRequest(op.id, op.request, Physical(op.region), &out);
  if (!name.ok()) {
    handle_violations_.push_back("a valid handle request was refused: " + name.status().ToString());
    return OnHandleAnswer(op.id, HandleOutcome::kUnavailable, "");
  }
  op.request.name = *name;
  Commit(op.region, out);
}

void Simulation::Handle(const CrashEvent& e) {
  Region& region = regions_[e.region];
  if (!region.replica || healed_) return;
  Trace("crash " + std::to_string(e.region));
  region.disk->SimulateCrash();
  region.replica.reset();
  AddStrongStats(*region.strong);
  region.strong.reset();  // its requests in flight are never answered: outcome unknown
  Schedule(now_ + e.down_ms, RestartEvent{e.region});
}

void Simulation::Handle(const BackupEvent& e) {
  Region& region = regions_[e.region];
  if (!region.replica) return;
  Trace("backup " + std::to_string(e.region));
  region.backup = region.disk->DurableContents();
}

void Simulation::Handle(const DiskLossEvent& e) {
  Region& region = regions_[e.region];
  if (!region.replica || healed_) return;
  for (const Region& other : regions_) {
    // One lost disk at a time (the failure model of docs/strong.md): a second region losing its
    // records before the first has rebuilt its handles could lose a majority's votes.
    if (other.own_ops_had || (other.strong && other.strong->rejoining())) {
      Trace("disk loss of " + std::to_string(e.region) + " skipped: another region is rejoining");
      return;
    }
  }
  Trace(std::string(e.restore && region.backup ? "restore " : "disk loss ") +
        std::to_string(e.region));
  // A second loss before it rejoined: what the first one lost is still to be accounted for.
  region.own_ops_had =
      std::max(region.own_ops_had.value_or(0), region.replica->applied().Get(e.region));
  Handle(CrashEvent{e.region, e.down_ms});
  MemoryStorage::Contents contents;
  if (e.restore && region.backup) {
    contents = *region.backup;
    // As the restore procedure does: the copy is a new incarnation, and its handle records may
    // be behind promises the region made since.
    contents.erase(std::string(storage_keys::kIncarnation));
    contents.erase(std::string(StrongNode::kSyncedMarkerKey));
  }
  region.disk = std::make_unique<MemoryStorage>(std::move(contents));
  ++region.disks;
  checker_.OnStorageReplaced(e.region);
}

void Simulation::Handle(const RestartEvent& e) {
  Region& region = regions_[e.region];
  if (region.replica) return;
  Trace("restart " + std::to_string(e.region));
  auto recovered = Replica::Recover(ReplicaFor(e.region), *region.disk);
  MERIDIAN_ASSERT_MSG(recovered.ok(), "recovery from the simulated disk failed");
  region.replica = std::move(recovered).value();
  checker_.OnRestart(e.region, region.replica->applied());
  ++region.incarnation;
  StrongOptions strong_options = StrongFor(e.region);
  // Its replica starts over on new or restored storage: so do its acceptor records.
  strong_options.rejoining = region.replica->rejoining();
  auto strong = StrongNode::Recover(strong_options, *region.disk);
  MERIDIAN_ASSERT_MSG(strong.ok(), "handle recovery from the simulated disk failed");
  region.strong = std::move(strong).value();
  for (RegionId peer = 0; peer < o_.regions; ++peer) {
    if (peer == e.region) continue;  // handles talk to every region, not only neighbours
    auto pair = std::make_pair(std::min(peer, e.region), std::max(peer, e.region));
    ++epochs_[pair];  // the restarted process has new connections: old bytes are gone
    ConnectPeers(e.region, peer);
  }
}

void Simulation::Handle(const PartitionEvent& e) {
  if (healed_) return;
  Trace("partition " + std::to_string(e.a) + "-" + std::to_string(e.b));
  ++cuts_[{e.a, e.b}];
  Schedule(now_ + e.duration_ms, HealEvent{e.a, e.b});
}

void Simulation::Handle(const HealEvent& e) {
  auto& depth = cuts_[{e.a, e.b}];
  if (depth > 0) --depth;
  Trace("heal " + std::to_string(e.a) + "-" + std::to_string(e.b));
}

void Simulation::Handle(const ReconnectEvent& e) {
  Trace("reconnect " + std::to_string(e.a) + "-" + std::to_string(e.b));
  ++epochs_[{e.a, e.b}];
  ConnectPeers(e.a, e.b);
}

void Simulation::HealEverything() {
  healed_ = true;
  cuts_.clear();
  o_.loss = 0;
  o_.duplication = 0;
  for (RegionId r = 0; r < o_.regions; ++r)
    Handle(RestartEvent{r});
  ScheduleFinalReads();
}

void Simulation::ScheduleFinalReads() {
  for (uint32_t i = 0; i < o_.handle_names; ++i) {
    const uint64_t id = NewHandleOp({HandleOpKind::kRead, "h" + std::to_string(i), ""},
                                    static_cast<RegionId>(i % o_.regions));
    final_reads_.insert(id);
    Schedule(now_ + kFinalReadsAfterHealMs + i * kFinalReadSpacingMs, HandleClientEvent{id});
  }
}

// Every final read (and its retries) answered, and no region has a handle request in flight.
bool Simulation::HandlesSettled() const {
  for (uint64_t id : final_reads_) {
    if (!handle_ops_[id].complete_ms) return false;
  }
  for (const Region& region : regions_) {
    if (region.strong->pending_requests() > 0) return false;
  }
  return true;
}

void Simulation::CheckHandles() {
  std::map<std::string, std::vector<HandleOperation>> by_name;
  for (const HandleOperation& op : handle_ops_) {
    if (!op.complete_ms) ++result_.handle_unanswered;
    if (op.complete_ms && op.outcome == HandleOutcome::kUnavailable) ++result_.handle_unavailable;
    auto name = CanonicalHandleName(op.request.name);
    MERIDIAN_ASSERT(name.ok());
    by_name[*name].push_back(op);
  }
  result_.handle_requests = handle_ops_.size();
  for (const HandleOperation& op : handle_ops_) {
    if (!op.known()) continue;
    ++result_.handle_answered;
    result_.handle_latency_ms += *op.complete_ms - op.invoke_ms;
  }
  for (const Region& region : regions_)
    AddStrongStats(*region.strong);
  for (const auto& [name, ops] : by_name) {
    LinearizabilityResult r = CheckHandleHistory(ops, kMaxCheckerStates);
    result_.checker_states += r.states;
    if (r.verdict == LinearizabilityVerdict::kNotLinearizable) {
      handle_violations_.push_back("handle " + name + ": history of " + std::to_string(ops.size()) +
                                   " operations is not linearizable:" + r.explanation);
    } else if (r.verdict == LinearizabilityVerdict::kInconclusive) {
      ++result_.handle_inconclusive;
    }
  }
  std::set<std::string> served;
  for (uint64_t id : final_reads_) {
    if (handle_ops_[id].known()) served.insert(handle_ops_[id].request.name);
  }
  for (uint32_t i = 0; i < o_.handle_names; ++i) {
    const std::string name = "h" + std::to_string(i);
    if (served.count(name) == 0) {
      handle_violations_.push_back("handle " + name + " could not be read after healing");
    }
  }
}

bool Simulation::Quiescent() const {
  const Replica& first = *regions_[0].replica;
  for (const Region& region : regions_) {
    const Replica& r = *region.replica;
    if (!(r.applied() == first.applied()) || r.oplog_size() > 0 || r.buffered_ops() > 0) {
      return false;
    }
    if (r.states().size() != first.states().size()) return false;
    auto a = first.states().begin();
    for (auto b = r.states().begin(); b != r.states().end(); ++a, ++b) {
      if (!(a->first == b->first) || ContentBytes(a->second) != ContentBytes(b->second))
        return false;
    }
  }
  return true;
}

SimResult Simulation::Run() {
  const uint64_t heal_at = o_.workload_ms + kHealSlackMs;
  const uint64_t deadline = heal_at + o_.quiesce_deadline_ms;
  uint64_t next_check = heal_at;
  bool quiet = false;
  bool converged = false;  // replicas converged (handles may still be settling)
  while (!queue_.empty() && !quiet) {
    Scheduled s = queue_.top();
    if (!healed_ && s.at_ms >= heal_at) {
      now_ = heal_at;
      HealEverything();
      continue;
    }
    if (healed_ && s.at_ms >= next_check) {
      now_ = next_check;
      next_check += 50;
      const bool replicas_quiet = Quiescent();
      if (replicas_quiet && !converged) {
        converged = true;
        result_.converge_ms = now_ - heal_at;
      }
      quiet = replicas_quiet && HandlesSettled();
      if (now_ >= deadline) break;
      continue;
    }
    queue_.pop();
    now_ = s.at_ms;
    std::visit([this](const auto& e) { Handle(e); }, s.event);
  }
  std::vector<const Replica*> replicas;
  std::vector<LogicalWrite> writes;
  for (const Region& region : regions_)
    replicas.push_back(region.replica.get());
  for (const auto& p : history_) {
    writes.push_back(p.write);
    if (p.write.acknowledged) ++result_.acknowledged;
  }
  for (const Replica* r : replicas) {
    const ReplicaStats& st = r->stats();
    std::string peers;
    for (const auto& p : r->Peers()) {
      peers += " peer " + std::to_string(p.region) + " acked " + p.acked.ToString() + " backlog " +
               std::to_string(p.backlog_ops);
    }
    Trace("region " + std::to_string(r->self()) + " applied " + r->applied().ToString() +
          " buffered " + std::to_string(r->buffered_ops()) + " oplog " +
          std::to_string(r->oplog_size()) + " snapshots sent/applied " +
          std::to_string(st.snapshots_sent) + "/" + std::to_string(st.snapshots_applied) +
          " chunks sent/applied " + std::to_string(st.snapshot_chunks_sent) + "/" +
          std::to_string(st.snapshot_chunks_applied) + " declined " +
          std::to_string(st.snapshot_declined) + " resends " + std::to_string(st.resends) +
          " malformed " + std::to_string(st.malformed_messages) + peers);
  }
  checker_.CheckQuiescent(replicas, writes);
  for (const Replica* r : replicas) {
    if (r->rejoining()) {
      result_.violations.push_back("region " + std::to_string(r->self()) +
                                   " never finished rejoining after losing its disk");
    }
  }
  for (const auto& v : checker_.violations())
    result_.violations.push_back(v);
  if (!quiet) {
    result_.violations.push_back(
        std::string(converged ? "handle requests did not settle" : "did not quiesce") + " within " +
        std::to_string(o_.quiesce_deadline_ms) + " ms after healing");
  }
  CheckHandles();
  for (auto& v : handle_violations_) {
    if (result_.violations.size() < 20) result_.violations.push_back(std::move(v));
  }
  for (const Replica* r : replicas) {
    result_.conflicts += r->conflicts().total();
    result_.clamped += r->clock().clamped_total();
    result_.repairs += r->stats().anti_entropy_repairs;
  }
  return result_;
}

}  // namespace

SimResult RunSimulation(const SimOptions& options, std::ostream* trace) {
  Simulation sim(options, trace);
  return sim.Run();
}

}  // namespace meridian
