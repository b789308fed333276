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
      // a seed as it was: a seed replayed from an old report (--seed) still runs what it ran.
      // So do the shell and the reads. (Bugs once found by seed are pinned down by scripted
      // scenarios, sim_test.cc, not by seeds.)
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

Simulation::RunEnd Simulation::RunEvents() {
  const uint64_t heal_at = o_.workload_ms + kHealSlackMs;
  const uint64_t deadline = heal_at + o_.quiesce_deadline_ms;
  uint64_t next_check = heal_at;
  RunEnd end;
  while (!queue_.empty() && !end.quiet) {
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
      if (replicas_quiet && !end.converged) {
        end.converged = true;
        result_.converge_ms = now_ - heal_at;
      }
      end.quiet = replicas_quiet && HandlesSettled() && RequestsSettled();
      if (now_ >= deadline) break;
      continue;
    }
    queue_.pop();
    now_ = s.at_ms;
    std::visit([this](const auto& e) { Handle(e); }, s.event);
  }
  return end;
}

SimResult Simulation::Run() {
  const RunEnd end = RunEvents();
  std::vector<const Replica*> replicas;
  for (const Region& region : regions_)
    replicas.push_back(&region.node->replica());
  const std::vector<LogicalWrite> writes = TallyWrites();
  TraceFinalState(replicas);
  Judge(replicas, writes, end);
  TallyTotals(replicas);
  return result_;
}

}  // namespace sim_internal

SimResult RunSimulation(const SimOptions& options, std::ostream* trace) {
  sim_internal::Simulation sim(options, trace);
  return sim.Run();
}

}  // namespace meridian
