// RegionNode: recovery, the events, steps and durability, health. Reads, waits and handles are in
// region_node_requests.cc.
#include "node/region_node.h"

#include <algorithm>
#include <utility>

#include "base/assert.h"
#include "node/prefixed_storage.h"
#include "replica/storage_keys.h"

namespace meridian {

const char* WalSyncName(WalSync mode) {
  return mode == WalSync::kPeriodic ? "periodic" : "always";
}

std::string_view RegionHealthName(RegionHealth health) {
  switch (health) {
    case RegionHealth::kCatchingUp:
      return "catching_up";
    case RegionHealth::kOk:
      return "ok";
    case RegionHealth::kDraining:
      return "draining";
    case RegionHealth::kFailed:
      return "failed";
  }
  return "unknown";
}

namespace {

Result<bool> StorageIsEmpty(const Storage& storage) {
  bool empty = true;
  Status scanned = storage.Scan("", [&empty](std::string_view, std::string_view) {
    empty = false;
    return Aborted("found a record");  // stops the scan at the first record
  });
  if (!empty) return false;
  if (!scanned.ok()) return scanned;
  return true;
}

// A pinned group's records: "g" and its mask in hex, apart from every other record kind.
std::string GroupStoragePrefix(RegionMask mask) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "g";
  for (int shift = 28; shift >= 0; shift -= 4)
    out.push_back(kHex[(mask >> shift) & 0xF]);
  out.push_back('/');
  return out;
}

// The replica options of `group`: ids are member indexes, and members replicate as a mesh.
ReplicaOptions GroupReplicaOptions(const ReplicaOptions& base, const ReplicationGroupLayout& group,
                                   RegionId self) {
  ReplicaOptions o = base;
  const auto it = std::find(group.members.begin(), group.members.end(), self);
  o.self = static_cast<RegionId>(it - group.members.begin());
  o.region_count = static_cast<RegionId>(group.members.size());
  o.topology = Topology::kMesh;
  o.hub = 0;
  return o;
}

// The handle node options of `group`: ids are member indexes, a majority of members decides.
StrongOptions GroupStrongOptions(const StrongOptions& base, const ReplicationGroupLayout& group,
                                 RegionId self) {
  StrongOptions o = base;
  const auto it = std::find(group.members.begin(), group.members.end(), self);
  MERIDIAN_ASSERT(it != group.members.end());
  o.self = static_cast<RegionId>(it - group.members.begin());
  o.region_count = static_cast<RegionId>(group.members.size());
  o.random_seed = base.random_seed ^ (uint64_t{group.mask} << 32);  // its own backoff draws
  return o;
}

}  // namespace

