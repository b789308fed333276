// Replica construction, reads and status. The message handlers live in the files named in
// replica.h, one per protocol concern.
#include "replica/replica.h"

#include <algorithm>

#include "replica/storage_keys.h"

namespace meridian {
namespace {

std::vector<RegionId> NeighborsOf(const ReplicaOptions& o) {
  std::vector<RegionId> out;
  const RegionId n = o.region_count;
  switch (o.topology) {
    case Topology::kMesh:
      for (RegionId r = 0; r < n; ++r) {
        if (r != o.self) out.push_back(r);
      }
      break;
    case Topology::kHub:
      if (o.self == o.hub) {
        for (RegionId r = 0; r < n; ++r) {
          if (r != o.self) out.push_back(r);
        }
      } else {
        out.push_back(o.hub);
      }
      break;
    case Topology::kRing:
      if (n > 1) {
        out.push_back((o.self + 1) % n);
        const RegionId prev = (o.self + n - 1) % n;
        if (prev != out.front()) out.push_back(prev);
      }
      break;
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

Replica::Replica(ReplicaOptions options)
    : options_(options),
      neighbors_(NeighborsOf(options)),
      clock_(options.hlc),
      buffer_(options.max_buffered_ops),
      stability_(options.self, options.region_count),
      conflicts_(options.conflict_log_capacity),
      incarnation_(options.incarnation),
      incarnation_unwritten_(true) {
  MERIDIAN_ASSERT(options.region_count >= 1 && options.region_count <= kMaxRegions);
  MERIDIAN_ASSERT(options.self < options.region_count);
  MERIDIAN_ASSERT(options.hub < options.region_count);
  MERIDIAN_ASSERT(options.incarnation != 0);
  for (RegionId r : neighbors_)
    peers_[r] = PeerLink{};
  // A replica made here is a region at its cluster's birth: nobody holds ops of ours, so no
  // rejoin wait (a region recovered from storage without an incarnation waits; recovery.cc).
  for (RegionId r : neighbors_)
    catch_up_.not_heard.push_back(r);
}

void Replica::BeginStep(Output* out) {
  if (states_through_unwritten_) {
    // From here on a restart replays the log from m:states (invariant 10), so it must exist.
    states_through_unwritten_ = false;
    SaveStates(out);
    out->records.Put(std::string(storage_keys::kStatesThrough),
                     storage_keys::EncodeU64(oplog_.end_index()));
  }
  if (!incarnation_unwritten_) return;
  incarnation_unwritten_ = false;
  out->records.Put(std::string(storage_keys::kIncarnation), storage_keys::EncodeU64(incarnation_));
  if (rejoining_) out->records.Put(std::string(storage_keys::kRejoinPending), "");
}

ReadResult Replica::Read(const StateKey& key) const {
  ReadResult result;
  result.applied = applied_;
  auto it = FindState(key);
  if (it != states_.end()) result.state = it->second.state;
  return result;
}

CatchUpStatus Replica::catch_up() const {
  CatchUpStatus status = catch_up_;
  status.rejoining = rejoining_;
  if (inbound_) {
    status.inbound =
        TransferProgress{inbound_->from,       inbound_->transfer_id, inbound_->keys,
                         inbound_->total_keys, inbound_->bytes,       inbound_->started_tick};
  }
  for (const auto& [peer, link] : peers_) {
    if (!link.transfer) continue;
    const OutboundTransfer& t = *link.transfer;
    status.outbound.push_back(
        TransferProgress{peer, t.id, t.keys_acked, t.total_keys, t.bytes_acked, t.started_tick});
  }
  return status;
}

std::vector<PeerStatus> Replica::Peers() const {
  std::vector<PeerStatus> out;
  for (const auto& [region, link] : peers_) {
    PeerStatus s;
    s.region = region;
    s.acked = link.acked;
    s.heard_from = link.ack_seen;
    s.clock_offset_ms = link.clock_offset_ms;
    for (RegionId origin = 0; origin < options_.region_count; ++origin) {
      if (!ShouldForward(origin, region)) continue;
      const uint64_t have = applied_.Get(origin), acked = link.acked.Get(origin);
      if (have > acked) s.backlog_ops += have - acked;
    }
    out.push_back(s);
  }
  return out;
}

bool Replica::ShouldForward(RegionId origin, RegionId peer) const {
  if (origin == peer) return false;
  return options_.topology == Topology::kMesh ? origin == options_.self : true;
}

bool Replica::ShouldSend(const OplogEntry& entry, RegionId peer) const {
  if (ShouldForward(entry.dot.origin, peer)) return true;
  return options_.topology == Topology::kMesh && entry.dot.origin != peer &&
         tick_ - entry.logged_tick >= options_.relay_after_ticks;
}

bool Replica::LacksRelayableOps(RegionId peer) const {
  const PeerLink& link = peers_.at(peer);
  for (RegionId origin = 0; origin < options_.region_count; ++origin) {
    if (origin == peer || origin == options_.self) continue;
    if (applied_.Get(origin) > link.acked.Get(origin)) return true;
  }
  return false;
}

pb::PeerMessage Replica::NewMessage(uint64_t physical_ms) const {
  pb::PeerMessage m;
  m.set_from(options_.self);
  m.set_sent_physical_ms(physical_ms);
  m.set_incarnation(incarnation_);
  return m;
}

Replica::StatesIterator Replica::FindState(const StateKey& key) {
  return index_.Find(key.data_class, key.key).value_or(states_.end());
}

std::map<StateKey, Replica::StoredState>::const_iterator Replica::FindState(
    const StateKey& key) const {
  auto found = index_.Find(key.data_class, key.key);
  return found ? *found : states_.end();
}

Replica::StatesIterator Replica::EmplaceState(const StateKey& key, bool* inserted) {
  if (auto found = index_.Find(key.data_class, key.key)) {
    if (inserted != nullptr) *inserted = false;
    return *found;
  }
  auto it = states_.try_emplace(key, StoredState{EmptyState(key.data_class), 0, {}, false}).first;
  index_.Insert(it);
  if (inserted != nullptr) *inserted = true;
  return it;
}

void Replica::TEST_CorruptState(const StateKey& key, KeyState state) {
  Output ignored;
  PutState(key, state, &ignored);
  SaveStates(&ignored);
}

}  // namespace meridian
