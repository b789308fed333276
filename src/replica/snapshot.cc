// State transfer: catching up a peer whose missing ops are no longer in the oplog, or that lost
// ops of its own origin (a new incarnation). The sender streams its states in key order, then its
// idempotency records, in chunks produced on demand: at most snapshot_window_chunks in flight and
// snapshot_chunks_per_tick per tick, resumed from the last acknowledged chunk after a timeout or a
// reconnect. The receiver stages the chunks and, with the last one, merges them and adopts the
// transfer's base vector in one step.
//
// Why a consistent snapshot, merged at once (and not each chunk as it arrives): a state that
// shows ops its region's vector does not cover breaks what the rest of the protocol assumes. The
// region's own next op would depend on ops it does not name (a peer applying it first would meet
// an OR-set remove of a dot it never saw), and if the sender lost its disk before finishing, the
// receiver would hold effects of ops that no region can name any more, whose sequence numbers
// the sender's next incarnation then hands out again. So chunks show the sender's states as of
// the base (FreezeForTransfers keeps the old state of a key that changes before it is sent), and
// nothing of a transfer is visible before all of it is. The price is memory for the staged
// states at the receiver, about what they take once merged.
//
// Ops the base covers that reach the receiver before the transfer ends (from other peers) are
// applied to its live states; merging the staged states on top is safe because merge is a join:
// counter totals take the maximum, OR-sets and registers carry causal contexts, and an LWW map
// whose tombstones the sender collected carries the vector of ops it reflects (crdt/lww_map.h),
// so an op the sender applied and then deleted is not resurrected by its late copy here.
#include <algorithm>

#include "clock/clock_codec.h"
#include "replica/replica.h"
#include "replica/storage_keys.h"