Result<std::unique_ptr<RegionNode>> RegionNode::Recover(
    RegionNodeOptions options, const Storage& storage,
    const std::function<void(uint64_t)>& progress) {
  if (options.region_names.size() != options.replica.region_count) {
    return InvalidArgument("region node: one name per region needed");
  }
  if (options.residency.empty()) options.residency = Residency(options.replica.region_count);
  if (!options.subject_patterns.empty() && !options.random_bytes) {
    return InvalidArgument("region node: subject patterns need a source of random bytes");
  }
  const Residency& residency = options.residency;
  if (residency.groups().front().members.size() != options.replica.region_count) {
    return InvalidArgument("region node: the residency rules are for another cluster size");
  }
  bool fresh = false;  // a cluster's birth: every replica starts complete (no rejoin wait)
  if (options.new_cluster) {
    auto empty = StorageIsEmpty(storage);
    if (!empty.ok()) return empty.status();
    fresh = *empty;
  }
  std::vector<PinnedGroup> pinned;
  for (size_t g = 1; g < residency.groups().size(); ++g) {
    const ReplicationGroupLayout& layout = residency.groups()[g];
    if (!Residency::Holds(layout.mask, options.replica.self)) continue;
    PinnedGroup group{g, GroupStoragePrefix(layout.mask), nullptr, nullptr};
    const ReplicaOptions group_options =
        GroupReplicaOptions(options.replica, layout, options.replica.self);
    StrongOptions strong_options = GroupStrongOptions(options.strong, layout, options.replica.self);
    const std::string name = "residency group " + MaskNames(layout.mask, options.region_names);
    if (fresh) {
      group.replica = std::make_unique<Replica>(group_options);
      strong_options.rejoining = false;
      group.strong = std::make_unique<StrongNode>(strong_options);
    } else {
      const PrefixedStorage group_storage(storage, group.storage_prefix);
      auto replica = Replica::Recover(group_options, group_storage);
      if (!replica.ok()) {
        return Status(replica.status().code(), name + ": " + replica.status().message());
      }
      group.replica = std::move(replica).value();
      // As for every region's group below: new or restored storage rejoins.
      strong_options.rejoining = group.replica->rejoining();
      auto strong = StrongNode::Recover(strong_options, group_storage);
      if (!strong.ok()) {
        return Status(strong.status().code(), name + " handles: " + strong.status().message());
      }
      group.strong = std::move(strong).value();
    }
    pinned.push_back(std::move(group));
  }
  if (fresh) {
    // The replica and the handle node persist their incarnation and marker with the first step.
    options.strong.rejoining = false;
    auto replica = std::make_unique<Replica>(options.replica);
    auto strong = std::make_unique<StrongNode>(options.strong);
    return std::unique_ptr<RegionNode>(new RegionNode(std::move(options), std::move(replica),
                                                      std::move(pinned), std::move(strong)));
  }
  auto replica = Replica::Recover(options.replica, storage, progress);
  if (!replica.ok()) return replica.status();
  // New or restored storage: the acceptor records may be behind promises this region made.
  options.strong.rejoining = (*replica)->rejoining();
  auto strong = StrongNode::Recover(options.strong, storage);
  if (!strong.ok()) {
    return Status(strong.status().code(), "handles: " + strong.status().message());
  }
  std::unique_ptr<RegionNode> node(new RegionNode(std::move(options), std::move(replica).value(),
                                                  std::move(pinned), std::move(strong).value()));
  if (Status loaded = node->vault_.Load(storage); !loaded.ok()) {
    return Status(loaded.code(), "subject keys: " + loaded.message());
  }
  return node;
}

RegionNode::RegionNode(RegionNodeOptions options, std::unique_ptr<Replica> replica,
                       std::vector<PinnedGroup> pinned, std::unique_ptr<StrongNode> strong)
    : options_(std::move(options)),
      replica_(std::move(replica)),
      pinned_(std::move(pinned)),
      strong_(std::move(strong)),
      vault_(options_.subject_patterns, options_.random_bytes,
             options_.bugs.erasure_keeps_key_records),
      links_up_(options_.replica.region_count, false),
      links_verified_(options_.replica.region_count, false) {
  durable_applied_ = SlotApplied();  // everything recovered is on disk
}

// --- residency groups (contract 6) ---

Replica* RegionNode::MutableGroupReplica(size_t group) {
  if (group == 0) return replica_.get();
  for (PinnedGroup& g : pinned_) {
    if (g.index == group) return g.replica.get();
  }
  return nullptr;
}

StrongNode* RegionNode::MutableGroupStrong(size_t group) {
  if (group == 0) return strong_.get();
  for (PinnedGroup& g : pinned_) {
    if (g.index == group) return g.strong.get();
  }
  return nullptr;
}

const StrongNode* RegionNode::group_strong(size_t group) const {
  return const_cast<RegionNode*>(this)->MutableGroupStrong(group);
}

std::vector<std::pair<size_t, const StrongNode*>> RegionNode::strong_nodes() const {
  std::vector<std::pair<size_t, const StrongNode*>> out{{0, strong_.get()}};
  for (const PinnedGroup& g : pinned_)
    out.emplace_back(g.index, g.strong.get());
  return out;
}

const Replica* RegionNode::group_replica(size_t group) const {
  return const_cast<RegionNode*>(this)->MutableGroupReplica(group);
}

std::vector<std::pair<size_t, const Replica*>> RegionNode::replicas() const {
  std::vector<std::pair<size_t, const Replica*>> out{{0, replica_.get()}};
  for (const PinnedGroup& g : pinned_)
    out.emplace_back(g.index, g.replica.get());
  return out;
}

uint32_t RegionNode::GroupSize(size_t group) const {
  return static_cast<uint32_t>(options_.residency.groups()[group].members.size());
}

std::optional<RegionId> RegionNode::LocalId(size_t group, RegionId region) const {
  const std::vector<RegionId>& members = options_.residency.groups()[group].members;
  const auto it = std::find(members.begin(), members.end(), region);
  if (it == members.end()) return std::nullopt;
  return static_cast<RegionId>(it - members.begin());
}

