#include "sim/simulation.h"

#include <map>
#include <memory>
#include <queue>
#include <variant>

#include "base/random.h"
#include "replica/replica.h"
#include "sim/checker.h"
#include "sim/history.h"
#include "sim/workload.h"
#include "store/memory_storage.h"

namespace meridian {
namespace {

struct TickEvent {
  RegionId region;
};
struct DeliverEvent {
  RegionId from, to;
  uint64_t epoch;
  std::string bytes;
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
using Event = std::variant<TickEvent, DeliverEvent, ClientEvent, CrashEvent, RestartEvent,
                           PartitionEvent, HealEvent, ReconnectEvent>;

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
  std::unique_ptr<Replica> replica;  // null while crashed
};

constexpr uint32_t kClientRetryMs = 300;  // a client gives up on a region after this
constexpr uint32_t kClientMaxAttempts = 8;
constexpr uint32_t kHealSlackMs = 2500;  // faults may last this long past the workload window

class Simulation {
 public:
  Simulation(const SimOptions& options, std::ostream* trace)
      : o_(options),
        trace_(trace),
        random_(options.seed),
        checker_(options.regions),
        regions_(options.regions) {
    for (RegionId r = 0; r < o_.regions; ++r) {
      regions_[r].replica = std::make_unique<Replica>(ReplicaFor(r));
      Schedule(1 + r, TickEvent{r});
    }
    history_ = GenerateWorkload(o_, random_);
    for (const auto& w : history_)
      Schedule(w.first_at_ms, ClientEvent{w.write.id});
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
    return ro;
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
  void Commit(RegionId r, Output& out);
  void Send(RegionId from, RegionId to, const pb::PeerMessage& m);
  void HealEverything();
  bool Quiescent() const;

  SimOptions o_;
  std::ostream* trace_;
  Random random_;
  Checker checker_;
  std::vector<Region> regions_;
  std::vector<PlannedWrite> history_;
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
  result_.faults += o_.partitions + o_.crashes + o_.reconnects;
}

void Simulation::Commit(RegionId r, Output& out) {
  Region& region = regions_[r];
  if (!out.records.empty()) {
    // The shell's rule: persist the step's records before anything of it leaves the region.
    MERIDIAN_ASSERT(region.disk->Write(out.records, {.sync = true}).ok());
  }
  checker_.OnStep(r, out, region.replica->applied());
  result_.ops += out.applied.size();
  for (const auto& [to, message] : out.messages)
    Send(r, to, message);
}

void Simulation::Send(RegionId from, RegionId to, const pb::PeerMessage& m) {
  ++result_.messages;
  auto pair = std::make_pair(std::min(from, to), std::max(from, to));
  if (cuts_[pair] > 0) return;
  if (random_.Chance(o_.loss)) {
    ++result_.faults;
    return;
  }
  const std::string bytes = m.SerializeAsString();
  const int copies = random_.Chance(o_.duplication) ? 2 : 1;
  if (copies == 2) ++result_.faults;
  for (int i = 0; i < copies; ++i) {
    const int64_t jitter = random_.Range(-static_cast<int64_t>(o_.jitter_ms) / 2,
                                         static_cast<int64_t>(o_.jitter_ms) / 2);
    const int64_t delay = std::max<int64_t>(1, o_.rtt_ms[from][to] / 2 + jitter);
    Schedule(now_ + static_cast<uint64_t>(delay), DeliverEvent{from, to, epochs_[pair], bytes});
  }
}

void Simulation::Handle(const TickEvent& e) {
  Schedule(now_ + o_.tick_ms, e);
  Region& region = regions_[e.region];
  if (!region.replica) return;
  Output out;
  region.replica->Tick(Physical(e.region), &out);
  Commit(e.region, out);
}

void Simulation::Handle(const DeliverEvent& e) {
  Region& region = regions_[e.to];
  auto pair = std::make_pair(std::min(e.from, e.to), std::max(e.from, e.to));
  if (!region.replica || !regions_[e.from].replica || epochs_[pair] != e.epoch) return;
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
  MERIDIAN_ASSERT_MSG(reply.ok(), "the simulated workload only makes valid writes");
  if (!reply->deduplicated) {
    for (const AppliedOp& op : out.applied) {
      if (op.dot == reply->dot) w.created.push_back({w.id, op.dot, op.deps, op.stamp});
    }
  }
  Commit(r, out);
  Trace("write " + std::to_string(w.id) + " at " + std::to_string(r) + " -> " +
        reply->dot.ToString() + (reply->deduplicated ? " (deduplicated)" : ""));
  if (!w.write.idempotency_key.empty() && random_.Chance(o_.reply_loss)) {
    ++result_.faults;
    return retry();  // the reply was lost; only a write with a key may be retried safely
  }
  w.acknowledged = true;
}

void Simulation::Handle(const CrashEvent& e) {
  Region& region = regions_[e.region];
  if (!region.replica || healed_) return;
  Trace("crash " + std::to_string(e.region));
  region.disk->SimulateCrash();
  region.replica.reset();
  Schedule(now_ + e.down_ms, RestartEvent{e.region});
}

void Simulation::Handle(const RestartEvent& e) {
  Region& region = regions_[e.region];
  if (region.replica) return;
  Trace("restart " + std::to_string(e.region));
  auto recovered = Replica::Recover(ReplicaFor(e.region), *region.disk);
  MERIDIAN_ASSERT_MSG(recovered.ok(), "recovery from the simulated disk failed");
  region.replica = std::move(recovered).value();
  checker_.OnRestart(e.region, region.replica->applied());
  for (RegionId peer : region.replica->neighbors()) {
    auto pair = std::make_pair(std::min(peer, e.region), std::max(peer, e.region));
    ++epochs_[pair];  // the restarted process has new connections: old bytes are gone
    Output out;
    region.replica->OnPeerConnected(peer, &out);
    Commit(e.region, out);
    if (regions_[peer].replica) {
      Output peer_out;
      regions_[peer].replica->OnPeerConnected(e.region, &peer_out);
      Commit(peer, peer_out);
    }
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
  for (auto [x, y] : {std::pair{e.a, e.b}, std::pair{e.b, e.a}}) {
    if (!regions_[x].replica) continue;
    Output out;
    regions_[x].replica->OnPeerConnected(y, &out);
    Commit(x, out);
  }
}

void Simulation::HealEverything() {
  healed_ = true;
  cuts_.clear();
  o_.loss = 0;
  o_.duplication = 0;
  for (RegionId r = 0; r < o_.regions; ++r)
    Handle(RestartEvent{r});
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
      if (!(a->first == b->first) || StateBytes(a->second) != StateBytes(b->second)) return false;
    }
  }
  return true;
}

SimResult Simulation::Run() {
  const uint64_t heal_at = o_.workload_ms + kHealSlackMs;
  const uint64_t deadline = heal_at + o_.quiesce_deadline_ms;
  uint64_t next_check = heal_at;
  bool quiet = false;
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
      quiet = Quiescent();
      if (quiet) result_.converge_ms = now_ - heal_at;
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
          " resends " + std::to_string(st.resends) + " malformed " +
          std::to_string(st.malformed_messages) + peers);
  }
  checker_.CheckQuiescent(replicas, writes);
  for (const auto& v : checker_.violations())
    result_.violations.push_back(v);
  if (!quiet) {
    result_.violations.push_back("did not quiesce within " +
                                 std::to_string(o_.quiesce_deadline_ms) + " ms after healing");
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