namespace meridian {

bool Replica::NeedsSnapshot(RegionId peer) const {
  const PeerLink& link = peers_.at(peer);
  if (!link.ack_seen) return false;  // we do not yet know what it has
  // It came back with less of its own ops than we hold: the stream never sends a region its own
  // ops, so only a transfer brings them back.
  if (link.peer_rejoining && link.acked.Get(peer) < applied_.Get(peer)) return true;
  for (RegionId origin = 0; origin < options_.region_count; ++origin) {
    if (ShouldForward(origin, peer) && link.acked.Get(origin) < oplog_.floor().Get(origin)) {
      return true;
    }
  }
  return false;
}

void Replica::FreezeForTransfers(const StateKey& key) {
  for (auto& [peer, link] : peers_) {
    if (!link.transfer) continue;
    OutboundTransfer& t = *link.transfer;
    if (t.acked_after && !(*t.acked_after < key)) continue;  // already delivered as of the base
    if (t.frozen.count(key) != 0) continue;                  // the base's state is kept
    if (t.frozen.size() >= options_.max_frozen_keys) {
      // Too much changed under this transfer: start over later from a newer base.
      ++stats_.snapshots_abandoned;
      link.transfer.reset();
      link.transfer_retry_tick = tick_ + options_.snapshot_retry_ticks;
      Rewind(peer);
      continue;
    }
    auto it = FindState(key);
    t.frozen.emplace(key, it == states_.end() ? std::nullopt : std::optional(it->second.state));
  }
}

void Replica::StartTransfer(RegionId peer, Output* out) {
  PeerLink& link = peers_.at(peer);
  OutboundTransfer t;
  t.id = next_transfer_id_++;
  out->records.Put(std::string(storage_keys::kNextTransferId),
                   storage_keys::EncodeU64(next_transfer_id_));
  t.base = applied_;
  t.total_keys = states_.size();
  t.started_tick = t.last_progress_tick = tick_;
  link.transfer = std::move(t);
  link.unacked.clear();
  ++stats_.snapshots_sent;
}

void Replica::ResumeTransfer(OutboundTransfer& t) {
  if (t.unacked.empty()) return;
  const auto& [index, first] = *t.unacked.begin();
  t.next_index = index;
  t.after = first.after;
  t.states_done = first.states_done;
  t.after_idempotency = first.after_idempotency;
  t.produced_last = false;
  t.unacked.clear();
}

void Replica::PumpTransfer(RegionId peer, uint64_t physical_ms, Output* out) {
  PeerLink& link = peers_.at(peer);
  if (!link.transfer) return;
  OutboundTransfer& t = *link.transfer;
  while (!t.produced_last && t.unacked.size() < options_.snapshot_window_chunks &&
         chunks_this_tick_ < options_.snapshot_chunks_per_tick) {
    out->messages.emplace_back(peer, NextChunk(t, physical_ms));
    ++chunks_this_tick_;
  }
}

pb::PeerMessage Replica::NextChunk(OutboundTransfer& t, uint64_t physical_ms) {
  pb::PeerMessage m = NewMessage(physical_ms);
  pb::SnapshotChunk* chunk = m.mutable_snapshot();
  chunk->set_transfer_id(t.id);
  chunk->set_index(t.next_index);
  chunk->set_total_keys(t.total_keys);
  Encode(t.base, chunk->mutable_applied());
  OutboundTransfer::Sent sent{t.after, t.states_done, t.after_idempotency};
  size_t keys = 0, bytes = 0;
  auto room = [&] {
    return keys < options_.snapshot_chunk_keys && bytes < options_.max_message_bytes;
  };
  if (!t.states_done) {
    auto it = t.after ? states_.upper_bound(*t.after) : states_.begin();
    for (; it != states_.end() && room(); ++it) {
      t.after = it->first;
      auto frozen = t.frozen.find(it->first);
      const KeyState* state = frozen == t.frozen.end() ? &it->second.state
                              : frozen->second         ? &*frozen->second
                                                       : nullptr;
      if (state == nullptr) continue;  // created after the base
      auto* entry = chunk->add_entries();
      entry->set_storage_key(storage_keys::State(it->first));
      EncodeState(*state, entry->mutable_state());
      bytes += entry->ByteSizeLong();
      ++keys;
    }
    if (it == states_.end()) t.states_done = true;
  }
  if (t.states_done) {
    const auto& records = idempotency_.records();
    auto it = records.upper_bound(t.after_idempotency);  // keys are never empty
    for (; it != records.end() && room(); ++it, ++keys) {
      auto* entry = chunk->add_idempotency();
      entry->set_idempotency_key(it->first);
      IdempotencyTable::Encode(it->second, entry->mutable_record());
      bytes += entry->ByteSizeLong();
      t.after_idempotency = it->first;
    }
    if (it == records.end()) {
      chunk->set_last(true);
      t.produced_last = true;
    }
  }
  sent.keys = chunk->entries_size();
  sent.bytes = bytes;
  t.unacked[t.next_index++] = std::move(sent);
  ++stats_.snapshot_chunks_sent;
  stats_.snapshot_bytes_sent += bytes;
  return m;
}

void Replica::HandleSnapshotAck(RegionId from, const pb::SnapshotAck& ack, uint64_t physical_ms,
                                Output* out) {
  PeerLink& link = peers_.at(from);
  if (!link.transfer || link.transfer->id != ack.transfer_id()) return;  // an older transfer's
  OutboundTransfer& t = *link.transfer;
  if (ack.declined()) {
    // It takes another region's transfer first (or lost track of ours): offer it again later,
    // when what it then acknowledges tells whether it still needs one.
    link.transfer.reset();
    link.transfer_retry_tick = tick_ + options_.snapshot_retry_ticks;
    Rewind(from);
    return;
  }
  if (ack.from_start()) {
    if (!t.acked_after && !t.unacked.empty() && t.unacked.begin()->first == 0) {
      ResumeTransfer(t);  // nothing acknowledged yet: every changed key is still frozen
    } else {
      link.transfer.reset();  // the receiver lost what it had: a new base, at once
      StartTransfer(from, out);
    }
    PumpTransfer(from, physical_ms, out);
    return;
  }
  bool progress = false;
  while (!t.unacked.empty() && t.unacked.begin()->first <= ack.applied_index()) {
    t.keys_acked += t.unacked.begin()->second.keys;
    t.bytes_acked += t.unacked.begin()->second.bytes;
    t.unacked.erase(t.unacked.begin());
    progress = true;
  }
  if (!progress) return;
  // Delivered up to where the next unacknowledged chunk begins (or as far as produced).
  t.acked_after = t.unacked.empty() ? t.after : t.unacked.begin()->second.after;
  if (t.acked_after) t.frozen.erase(t.frozen.begin(), t.frozen.upper_bound(*t.acked_after));
  t.last_progress_tick = tick_;
  if (t.produced_last && t.unacked.empty()) {
    // The peer merged all of it and adopted the base vector with the last chunk.
    link.acked.Merge(t.base);
    link.transfer.reset();
    Rewind(from);
    Pump(from, physical_ms, out);
    return;
  }
  PumpTransfer(from, physical_ms, out);
}

void Replica::SendSnapshotAck(RegionId to, uint64_t transfer_id, uint32_t applied_index,
                              bool declined, uint64_t physical_ms, Output* out) {
  pb::PeerMessage m = NewMessage(physical_ms);
  pb::SnapshotAck* ack = m.mutable_snapshot_ack();
  ack->set_transfer_id(transfer_id);
  ack->set_applied_index(applied_index);
  ack->set_declined(declined);
  out->messages.emplace_back(to, std::move(m));
}

Status Replica::ValidateChunk(const pb::SnapshotChunk& chunk) const {
  auto vv = Decode(chunk.applied());
  if (!vv.ok()) return vv.status();
  // Rules 2, 5 and 6 of peer_input.h: the base is adopted whole when the transfer ends.
  MERIDIAN_RETURN_IF_ERROR(CheckVectorRegions(*vv, options_.region_count));
  if (ClaimsUnknownOwnOps(*vv)) return InvalidArgument("chunk base claims ops of ours we lack");
  for (const auto& entry : chunk.entries()) {
    auto key = storage_keys::ParseState(entry.storage_key());
    if (!key.ok()) return key.status();
    MERIDIAN_RETURN_IF_ERROR(CheckKeyBounds(*key));
    if (!DecodeState(entry.state(), key->data_class).ok()) return InvalidArgument("bad state");
  }
  for (const auto& entry : chunk.idempotency()) {
    if (entry.idempotency_key().empty() || !IdempotencyTable::Decode(entry.record()).ok()) {
      return InvalidArgument("bad idempotency record");
    }
  }
  return Status::Ok();
}

void Replica::HandleSnapshotChunk(RegionId from, const pb::SnapshotChunk& chunk,
                                  uint64_t physical_ms, Output* out) {
  if (!ValidateChunk(chunk).ok()) {
    Refuse(PeerRefusal::kSnapshot);
    return;
  }
  const uint64_t id = chunk.transfer_id();
  if (const auto& finished = peers_.at(from).finished_inbound;
      finished && finished->first == id && finished->second == *Decode(chunk.applied())) {
    // A chunk of a transfer we merged whole: its sender may still wait for an acknowledgement
    // lost on the way. Everything up to this chunk is in what we merged.
    return SendSnapshotAck(from, id, chunk.index(), false, physical_ms, out);
  }
  if ((inbound_ && inbound_->from == from && id < inbound_->transfer_id) ||
      (peers_.at(from).finished_inbound && id < peers_.at(from).finished_inbound->first)) {
    // A straggler of an older transfer of this sender (its ids only grow, m:xferid): taking its
    // first chunk for a new transfer would drop the newer one we are in the middle of, and
    // leave its sender resending chunks we then call a gap forever.
    return;
  }
  if (inbound_ && inbound_->from != from) {
    if (tick_ - inbound_->last_chunk_tick < options_.inbound_idle_ticks) {
      ++stats_.snapshot_declined;
      return SendSnapshotAck(from, id, 0, /*declined=*/true, physical_ms, out);
    }
    inbound_.reset();  // its sender went quiet: take this one instead
  }
  if (chunk.index() == 0 && !(inbound_ && inbound_->transfer_id == id)) {
    inbound_ = InboundTransfer{from, id, 0, chunk.total_keys(), 0, 0, tick_, tick_, {}, {}};
  }
  if (!inbound_ || inbound_->transfer_id != id) {
    // The middle of a transfer we hold nothing of (its first chunk was lost, or we restarted).
    pb::PeerMessage m = NewMessage(physical_ms);
    m.mutable_snapshot_ack()->set_transfer_id(id);
    m.mutable_snapshot_ack()->set_from_start(true);
    out->messages.emplace_back(from, std::move(m));
    return;
  }
  InboundTransfer& in = *inbound_;
  if (chunk.index() != in.next_index &&
      !(options_.bugs.skip_lost_snapshot_chunk && chunk.index() > in.next_index)) {
    // A duplicate, or a gap after a lost chunk: repeat where we are; the sender resumes there.
    if (in.next_index > 0) SendSnapshotAck(from, id, in.next_index - 1, false, physical_ms, out);
    return;
  }
  if (chunk.entries_size() > 0) in.staged_chunks.push_back(chunk.SerializeAsString());
  for (const auto& entry : chunk.idempotency()) {
    in.staged_idempotency.emplace_back(entry.idempotency_key(),
                                       *IdempotencyTable::Decode(entry.record()));
  }
  in.next_index = chunk.index() + 1;
  in.keys += static_cast<uint64_t>(chunk.entries_size());
  in.bytes += chunk.ByteSizeLong();
  in.last_chunk_tick = tick_;
  ++stats_.snapshot_chunks_applied;
  stats_.snapshot_bytes_applied += chunk.ByteSizeLong();
  SendSnapshotAck(from, id, chunk.index(), false, physical_ms, out);
  if (!chunk.last()) return;
  InboundTransfer done = std::move(in);
  inbound_.reset();
  peers_.at(from).finished_inbound = {id, *Decode(chunk.applied())};
  FinishInbound(done, *Decode(chunk.applied()), physical_ms, out);
  SendAck(from, physical_ms, out);
}

void Replica::FinishInbound(InboundTransfer& in, const VersionVector& base, uint64_t physical_ms,
                            Output* out) {
  for (std::string& bytes : in.staged_chunks) {
    pb::SnapshotChunk chunk;
    MERIDIAN_ASSERT(chunk.ParseFromString(bytes));  // serialized here from a validated chunk
    std::string().swap(bytes);                      // release it as we go
    for (const auto& entry : chunk.entries()) {
      const StateKey key = *storage_keys::ParseState(entry.storage_key());
      bool changed = false;
      MergeKeyState(key, *DecodeState(entry.state(), key.data_class), out, &changed);
    }
  }
  for (const auto& [key, record] : in.staged_idempotency) {
    idempotency_.MergeRecord(key, record);
    PersistIdempotency(key, out);
  }
  // Ops the transfer brought that are not in our log (our own too, after a lost disk): a peer
  // that lacks them can no longer be served from the log, only by a transfer of ours.
  VersionVector not_logged;
  for (RegionId r = 0; r < options_.region_count; ++r) {
    if (base.Get(r) > applied_.Get(r)) not_logged.Set(r, base.Get(r));
  }
  applied_.Merge(base);
  CheckpointMarks(out);  // the merged ops have no log entries to recover the vector from
  oplog_.RaiseFloor(not_logged);
  ++stats_.snapshots_applied;
  out->merged_snapshot = base;
  // Compensations are judged against the adopted vector (idempotency.h, invariant 2); a
  // rejoining region makes no op of its own yet (invariant 8) and compensates when it may.
  if (!rejoining_) {
    for (const auto& [key, record] : in.staged_idempotency) {
      for (const auto& loser : IdempotencyTable::PendingCompensations(*idempotency_.Lookup(key),
                                                                      options_.self, applied_)) {
        Compensate(key, loser, physical_ms, out);
      }
    }
  }
  ApplyReadyBuffered(physical_ms, out);
  stability_.OnApplied(applied_);
  UpdateCatchUp(physical_ms, out);
}

}  // namespace meridian