RegionId RegionNode::GlobalId(size_t group, RegionId local) const {
  return options_.residency.groups()[group].members[local];
}

VersionVector RegionNode::ToSlots(size_t group, const VersionVector& local) const {
  const ReplicationGroupLayout& layout = options_.residency.groups()[group];
  VersionVector slots;
  for (RegionId i = 0; i < layout.members.size(); ++i)
    slots.Set(layout.slot_base + i, local.Get(i));
  return slots;
}

VersionVector RegionNode::FromSlots(size_t group, const VersionVector& slots) const {
  const ReplicationGroupLayout& layout = options_.residency.groups()[group];
  VersionVector local;
  for (RegionId i = 0; i < layout.members.size(); ++i)
    local.Set(i, slots.Get(layout.slot_base + i));
  return local;
}

Dot RegionNode::ToSlot(size_t group, Dot local) const {
  if (local.seq == 0) return local;
  return Dot{options_.residency.groups()[group].slot_base + local.origin, local.seq};
}

VersionVector RegionNode::SlotApplied() const {
  VersionVector slots = ToSlots(0, replica_->applied());
  for (const PinnedGroup& g : pinned_)
    slots.Merge(ToSlots(g.index, g.replica->applied()));
  return slots;
}

uint32_t RegionNode::PeersHolding(Dot slot_dot) const {
  if (slot_dot.seq == 0 || slot_dot.origin >= options_.residency.slot_count()) return 0;
  const size_t group = options_.residency.SlotOwner(slot_dot.origin).first;
  const Replica* replica = group_replica(group);
  if (replica == nullptr) return 0;
  // Inside its group the write's origin is the member index (ToSlot's inverse).
  const Dot local{slot_dot.origin - options_.residency.groups()[group].slot_base, slot_dot.seq};
  uint32_t holding = 0;
  for (const PeerStatus& peer : replica->Peers())
    holding += peer.acked.Covers(local) ? 1 : 0;
  return holding;
}

bool RegionNode::HasApplied(size_t group, const VersionVector& token) const {
  return group_replica(group)->HasApplied(FromSlots(group, token));
}

Status RegionNode::SliceRefusal(std::string_view key, const char* what) {
  const KeySlices& slices = options_.slices;
  if (slices.Owns(key)) return Status::Ok();
  ++misdirected_;
  const uint32_t slot = KeyHashSlot(key);
  return Misdirected(std::string("this ") + what + "'s hash slot " + std::to_string(slot) +
                     " is held by slice " + std::to_string(slices.SliceOfSlot(slot)) + " of " +
                     std::to_string(slices.count) + ", not by slice " +
                     std::to_string(slices.index) +
                     ": send it to that slice's listener (this region's port + the slice)");
}

Result<size_t> RegionNode::GroupHere(const StateKey& key) {
  if (Status refused = SliceRefusal(key.key, "key"); !refused.ok()) return refused;
  if (options_.bugs.residency_ignored) return size_t{0};  // seeded bug (self-check)
  const size_t group = options_.residency.GroupOf(key);
  if (group == 0 || group_replica(group) != nullptr) return group;
  return MisdirectedTo(group, "key", *options_.residency.RuleFor(key));
}

Status RegionNode::MisdirectedTo(size_t group, const char* what, const ResidencyRule& rule) {
  ++misdirected_;
  // The key or name itself stays out of the message: a region outside the set does not log it.
  return Misdirected(std::string("this ") + what + " is pinned to regions " +
                     MaskNames(options_.residency.groups()[group].mask, options_.region_names) +
                     " (residency rule for prefix '" + rule.prefix + "'); region " +
                     options_.region_names[options_.replica.self] +
                     " does not hold it: send it to one of those");
}

void RegionNode::OnCommand(RequestId id, NodeCommand command, NodeTime now, NodeOutput* out) {
  if (Status refused = Refusal(); !refused.ok()) {
    out->replies.push_back({id, std::move(refused)});
    return;
  }
  if (auto* write = std::get_if<WriteCommand>(&command)) {
    HandleWrite(id, *write, now, out);
  } else if (auto* read = std::get_if<ReadCommand>(&command)) {
    HandleRead(id, *read, now, out);
  } else if (auto* scan = std::get_if<ScanCommand>(&command)) {
    ServeScan(id, *scan, now, out);
  } else if (auto* erase = std::get_if<EraseCommand>(&command)) {
    HandleErase(id, *erase, now, out);
  } else {
    HandleHandle(id, std::get<HandleCommand>(command), now, out);
  }
}

