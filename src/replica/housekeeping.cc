// Time-driven work: resends, acks, state transfers, garbage collection, oplog truncation and
// anti-entropy rounds. Every period counts ticks.
#include "clock/clock_codec.h"
#include "replica/replica.h"
#include "replica/storage_keys.h"

namespace meridian {

void Replica::Tick(uint64_t physical_ms, Output* out) {
  ++tick_;
  last_physical_ms_ = physical_ms;
  BeginStep(out);
  chunks_this_tick_ = 0;
  UpdateCatchUp(physical_ms, out);
  for (RegionId peer : neighbors_) {
    PeerLink& link = peers_.at(peer);
    if (link.link_down && (link.transfer || NeedsSnapshot(peer))) continue;  // resumes when up
    if (link.transfer) {
      OutboundTransfer& t = *link.transfer;
      if (!t.unacked.empty() && tick_ - t.last_progress_tick >= options_.snapshot_retry_ticks) {
        ++stats_.resends;
        t.last_progress_tick = tick_;
        if (options_.bugs.skip_lost_snapshot_chunk) {
          t.unacked.clear();  // the bug: carry on as if the chunks had arrived
        } else {
          ResumeTransfer(t);
        }
      }
      PumpTransfer(peer, physical_ms, out);
      continue;
    }
    if (tick_ >= link.transfer_retry_tick && NeedsSnapshot(peer)) {
      StartTransfer(peer, out);
      PumpTransfer(peer, physical_ms, out);
      continue;
    }
    if (!link.unacked.empty() && tick_ - link.last_progress_tick >= options_.resend_timeout_ticks) {
      ++stats_.resends;
      Rewind(peer);
    } else if (options_.topology == Topology::kMesh && link.unacked.empty() &&
               tick_ % options_.relay_after_ticks == 0 && LacksRelayableOps(peer)) {
      // Ops of a third origin the peer still lacks were passed over while young; look again.
      Rewind(peer);
    }
    Pump(peer, physical_ms, out);
  }
  if (tick_ % options_.ack_interval_ticks == 0) {
    for (RegionId peer : neighbors_)
      SendAck(peer, physical_ms, out);
  }
  if (tick_ % options_.gc_interval_ticks == 0) {
    CollectGarbage(out);
    TruncateOplog(out);
  }
  if (tick_ % options_.anti_entropy_interval_ticks == 0) StartAntiEntropy(physical_ms, out);
  // After TruncateOplog: a log entry it dropped may be all that recorded an op's dot or stamp.
  CheckpointMarks(out);
}

void Replica::CollectGarbage(Output* out) {
  // While rejoining, our own vector (our report to ourselves) is below ops of ours that exist
  // elsewhere: see HandleAck.
  if (rejoining_) return;
  const VersionVector& stable = stability_.stable();
  size_t visited = 0;
  for (auto it = garbage_keys_.begin();
       it != garbage_keys_.end() && visited < options_.gc_max_keys_per_round; ++visited) {
    KeyState state = states_.at(*it).state;
    const size_t dropped = CollectStateGarbage(state, stable, applied_);
    if (dropped > 0) {
      stats_.garbage_collected += dropped;
      PutState(*it, state, out);
    }
    it = HasCollectableGarbage(state) ? std::next(it) : garbage_keys_.erase(it);
  }
  SaveStates(out);  // what was collected is in no log entry (invariant 10)
  for (const auto& key : idempotency_.Collect(stable, options_.idempotency_records_soft_max,
                                              options_.self, applied_)) {
    out->records.Delete(storage_keys::Idempotency(key));
  }
}

void Replica::TruncateOplog(Output* out) {
  auto acknowledged_by_all = [this](const OplogEntry& entry) {
    for (RegionId peer : neighbors_) {
      // In a mesh every neighbour but the origin may still need the op relayed (ShouldSend).
      const bool may_send = options_.topology == Topology::kMesh
                                ? entry.dot.origin != peer
                                : ShouldForward(entry.dot.origin, peer);
      if (may_send && !peers_.at(peer).acked.Covers(entry.dot)) return false;
    }
    return true;
  };
  SaveStates(out);  // every entry dropped below is then in the saved states (invariant 10)
  const uint64_t first = oplog_.first_index();
  oplog_.DropFront(acknowledged_by_all);
  const uint64_t min_tick =
      tick_ > options_.oplog_retention_ticks ? tick_ - options_.oplog_retention_ticks : 0;
  oplog_.DropBeyond(options_.oplog_retention_ops, options_.oplog_retention_bytes, min_tick);
  // One range delete for the whole trim, however many entries it drops: oplog keys sort by index
  // (storage_keys::Oplog), so [first, new first) is exactly the dropped entries' records. Per-entry
  // deletes cost a WAL record per client write; this costs one per truncation.
  out->records.DeleteRange(storage_keys::Oplog(first), storage_keys::Oplog(oplog_.first_index()));
  for (auto& [peer, link] : peers_) {
    if (link.acked == link.persisted_acked) continue;
    link.persisted_acked = link.acked;
    pb::VersionVector acked;
    Encode(link.acked, &acked);
    out->records.Put(storage_keys::PeerAcked(peer), acked.SerializeAsString());
  }
}

}  // namespace meridian
