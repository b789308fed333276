#include "sim/simulation.h"

#include <algorithm>

#include "sim/simulation_impl.h"
#include "strong/handle_name.h"

namespace meridian {
namespace sim_internal {
namespace {

Residency MakeResidency(const SimOptions& o) {
  auto residency = Residency::Make(o.residency, o.regions);
  MERIDIAN_ASSERT_MSG(residency.ok(), "the simulator's residency rules are invalid");
  return std::move(residency).value();
}

std::vector<SubjectPattern> ParsePatterns(const std::vector<std::string>& texts) {
  std::vector<SubjectPattern> patterns;
  for (const std::string& text : texts) {
    auto pattern = ParseSubjectPattern(text);
    MERIDIAN_ASSERT_MSG(pattern.ok(), "the simulator's subject patterns are invalid");
    patterns.push_back(std::move(pattern).value());
  }
  return patterns;
}

}  // namespace

Simulation::Simulation(const SimOptions& options, std::ostream* trace)
    : o_(options),
      trace_(trace),
      random_(options.seed),
      // Handles draw from their own generator, so adding them left every replica-side fate of
      // a seed (and so the regression seeds) as it was. So do the shell and the reads.
      strong_random_(options.seed ^ 0x57a0'9d5eedULL),
      shell_random_(options.seed ^ 0x5e11'5e11ULL),
      reads_random_(options.seed ^ 0x4ead'4eadULL),
      pinned_random_(options.seed ^ 0x9d9e'0000'9d9eULL),
      erase_random_(options.seed ^ 0xe7a5'e000'0e7aULL),
      context_random_(options.seed ^ 0xc0e7'e47'c0e7ULL),
      // Only to tell which subject a key belongs to: it never makes a key.
      subjects_(ParsePatterns(options.subject_patterns),
                [](uint8_t*, size_t) { MERIDIAN_ASSERT_MSG(false, "the simulator made a key"); }),
      checker_(options.regions),
      residency_(MakeResidency(options), options.regions, PinnedKeys(options),
                 PinnedHandleNames(options)),
      regions_(options.regions) {
  checker_.SetWalSync(o_.wal_sync);
  checker_.set_erased([this](std::string_view key) { return ErasureAsked(key); });
  // The quiescence checks read as a client would: subjects' sealed values opened by the node.
  checker_.set_opener([this](RegionId r, const StateKey& key,
                             std::optional<KeyState> state) -> Result<std::optional<KeyState>> {
    const SubjectVault& vault = regions_[r].node->vault();
    const std::optional<std::string> subject = vault.SubjectOf(key.key);
    if (!subject || !state) return state;
    auto opened = vault.OpenState(*subject, key, *state);
    if (!opened.ok()) return opened.status();
    return std::optional<KeyState>(std::move(opened).value());
  });
  for (RegionId r = 0; r < o_.regions; ++r) {
    // The cluster's birth (--initial-cluster-state new): no region starts out rejoining, as new
    // storage in a running cluster does (see DiskLossEvent). Restarts never pass it.
    RegionNodeOptions born = NodeFor(r);
    born.new_cluster = true;
    auto node = RegionNode::Recover(born, *regions_[r].disk);
    MERIDIAN_ASSERT_MSG(node.ok(), "a region node on an empty disk");
    regions_[r].node = std::move(node).value();
    Schedule(1 + r, TickEvent{r});
  }
  history_ = GenerateWorkload(o_, random_);
  for (const auto& w : history_)
    Schedule(w.first_at_ms, ClientEvent{w.write.id});
  for (const PlannedHandleOp& p : GenerateHandleWorkload(o_, strong_random_))
    Schedule(p.at_ms, HandleClientEvent{NewHandleOp(p.request, p.home)});
  ScheduleFaults();
  PlanReads();
  // Every link comes up at the start, as the transport connects.
  for (RegionId a = 0; a < o_.regions; ++a) {
    for (RegionId b = a + 1; b < o_.regions; ++b)
      SetLink(a, b, true);
  }
  PlanPinnedWork();  // last: every earlier event keeps its place in the queue
  PlanErasures();
  result_.seed = o_.seed;
  result_.writes = history_.size();
}

RegionNodeOptions Simulation::NodeFor(RegionId r) const {
  RegionNodeOptions o;
  ReplicaOptions& ro = o.replica;
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
  StrongOptions& so = o.strong;
  so.self = r;
  so.region_count = o_.regions;
  so.mode = o_.handle_mode;
  so.tick_ms = o_.tick_ms;
  so.random_seed = o_.seed * 1000 + regions_[r].incarnation;
  so.bugs = o_.strong_bugs;
  so.round1 = so.hand_off = !o_.handles_classic;
  so.read_lease_ms = o_.read_lease_ms;
  for (RegionId i = 0; i < o_.regions; ++i)
    o.region_names.push_back("r" + std::to_string(i));
  o.wal_sync = o_.wal_sync;
  o.session_wait_ms = kSessionWaitMs;
  o.quorum_timeout_ms = kQuorumTimeoutMs;
  o.bugs = o_.node_bugs;
  o.residency = residency_.residency();
  // Keyrings lost on the wire are repaired by the periodic full sync: often, in simulated time.
  o.subject_sync_ms = 1000;
  o.subject_patterns = subjects_.patterns();
  // Deterministic "random" data keys: a SplitMix64 stream per seed, region and incarnation.
  auto state = std::make_shared<uint64_t>(o_.seed * 0x9E3779B97F4A7C15ULL ^ (uint64_t{r} << 48) ^
                                          regions_[r].incarnation);
  o.random_bytes = [state](uint8_t* out, size_t size) {
    for (size_t i = 0; i < size; ++i) {
      uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
      out[i] = static_cast<uint8_t>(z ^ (z >> 31));
    }
  };
  return o;
}

void Simulation::PlanPinnedWork() {
  const uint64_t first = history_.size();
  for (PlannedWrite& p : GeneratePinnedWorkload(o_, pinned_random_, first))
    history_.push_back(std::move(p));
  for (uint64_t i = first; i < history_.size(); ++i)
    Schedule(history_[i].first_at_ms, ClientEvent{history_[i].write.id});
  result_.pinned_writes = history_.size() - first;
  const std::vector<StateKey> keys = PinnedKeys(o_);
  for (uint32_t i = 0; i < o_.pinned_reads && !keys.empty(); ++i) {
    SimRead read;
    read.key = keys[pinned_random_.Uniform(keys.size())];
    read.region = static_cast<RegionId>(pinned_random_.Uniform(o_.regions));
    read.at_ms = pinned_random_.Uniform(o_.workload_ms);
    read.consistency = pinned_random_.Chance(0.4) ? Consistency::kQuorum : Consistency::kLocal;
    reads_.push_back(std::move(read));
    Schedule(reads_.back().at_ms, ReadEvent{reads_.size() - 1});
  }
}

void Simulation::CheckStorage(RegionId r, const std::string& when) {
  if (residency_.residency().empty()) return;
  MemoryStorage::Contents contents;
  const Status scanned = regions_[r].disk->Scan("", [&](std::string_view key, std::string_view v) {
    contents.emplace(std::string(key), std::string(v));
    return Status::Ok();
  });
  MERIDIAN_ASSERT(scanned.ok());
  residency_.CheckStorage(r, contents, "its disk " + when);
}

void Simulation::CheckResidency() {
  if (residency_.residency().empty()) return;
  for (RegionId r = 0; r < o_.regions; ++r) {
    CheckStorage(r, "at the end");
    if (regions_[r].backup) residency_.CheckStorage(r, *regions_[r].backup, "its backup");
  }
  for (uint64_t i = 0; i < history_.size(); ++i) {
    const LogicalWrite& w = history_[i].write;
    if (Pinned(w.write.target) && w.acknowledged) ++result_.pinned_acknowledged;
  }
  result_.residency_messages = residency_.messages_checked();
  result_.pinned_group_messages = residency_.pinned_messages();
  result_.residency_records = residency_.records_checked();
  Trace("residency: pinned writes " + std::to_string(result_.pinned_writes) + " (acknowledged " +
        std::to_string(result_.pinned_acknowledged) + "), misdirected answers " +
        std::to_string(result_.misdirected) + ", delivered messages inspected " +
        std::to_string(result_.residency_messages) + " (of pinned groups " +
        std::to_string(result_.pinned_group_messages) + "), stored records scanned " +
        std::to_string(result_.residency_records));
}

void Simulation::CheckNothingWaits() {
  std::vector<const RegionNode*> nodes;
  for (RegionId r = 0; r < o_.regions; ++r) {
    const Region& region = regions_[r];
    nodes.push_back(region.node.get());
    // Nothing waits forever (for an op of a group it is not in, or of a member it cannot reach
    // once healed): every session wait, quorum read and replication wait was answered.
    const NodeStats stats = region.node->stats();
    if (stats.session_waits + stats.quorum_reads + stats.replication_waits > 0) {
      checker_.Violation("region " + std::to_string(r) + " still waits at the end: " +
                         std::to_string(stats.session_waits) + " session reads, " +
                         std::to_string(stats.quorum_reads) + " quorum reads, " +
                         std::to_string(stats.replication_waits) + " w=majority writes");
    }
  }
  if (auto difference = residency_.GroupDifference(nodes))
    checker_.Violation("residency: " + *difference);
  for (const auto& [id, request] : requests_) {
    if (request.orphaned || request.kind != Request::Kind::kRead) continue;
    const SimRead& read = reads_[request.index];
    if (Pinned(read.key)) {
      checker_.Violation("a read of pinned key " + read.key.key + " at region " +
                         std::to_string(request.region) + " was never answered");
    }
  }
}

uint64_t Simulation::NewHandleOp(HandleRequest request, RegionId region) {
  HandleOperation op;
  op.id = handle_ops_.size();
  op.region = region;
  auto name = CanonicalHandleName(request.name);
  MERIDIAN_ASSERT(name.ok());
  request.name = *name;  // the history holds canonical names; the node folds the case itself
  op.request = std::move(request);
  handle_ops_.push_back(std::move(op));
  return handle_ops_.back().id;
}

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
    const uint64_t at = random_.Uniform(window);
    const auto region = static_cast<RegionId>(random_.Uniform(o_.regions));
    const auto down_ms = static_cast<uint32_t>(random_.Range(100, 1500));
    Schedule(at,
             CrashEvent{region, down_ms, shell_random_.Chance(o_.power_loss_share), std::nullopt});
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
  // The shell's disk faults: failed writes and fsyncs, crashes aimed at a write's way to disk.
  // A failed disk means a restart on the durable contents: in owner mode that may lose handle
  // records the way a lost disk does, so those seeds keep their disks whole (as above).
  const uint32_t failures = disks_may_fail ? o_.write_failures + o_.sync_failures : 0;
  for (uint32_t i = 0; i < failures; ++i) {
    Schedule(shell_random_.Uniform(window),
             StorageFaultEvent{static_cast<RegionId>(shell_random_.Uniform(o_.regions)),
                               /*sync=*/i >= o_.write_failures});
  }
  for (uint32_t i = 0; i < o_.write_crashes; ++i) {
    Schedule(shell_random_.Uniform(window),
             ArmWriteCrashEvent{static_cast<RegionId>(shell_random_.Uniform(o_.regions))});
  }
  result_.faults += o_.partitions + o_.crashes + o_.reconnects + o_.write_crashes + failures +
                    (disks_may_fail ? o_.disk_losses + o_.restores : 0);
}

void Simulation::Send(RegionId from, RegionId to, const pb::PeerMessage& m) {
  if (m.has_strong()) {
    ++result_.handle_messages;
    Transmit(from, to, m.SerializeAsString(), strong_random_);
    return;
  }
  if (m.group() != 0) {
    ++result_.messages;
    Transmit(from, to, m.SerializeAsString(), pinned_random_);
    return;
  }
  ++result_.messages;
  Transmit(from, to, m.SerializeAsString(), random_);
}

void Simulation::Transmit(RegionId from, RegionId to, std::string bytes, Random& random) {
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
    Schedule(now_ + static_cast<uint64_t>(delay), DeliverEvent{from, to, epochs_[pair], bytes});
  }
}

void Simulation::SetLink(RegionId a, RegionId b, bool up) {
  auto pair = std::make_pair(std::min(a, b), std::max(a, b));
  if (up) ++epochs_[pair];  // a new connection: bytes of the old one are gone
  for (auto [x, y] : {std::pair{a, b}, std::pair{b, a}}) {
    if (!regions_[x].node) continue;
    if (up && !regions_[y].node) continue;  // nobody to connect to
    Drive(x, [&](RegionNode& node, NodeOutput* out) {
      node.OnLinkChanged(y, up, Now(x), out);
      node.OnLinkVerified(y, up);  // a simulated link is up only once both ends are alive
    });
  }
}

void Simulation::Handle(const TickEvent& e) {
  Schedule(now_ + o_.tick_ms, e);
  Region& region = regions_[e.region];
  if (!region.node) return;
  Drive(e.region, [&](RegionNode& node, NodeOutput* out) { node.OnTick(Now(e.region), out); });
  // As the server's tick: written steps reach the disk within the interval even when nothing
  // waits for them.
  if (region.node && region.node->written_step() > region.node->synced_step() &&
      now_ - region.last_sync_request_ms >= o_.sync_interval_ms) {
    RequestSync(e.region);
  }
}

void Simulation::Handle(const DeliverEvent& e) {
  Region& region = regions_[e.to];
  auto pair = std::make_pair(std::min(e.from, e.to), std::max(e.from, e.to));
  if (!region.node || !regions_[e.from].node || epochs_[pair] != e.epoch) return;
  pb::PeerMessage m;
  MERIDIAN_ASSERT(m.ParseFromString(e.bytes));
  residency_.OnDeliver(e.from, e.to, m, e.bytes);
  if (trace_ && m.group() != 0) {
    Trace("deliver " + std::to_string(e.from) + "->" + std::to_string(e.to) + " group " +
          std::to_string(m.group()) + " " + m.ShortDebugString().substr(0, 300));
  }
  if (trace_ && m.has_strong()) {
    Trace("deliver " + std::to_string(e.from) + "->" + std::to_string(e.to) + " " +
          m.strong().ShortDebugString());
  }
  Drive(e.to,
        [&](RegionNode& node, NodeOutput* out) { node.OnPeerMessage(e.from, m, Now(e.to), out); });
}

void Simulation::Handle(const PartitionEvent& e) {
  if (healed_) return;
  Trace("partition " + std::to_string(e.a) + "-" + std::to_string(e.b));
  if (cuts_[{e.a, e.b}]++ == 0) SetLink(e.a, e.b, false);
  Schedule(now_ + e.duration_ms, HealEvent{e.a, e.b});
}

void Simulation::Handle(const HealEvent& e) {
  auto& depth = cuts_[{e.a, e.b}];
  if (depth == 0) return;  // healed already (HealEverything)
  Trace("heal " + std::to_string(e.a) + "-" + std::to_string(e.b));
  if (--depth == 0) SetLink(e.a, e.b, true);
}

void Simulation::Handle(const ReconnectEvent& e) {
  Trace("reconnect " + std::to_string(e.a) + "-" + std::to_string(e.b));
  if (cuts_[{e.a, e.b}] > 0) return;  // no connection to renew across a partition
  SetLink(e.a, e.b, true);
}

void Simulation::HealEverything() {
  healed_ = true;
  o_.loss = 0;
  o_.duplication = 0;
  for (auto& [pair, depth] : cuts_) {
    if (depth == 0) continue;
    depth = 0;
    SetLink(pair.first, pair.second, true);
  }
  for (RegionId r = 0; r < o_.regions; ++r) {
    Region& region = regions_[r];
    region.armed_write_crashes = 0;
    // A region whose disk failed is restarted now rather than when the operator gets to it.
    if (region.node && region.storage_failed) Down(r, 0, /*power_loss=*/true);
    Handle(RestartEvent{r});
  }
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
    for (auto [group, strong] : region.node->strong_nodes()) {
      if (strong->pending_requests() > 0) return false;
    }
  }
  return true;
}

// Every request still in flight is one whose region crashed, and no node holds anything.
bool Simulation::RequestsSettled() const {
  for (const auto& [id, request] : requests_) {
    if (!request.orphaned) return false;
  }
  for (const Region& region : regions_) {
    const NodeStats stats = region.node->stats();
    if (stats.held_replies + stats.held_messages + stats.session_waits + stats.quorum_reads +
            stats.replication_waits >
        0)
      return false;
  }
  return true;
}

void Simulation::CheckHandles() {
  std::map<std::string, std::vector<HandleOperation>> by_name;
  for (const HandleOperation& op : handle_ops_) {
    if (!op.complete_ms) ++result_.handle_unanswered;
    if (op.complete_ms && op.outcome == HandleOutcome::kUnavailable) ++result_.handle_unavailable;
    // One history per handle: "H0" and "h0" name the same one (handle_name.h).
    by_name[CanonicalHandleName(op.request.name).value()].push_back(op);
  }
  result_.handle_requests = handle_ops_.size();
  for (const HandleOperation& op : handle_ops_) {
    if (!op.known()) continue;
    ++result_.handle_answered;
    result_.handle_latency_ms += *op.complete_ms - op.invoke_ms;
  }
  for (const Region& region : regions_) {
    for (auto [group, strong] : region.node->strong_nodes())
      AddStrongStats(*strong);
  }
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
  const Replica& first = regions_[0].node->replica();
  for (const Region& region : regions_) {
    const Replica& r = region.node->replica();
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
  if (residency_.residency().groups().size() > 1) {
    std::vector<const RegionNode*> nodes;
    for (const Region& region : regions_)
      nodes.push_back(region.node.get());
    if (residency_.GroupDifference(nodes)) return false;
  }
  return ErasuresSettled();
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
      quiet = replicas_quiet && HandlesSettled() && RequestsSettled();
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
    replicas.push_back(&region.node->replica());
  for (const auto& p : history_) {
    writes.push_back(p.write);
    if (p.write.acknowledged) ++result_.acknowledged;
    if (p.write.write.target.data_class == DataClass::kText) {
      ++result_.text_writes;
      if (p.write.acknowledged) ++result_.text_acknowledged;
    }
    if (p.write.write.target.data_class == DataClass::kStock) {
      ++result_.stock_writes;
      if (p.write.acknowledged) ++result_.stock_acknowledged;
    }
  }
  for (const Region& region : regions_)
    result_.rights_lent += region.node->stats().rights_lent;
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
  for (RegionId r = 0; r < o_.regions && trace_; ++r) {
    for (const auto& [group, replica] : regions_[r].node->replicas()) {
      if (group == 0) continue;
      std::string peers;
      for (const auto& p : replica->Peers()) {
        peers += " peer " + std::to_string(p.region) + " acked " + p.acked.ToString() +
                 " backlog " + std::to_string(p.backlog_ops);
      }
      Trace("region " + std::to_string(r) + " group " + std::to_string(group) + " applied " +
            replica->applied().ToString() + " buffered " + std::to_string(replica->buffered_ops()) +
            " oplog " + std::to_string(replica->oplog_size()) + " rejoining " +
            std::to_string(replica->rejoining()) + " refused " +
            std::to_string(regions_[r].node->stats().peer_messages_refused) + peers);
    }
  }
  // Residency leaks first (R1, R2: only a residency bug makes them), then the rest in order.
  CheckResidency();
  for (const auto& v : residency_.violations())
    result_.violations.push_back(v);
  checker_.CheckQuiescent(replicas, writes);
  CheckErasures();
  CheckNothingWaits();  // after every region's group: a bug there is named by its own check first
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
        std::string(converged ? "handle requests or client reads did not settle"
                              : "did not quiesce") +
        " within " + std::to_string(o_.quiesce_deadline_ms) + " ms after healing");
  }
  CheckHandles();
  for (auto& v : handle_violations_) {
    if (result_.violations.size() < 20) result_.violations.push_back(std::move(v));
  }
  // The simulated network drops, delays and duplicates but never corrupts: a peer message
  // refused as invalid (src/replica/peer_input.h, src/strong/peer_checks.h) is a check that
  // refuses correct traffic. Last, so a seeded bug is still reported by its own check first.
  for (const Region& region : regions_) {
    uint64_t refused = region.node->replica().stats().malformed_messages;
    for (auto [group, strong] : region.node->strong_nodes())
      refused += strong->stats().malformed_messages;
    if (refused > 0) {
      result_.violations.push_back("region " + std::to_string(region.node->replica().self()) +
                                   " refused " + std::to_string(refused) +
                                   " messages of correct peers as invalid");
    }
  }
  for (const Replica* r : replicas) {
    result_.conflicts += r->conflicts().total();
    result_.clamped += r->clock().clamped_total();
    result_.repairs += r->stats().anti_entropy_repairs;
  }
  result_.acked_lost_allowed = checker_.acked_lost_allowed();
  return result_;
}

}  // namespace sim_internal

SimResult RunSimulation(const SimOptions& options, std::ostream* trace) {
  sim_internal::Simulation sim(options, trace);
  return sim.Run();
}

}  // namespace meridian