void RegionNode::OnPeerMessage(RegionId from, const pb::PeerMessage& message, NodeTime now,
                               NodeOutput* out) {
  if (health_ == RegionHealth::kFailed) return;
  if (from >= options_.replica.region_count) {  // the transport's word, yet not a region of ours
    ++peer_messages_refused_;
    return;
  }
  if (message.has_keyrings()) {           // before the body: its sealed values' keys (contract 7)
    std::vector<std::string> unanswered;  // the periodic keyring sync answers; a batch does not
    MergeKeyrings(from, message.keyrings(), kKeyringsPerMessage, out, &unanswered);
  }
  if (message.has_subject_keys()) {
    if (message.group() != 0) {
      ++peer_messages_refused_;
      return;
    }
    OnSubjectKeys(from, message.subject_keys(), now, out);
    return;
  }
  if (message.has_strong()) {
    // Contract 6: a pinned group's handle messages come from a member, to a member.
    const std::optional<size_t> group = message.group() == 0
                                            ? std::optional<size_t>(0)
                                            : options_.residency.GroupByMask(message.group());
    StrongNode* strong =
        group && (*group == 0 || message.group() != 0) ? MutableGroupStrong(*group) : nullptr;
    const std::optional<RegionId> local = group ? LocalId(*group, from) : std::nullopt;
    if (strong == nullptr || !local) {
      ++peer_messages_refused_;
      return;
    }
    strong->AdvanceClock(now.steady_ms);  // read leases (StrongNode inv. 11)
    StrongOutput step;
    strong->OnMessage(*local, message.strong(), &step);
    AbsorbStrong(*group, std::move(step), now, out);
    return;
  }
  // Contract 6: a group's message comes from a member, to a member.
  size_t group = 0;
  if (message.group() != 0) {
    const std::optional<size_t> found = options_.residency.GroupByMask(message.group());
    group = found.value_or(0);
  }
  Replica* replica = message.group() == 0 || group != 0 ? MutableGroupReplica(group) : nullptr;
  const std::optional<RegionId> local = LocalId(group, from);
  if (replica == nullptr || !local) {
    ++peer_messages_refused_;
    return;
  }
  if (message.has_scan_request()) {  // contract 8: the node answers, from the group's replica
    OnScanRequest(group, from, message.scan_request(), now, out);
    return;
  }
  if (message.has_scan_reply()) {
    OnScanReply(group, from, message.scan_reply(), out);
    return;
  }
  if (message.has_stock_rights()) {  // contract 9: the node lends, through the group's replica
    OnStockRightsRequest(group, from, message.stock_rights(), now, out);
    return;
  }
  Output step;
  if (group == 0) {
    replica->OnMessage(*local, message, now.physical_ms, &step);
  } else {
    // On the wire a group's message names its sender by region id, as the transport checks
    // against the authenticated peer; inside the group it is the member index.
    pb::PeerMessage inner = message;
    inner.set_from(*local);
    replica->OnMessage(*local, inner, now.physical_ms, &step);
  }
  for (const auto& [peer, reply] : step.read_replies)
    OnReadReply(group, peer, reply, out);
  step.read_replies.clear();
  const bool progressed = !step.applied.empty() || step.merged_snapshot.has_value();
  Absorb(group, std::move(step), out);
  if (progressed) ServeSatisfiedWaits(now, out);
  if (progressed && !stock_waits_.empty()) ServeStockWaits(now, out);  // a lend came
  if (!replication_waits_.empty()) ServeReplicatedWrites(out);         // an acknowledgement came
}

void RegionNode::OnLinkChanged(RegionId peer, bool up, NodeTime now, NodeOutput* out) {
  if (peer >= links_up_.size() || peer == options_.replica.self) return;
  links_up_[peer] = up;
  if (!up) links_verified_[peer] = false;
  // Contract 7: a peer back from a partition or a restart learns every keyring it may hold
  // (an erasure it missed among them), and answers with what it knows more of.
  if (up && vault_.enabled() && health_ != RegionHealth::kFailed) {
    SendSubjectKeys(peer, {}, now, out);
  }
  for (auto [group, unused] : replicas()) {
    const std::optional<RegionId> local = LocalId(group, peer);
    if (!local) continue;
    Replica* replica = MutableGroupReplica(group);
    if (!up) {
      replica->OnPeerDisconnected(*local);
    } else if (health_ != RegionHealth::kFailed) {
      StrongNode* strong = MutableGroupStrong(group);
      strong->AdvanceClock(now.steady_ms);  // read leases (StrongNode inv. 11)
      StrongOutput strong_step;
      strong->OnPeerConnected(*local, &strong_step);  // every link: a majority may include any
      AbsorbStrong(group, std::move(strong_step), now, out);
      Output step;
      replica->OnPeerConnected(*local, &step);  // a no-op for non-neighbours (handles only)
      Absorb(group, std::move(step), out);
    }
  }
}

