// State transfer: catching up a peer whose missing ops are no longer in the oplog. The whole
// state goes in chunks; the receiver stages them and merges all at once, so it never exposes a
// partial (causally incomplete) snapshot.
#include "clock/clock_codec.h"
#include "replica/replica.h"
#include "replica/storage_keys.h"

namespace meridian {

bool Replica::NeedsSnapshot(RegionId peer) const {
  const PeerLink& link = peers_.at(peer);
  if (!link.ack_seen) return false;  // we do not yet know what it has
  for (RegionId origin = 0; origin < options_.region_count; ++origin) {
    if (ShouldForward(origin, peer) && link.acked.Get(origin) < oplog_.floor().Get(origin)) {
      return true;
    }
  }
  return false;
}

void Replica::SendSnapshot(RegionId peer, uint64_t physical_ms, Output* out) {
  PeerLink& link = peers_.at(peer);
  link.snapshot_started_tick = tick_;
  link.unacked.clear();
  ++stats_.snapshots_sent;
  const uint64_t transfer_id = next_transfer_id_++;
  uint32_t index = 0;
  auto new_chunk = [&]() {
    pb::PeerMessage m = NewMessage(physical_ms);
    auto* chunk = m.mutable_snapshot();
    chunk->set_transfer_id(transfer_id);
    chunk->set_index(index++);
    Encode(applied_, chunk->mutable_applied());
    return m;
  };
  pb::PeerMessage m = new_chunk();
  size_t chunk_bytes = 0;
  for (const auto& [key, state] : states_) {
    if (static_cast<size_t>(m.snapshot().entries_size()) >= options_.snapshot_chunk_keys ||
        chunk_bytes >= options_.max_message_bytes) {
      out->messages.emplace_back(peer, std::move(m));
      m = new_chunk();
      chunk_bytes = 0;
    }
    auto* entry = m.mutable_snapshot()->add_entries();
    entry->set_storage_key(storage_keys::State(key));
    EncodeState(state, entry->mutable_state());
    chunk_bytes += entry->ByteSizeLong();
  }
  for (const auto& [key, record] : idempotency_.records()) {
    auto* entry = m.mutable_snapshot()->add_idempotency();
    entry->set_idempotency_key(key);
    IdempotencyTable::Encode(record, entry->mutable_record());
  }
  m.mutable_snapshot()->set_last(true);
  out->messages.emplace_back(peer, std::move(m));
}

void Replica::HandleSnapshotChunk(RegionId from, const pb::SnapshotChunk& chunk,
                                  uint64_t physical_ms, Output* out) {
  StagedSnapshot& staged = staged_snapshots_[from];
  if (chunk.index() == 0) staged = StagedSnapshot{chunk.transfer_id(), 0, {}};
  if (chunk.transfer_id() != staged.transfer_id || chunk.index() != staged.next_index) {
    staged_snapshots_.erase(from);  // a gap: drop it; the sender restarts after its timeout
    return;
  }
  staged.chunks.push_back(chunk);
  ++staged.next_index;
  if (!chunk.last()) return;
  std::vector<pb::SnapshotChunk> chunks = std::move(staged.chunks);
  staged_snapshots_.erase(from);
  if (!MergeSnapshot(chunks, physical_ms, out).ok()) {
    ++stats_.malformed_messages;
    return;
  }
  SendAck(from, physical_ms, out);
}

Status Replica::MergeSnapshot(const std::vector<pb::SnapshotChunk>& chunks, uint64_t physical_ms,
                              Output* out) {
  auto vv = Decode(chunks.back().applied());
  if (!vv.ok()) return vv.status();
  // Validate everything before changing anything: a bad snapshot changes nothing.
  for (const auto& chunk : chunks) {
    for (const auto& entry : chunk.entries()) {
      auto key = storage_keys::ParseState(entry.storage_key());
      if (!key.ok()) return key.status();
      if (!DecodeState(entry.state(), key->data_class).ok()) return InvalidArgument("bad state");
    }
    for (const auto& entry : chunk.idempotency()) {
      if (!IdempotencyTable::Decode(entry.record()).ok()) return InvalidArgument("bad record");
    }
  }
  for (const auto& chunk : chunks) {
    for (const auto& entry : chunk.entries()) {
      bool changed = false;
      MERIDIAN_ASSERT(MergeEntry(entry, out, &changed).ok());
    }
  }
  VersionVector not_logged;  // other origins' ops the snapshot covers; our own are all logged
  for (RegionId r = 0; r < options_.region_count; ++r) {
    if (r != options_.self) not_logged.Set(r, vv->Get(r));
  }
  applied_.Merge(*vv);
  PersistApplied(out);
  oplog_.RaiseFloor(not_logged);
  ++stats_.snapshots_applied;
  out->merged_snapshot = *vv;
  for (const auto& chunk : chunks) {
    for (const auto& entry : chunk.idempotency()) {
      const auto& record = idempotency_.MergeRecord(entry.idempotency_key(),
                                                    *IdempotencyTable::Decode(entry.record()));
      for (const auto& loser : IdempotencyTable::PendingCompensations(record, options_.self)) {
        Compensate(entry.idempotency_key(), loser, physical_ms, out);
      }
      PersistIdempotency(entry.idempotency_key(), out);
    }
  }
  ApplyReadyBuffered(physical_ms, out);
  stability_.OnApplied(applied_);
  return Status::Ok();
}

}  // namespace meridian