void RegionNode::OnLinkVerified(RegionId peer, bool verified) {
  if (peer >= links_up_.size() || peer == options_.replica.self) return;
  links_verified_[peer] = verified && links_up_[peer];
}

void RegionNode::OnTick(NodeTime now, NodeOutput* out) {
  ExpireWaits(now, out);
  if (health_ == RegionHealth::kFailed) return;
  bool progressed = false;
  for (auto [group, unused] : replicas()) {
    Output step;
    MutableGroupReplica(group)->Tick(now.physical_ms, &step);
    progressed = progressed || !step.applied.empty() || step.merged_snapshot.has_value();
    Absorb(group, std::move(step), out);
  }
  for (auto [group, unused] : strong_nodes()) {
    StrongNode* strong = MutableGroupStrong(group);
    strong->AdvanceClock(now.steady_ms);  // read leases (StrongNode inv. 11)
    StrongOutput strong_step;
    strong->Tick(&strong_step);
    AbsorbStrong(group, std::move(strong_step), now, out);
  }
  if (progressed) ServeSatisfiedWaits(now, out);
  if (progressed && !stock_waits_.empty()) ServeStockWaits(now, out);
  if (vault_.enabled() && now.steady_ms >= next_subject_sync_ms_) {
    // A keyring message lost on a live link (a full queue drops) is repaired here.
    next_subject_sync_ms_ = now.steady_ms + static_cast<uint64_t>(options_.subject_sync_ms);
    for (RegionId peer = 0; peer < options_.replica.region_count; ++peer)
      if (peer != options_.replica.self && links_up_[peer]) SendSubjectKeys(peer, {}, now, out);
  }
  UpdateHealth();
}

void RegionNode::BeginDrain() {
  if (health_ != RegionHealth::kFailed) health_ = RegionHealth::kDraining;
}

// --- steps and durability ---

uint64_t RegionNode::TakeRecords(RecordBatch& records, NodeOutput* out) {
  if (records.empty()) return step_;
  ++step_;
  out->records.Append(std::move(records));
  step_applied_.emplace_back(step_, SlotApplied());
  return step_;
}

void RegionNode::Absorb(size_t group, Output step, NodeOutput* out) {
  const uint64_t before = step_;
  // The keys whose state the step changes (ops applied, a state transfer merged): a read of them
  // waits until the step is durable. Keys are unique across groups (a key has one group).
  for (const AppliedOp& op : step.applied)
    pending_keys_.push_back(op.target);
  for (StateKey& key : step.changed_unlogged)
    pending_keys_.push_back(std::move(key));
  if (group != 0) {
    for (const PinnedGroup& g : pinned_) {
      if (g.index == group) PrefixRecords(g.storage_prefix, step.records);
    }
  }
  TakeRecords(step.records, out);
  if (step_ != before) {
    for (StateKey& key : pending_keys_)
      undurable_keys_[std::move(key)] = step_;
  }
  pending_keys_.clear();
  if (group == 0) {
    for (auto& op : step.applied)
      out->applied.push_back(std::move(op));
  }
  const RegionMask mask = group == 0 ? 0 : options_.residency.groups()[group].mask;
  for (auto& [to, message] : step.messages) {
    message.set_group(mask);
    if (group != 0) message.set_from(options_.replica.self);  // OnPeerMessage says why
    if (group == 0 && message.has_snapshot() && options_.bugs.snapshot_includes_pinned) {
      AddPinnedStates(message.mutable_snapshot());  // seeded bug (self-check)
    }
    AttachKeyrings(GlobalId(group, to), &message);
    HoldMessage(GlobalId(group, to), std::move(message), out);
  }
}

void RegionNode::AddPinnedStates(pb::SnapshotChunk* chunk) const {
  for (const PinnedGroup& g : pinned_) {
    for (const auto& [key, stored] : g.replica->states()) {
      pb::KeyStateEntry* entry = chunk->add_entries();
      entry->set_storage_key(storage_keys::State(key));
      EncodeState(stored.state, entry->mutable_state());
    }
  }
}

void RegionNode::AbsorbStrong(size_t group, StrongOutput step, NodeTime now, NodeOutput* out) {
  if (group != 0) {
    for (const PinnedGroup& g : pinned_) {
      if (g.index == group) PrefixRecords(g.storage_prefix, step.records);
    }
  }
  TakeRecords(step.records, out);
  const RegionMask mask = group == 0 ? 0 : options_.residency.groups()[group].mask;
  for (auto& [to, strong_message] : step.messages) {
    pb::PeerMessage m;
    m.set_from(options_.replica.self);
    m.set_group(mask);
    m.set_sent_physical_ms(now.physical_ms);
    *m.mutable_strong() = std::move(strong_message);
    HoldMessage(GlobalId(group, to), std::move(m), out);
  }
  for (HandleReply& reply : step.replies) {
    const RequestId id = reply.request_id;
    if (handle_requests_.erase(id) == 0) continue;  // answered already (failure)
    // A promise or an accepted value is durable before any client hears of its outcome.
    HoldReply({id, std::move(reply)}, /*needs_sync=*/true, out);
  }
}

void RegionNode::HoldReply(NodeReply reply, bool needs_sync, NodeOutput* out) {
  const bool sync = needs_sync || options_.wal_sync == WalSync::kEveryCommit;
  const uint64_t reached = sync ? synced_ : written_;
  const bool bug = options_.bugs.ack_before_durable && !needs_sync;  // seeded bug (self-check)
  if (step_ <= reached || bug) {
    out->replies.push_back(std::move(reply));
    return;
  }
  (sync ? until_synced_ : until_written_).push_back({step_, std::move(reply), std::nullopt});
}

void RegionNode::HoldMessage(RegionId to, pb::PeerMessage message, NodeOutput* out) {
  if (step_ <= synced_) {
    out->messages.emplace_back(to, std::move(message));
    return;
  }
  until_synced_.push_back({step_, std::nullopt, std::pair{to, std::move(message)}});
}

void RegionNode::OnWritten(uint64_t step, NodeOutput* out) {
  MERIDIAN_ASSERT(step <= step_);
  written_ = std::max(written_, step);
  Release(out);
}

void RegionNode::OnSynced(uint64_t step, NodeOutput* out) {
  MERIDIAN_ASSERT(step <= step_);
  synced_ = std::max(synced_, step);
  written_ = std::max(written_, synced_);
  Release(out);
  if (!replication_waits_.empty()) ServeReplicatedWrites(out);
}

uint64_t RegionNode::durable_step() const {
  return options_.wal_sync == WalSync::kPeriodic ? written_ : synced_;
}

void RegionNode::Release(NodeOutput* out) {
  // Op batches released together for one peer (one per client write, each held for its step)
  // leave as one message, within the replica's batch bounds: a pass of fifty writes costs each
  // link one message, not fifty. Only consecutive batches of a peer merge, so per-peer order
  // is kept.
  // (peer, group) -> (index in out, bytes): batches of different groups never merge.
  std::map<std::pair<RegionId, uint32_t>, std::pair<size_t, size_t>> open_batch;
  auto send = [&](std::pair<RegionId, pb::PeerMessage> message) {
    const std::pair<RegionId, uint32_t> to{message.first, message.second.group()};
    if (!message.second.has_ops()) {
      open_batch.erase(to);
      out->messages.push_back(std::move(message));
      return;
    }
    const size_t bytes = message.second.ops().ByteSizeLong();
    auto open = open_batch.find(to);
    if (open != open_batch.end()) {
      pb::OpBatch* batch = out->messages[open->second.first].second.mutable_ops();
      if (batch->ops_size() + message.second.ops().ops_size() <=
              static_cast<int>(options_.replica.max_batch_ops) &&
          open->second.second + bytes <= options_.replica.max_message_bytes) {
        for (pb::Op& op : *message.second.mutable_ops()->mutable_ops())
          *batch->add_ops() = std::move(op);
        open->second.second += bytes;
        ++coalesced_messages_;
        return;
      }
    }
    open_batch[to] = {out->messages.size(), bytes};
    out->messages.push_back(std::move(message));
  };
  auto drain = [&](std::deque<Held>& held, uint64_t reached) {
    while (!held.empty() && held.front().step <= reached) {
      Held& h = held.front();
      if (h.reply) out->replies.push_back(std::move(*h.reply));
      if (h.message) send(std::move(*h.message));
      held.pop_front();
    }
  };
  drain(until_written_, written_);
  drain(until_synced_, synced_);
  const uint64_t durable = durable_step();
  while (!step_applied_.empty() && step_applied_.front().first <= durable) {
    durable_applied_ = std::move(step_applied_.front().second);
    step_applied_.pop_front();
  }
  if (durable >= step_) {
    undurable_keys_.clear();
  } else if (!undurable_keys_.empty()) {
    std::erase_if(undurable_keys_, [durable](const auto& e) { return e.second <= durable; });
  }
}

bool RegionNode::wants_sync() const {
  return !until_synced_.empty() && until_synced_.front().step > synced_;
}

void RegionNode::OnStorageFailed(const Status& error, NodeOutput* out) {
  MERIDIAN_ASSERT(!error.ok());
  if (health_ == RegionHealth::kFailed) return;
  if (options_.bugs.forget_storage_failure) {  // seeded bug (self-check): carries on as if written
    OnSynced(step_, out);
    return;
  }
  health_ = RegionHealth::kFailed;
  failure_ = error;
  const Status lost = Unavailable(
      "the region could not make this durable (" + error.ToString() +
      "); it may or may not take effect: retry (with the same idempotency key for a write)");
  for (auto* held : {&until_written_, &until_synced_}) {
    for (Held& h : *held) {
      if (h.reply) out->replies.push_back({h.reply->id, lost});
    }
    held->clear();
  }
  for (RequestId id : handle_requests_)
    out->replies.push_back({id, lost});
  handle_requests_.clear();
  for (const SessionWait& wait : session_waits_)
    out->replies.push_back({wait.id, Refusal()});
  session_waits_.clear();
  for (const ReplicationWait& wait : replication_waits_)
    out->replies.push_back({wait.id, lost});
  replication_waits_.clear();
  for (const auto& [unused, read] : quorum_reads_)
    out->replies.push_back({read.id, Refusal()});
  quorum_reads_.clear();
  for (const auto& [unused, scan] : global_scans_)
    out->replies.push_back({scan.id, Refusal()});
  global_scans_.clear();
  for (const StockWait& wait : stock_waits_)  // nothing was taken for them
    out->replies.push_back({wait.id, Refusal()});
  stock_waits_.clear();
}

Status RegionNode::Refusal() const {
  if (health_ != RegionHealth::kFailed) return Status::Ok();
  return Unavailable("region " + options_.region_names[options_.replica.self] +
                     " failed to write to its storage and refuses requests until restarted: " +
                     failure_.ToString());
}

void RegionNode::UpdateHealth() {
  if (health_ != RegionHealth::kCatchingUp) return;
  // The core decides (Replica::catch_up): it has heard from a peer and holds what each peer it
  // heard from had then; a region that has heard from none is not caught up, however long it
  // waits. New or restored storage also waits until it holds its own ops and its handles'
  // acceptor records again.
  const CatchUpStatus status = replica_->catch_up();
  if (!status.caught_up || status.rejoining || strong_->rejoining()) return;
  health_ = RegionHealth::kOk;
}

NodeStats RegionNode::stats() const {
  NodeStats s;
  s.steps = step_;
  for (const auto* held : {&until_written_, &until_synced_}) {
    for (const Held& h : *held) {
      s.held_replies += h.reply ? 1 : 0;
      s.held_messages += h.message ? 1 : 0;
    }
  }
  s.session_waits = session_waits_.size();
  s.quorum_reads = quorum_reads_.size();
  s.global_scans = global_scans_.size();
  s.replication_waits = replication_waits_.size();
  s.coalesced_messages = coalesced_messages_;
  s.peer_messages_refused = peer_messages_refused_;
  s.read_replies_refused = read_replies_refused_;
  s.misdirected = misdirected_;
  s.subjects_erased = subjects_erased_;
  s.subject_keys_refused = subject_keys_refused_;
  s.stock_waits = stock_waits_.size();
  s.rights_requests = rights_requests_;
  s.rights_lent = rights_lent_;
  s.stock_refused = stock_refused_;
  return s;
}

}  // namespace meridian
