// The replication stream: op batches in, acknowledgements, and sending ops to peers.
#include <algorithm>

#include "clock/clock_codec.h"
#include "replica/op_codec.h"
#include "replica/replica.h"
#include "replica/storage_keys.h"

namespace meridian {

void Replica::OnMessage(RegionId from, const pb::PeerMessage& message, uint64_t physical_ms,
                        Output* out) {
  last_physical_ms_ = physical_ms;
  auto peer = peers_.find(from);
  if (from >= options_.region_count || from != message.from() || peer == peers_.end()) {
    Refuse(PeerRefusal::kEnvelope);  // rule 1 of peer_input.h (peers_ holds the neighbours)
    return;
  }
  BeginStep(out);
  if (!CheckIncarnation(from, message.incarnation(), out)) return;
  peer->second.clock_offset_ms =
      static_cast<int64_t>(message.sent_physical_ms()) - static_cast<int64_t>(physical_ms);
  switch (message.body_case()) {
    case pb::PeerMessage::kOps:
      HandleOpBatch(from, message.ops(), physical_ms, out);
      break;
    case pb::PeerMessage::kAck:
      HandleAck(from, message.ack(), physical_ms, out);
      break;
    case pb::PeerMessage::kSummaryRequest:
      HandleSummaryRequest(from, message.summary_request(), physical_ms, out);
      break;
    case pb::PeerMessage::kSummaryReply:
      HandleSummaryReply(from, message.summary_reply(), physical_ms, out);
      break;
    case pb::PeerMessage::kRepair:
      HandleRepair(from, message.repair(), physical_ms, out);
      break;
    case pb::PeerMessage::kSnapshot:
      HandleSnapshotChunk(from, message.snapshot(), physical_ms, out);
      break;
    case pb::PeerMessage::kReadRequest:
      HandleReadRequest(from, message.read_request(), physical_ms, out);
      break;
    case pb::PeerMessage::kReadReply:
      out->read_replies.emplace_back(from, message.read_reply());
      break;
    case pb::PeerMessage::kSnapshotAck:
      HandleSnapshotAck(from, message.snapshot_ack(), physical_ms, out);
      break;
    case pb::PeerMessage::kStrong:       // the node hands these to the strong module, never here
    case pb::PeerMessage::kSubjectKeys:  // and these to its subject vault
    case pb::PeerMessage::kScanRequest:  // and these to its global scans
    case pb::PeerMessage::kScanReply:
    case pb::PeerMessage::kStockRights:  // and these to its stocks' lenders
    case pb::PeerMessage::BODY_NOT_SET:
      Refuse(PeerRefusal::kEnvelope);
      break;
  }
}

void Replica::HandleOpBatch(RegionId from, const pb::OpBatch& batch, uint64_t physical_ms,
                            Output* out) {
  // Rule 4 of peer_input.h: the whole batch, before any of it is applied.
  if (static_cast<size_t>(batch.ops_size()) > options_.max_batch_ops) {
    Refuse(PeerRefusal::kBatch);
    return;
  }
  for (const auto& encoded : batch.ops()) {
    // Rules 2 and 3: a refused op is not acknowledged, and the ops after it of its origin wait
    // for it in the buffer, so nothing of a bad op is applied.
    auto decoded = DecodeOp(encoded);
    if (!decoded.ok() || !CheckOpBounds(*decoded).ok()) {
      Refuse(PeerRefusal::kOp);
      continue;
    }
    if (decoded->dot.origin >= options_.region_count || decoded->dot.origin == options_.self) {
      Refuse(PeerRefusal::kOpOrigin);
      continue;
    }
    if (decoded->compensates && decoded->compensates->origin != decoded->dot.origin) {
      Refuse(PeerRefusal::kOpOrigin);  // a region cancels only its own writes (Compensate)
      continue;
    }
    if (!CheckVectorRegions(decoded->deps, options_.region_count).ok()) {
      Refuse(PeerRefusal::kVector);
      continue;
    }
    Op op = std::move(decoded).value();
    if (applied_.Covers(op.dot) && !options_.bugs.apply_without_dedupe) {
      ++stats_.duplicates_ignored;
      continue;
    }
    const bool ready = options_.bugs.no_causal_wait || CausalBuffer::IsReady(op, applied_) ||
                       (options_.bugs.apply_without_dedupe && applied_.Covers(op.dot));
    if (ready) {
      ApplyOp(op, /*local=*/false, physical_ms, out);
      ApplyReadyBuffered(physical_ms, out);
    } else if (!buffer_.Hold(std::move(op))) {
      ++stats_.buffer_refusals;  // not acknowledged, so the sender will send it again
    }
  }
  stability_.OnApplied(applied_);
  SendAck(from, physical_ms, out);
  PumpAll(physical_ms, out);  // relaying topologies forward what just arrived
}

void Replica::ApplyReadyBuffered(uint64_t physical_ms, Output* out) {
  while (auto op = buffer_.TakeReady(applied_))
    ApplyOp(*op, /*local=*/false, physical_ms, out);
}

void Replica::HandleAck(RegionId from, const pb::Ack& ack, uint64_t physical_ms, Output* out) {
  auto applied = Decode(ack.applied());
  if (!applied.ok() || !CheckVectorRegions(*applied, options_.region_count).ok()) {
    Refuse(PeerRefusal::kVector);
    return;
  }
  if (ClaimsUnknownOwnOps(*applied)) {  // rule 5: it would never let us count as caught up
    Refuse(PeerRefusal::kOwnOpsClaim);
    return;
  }
  PeerLink& link = peers_.at(from);
  link.ack_seen = true;
  if (!link.first_heard && ack.your_incarnation() == incarnation_) {
    link.first_heard = *applied;
    std::erase(catch_up_.not_heard, from);
    catch_up_.target.Merge(*applied);
    if (!first_heard_tick_) first_heard_tick_ = tick_;
  }
  if (!link.acked.Dominates(*applied)) {
    link.acked.Merge(*applied);
    link.last_progress_tick = tick_;
  }
  link.peer_rejoining = ack.rejoining();
  auto covered = [&](const Dot& d) { return link.acked.Covers(d); };
  link.unacked.erase(std::remove_if(link.unacked.begin(), link.unacked.end(), covered),
                     link.unacked.end());
  // A peer that lost its storage reports a vector below ops of its own that still exist (held
  // by a third region, or waiting in a causal buffer): its own entry no longer bounds the ops it
  // made before it saw a tombstone, which stability needs (stability.h). Heard again once it
  // rejoined.
  if (!ack.rejoining()) stability_.OnReport(from, *applied, applied_);
  for (const auto& known : ack.known()) {
    auto vv = Decode(known.applied());
    if (!vv.ok() || known.region() >= options_.region_count ||
        !CheckVectorRegions(*vv, options_.region_count).ok()) {
      Refuse(PeerRefusal::kVector);
      continue;
    }
    stability_.OnReport(known.region(), *vv, applied_);
  }
  UpdateCatchUp(physical_ms, out);
}

bool Replica::CheckIncarnation(RegionId from, uint64_t incarnation, Output* out) {
  PeerLink& link = peers_.at(from);
  if (incarnation == 0 || incarnation == link.incarnation) return true;  // 0: an older sender
  const auto& retired = link.retired_incarnations;
  if (std::find(retired.begin(), retired.end(), incarnation) != retired.end()) {
    ++stats_.stale_messages;  // a straggler of an incarnation already replaced
    return false;
  }
  if (link.incarnation == 0 || options_.bugs.acks_never_go_backwards) {
    link.incarnation = incarnation;  // first sight (new cluster, or our own storage is new)
    PersistPeerIncarnation(from, out);
    return true;
  }
  OnPeerIncarnationChanged(from, incarnation, out);
  return true;
}

// The peer's durable state was created or restored anew: it may hold less than it acknowledged,
// down to nothing, its own ops included. Forget what it acknowledged and serve it from scratch.
void Replica::OnPeerIncarnationChanged(RegionId peer, uint64_t incarnation, Output* out) {
  PeerLink& link = peers_.at(peer);
  ++stats_.peer_incarnation_changes;
  link.retired_incarnations.push_back(link.incarnation);
  if (link.retired_incarnations.size() > kRetiredIncarnations) {
    link.retired_incarnations.erase(link.retired_incarnations.begin());
  }
  link.incarnation = incarnation;
  PersistPeerIncarnation(peer, out);
  // Forgotten in the same step as the incarnation is persisted: otherwise a restart before the
  // next housekeeping pairs the new incarnation with the old one's cursor (persisted then), and
  // the op stream resumes past ops the new incarnation never had: it waits for them forever.
  link.acked = VersionVector();
  link.persisted_acked = VersionVector();
  out->records.Delete(storage_keys::PeerAcked(peer));
  link.ack_seen = false;
  // What its old incarnation had is no target any more: hear from the new one.
  if (link.first_heard) {
    link.first_heard.reset();
    catch_up_.not_heard.push_back(peer);
    std::sort(catch_up_.not_heard.begin(), catch_up_.not_heard.end());
    catch_up_.target = VersionVector();
    for (const auto& [region, other] : peers_) {
      if (other.first_heard) catch_up_.target.Merge(*other.first_heard);
    }
  }
  link.transfer.reset();
  link.transfer_retry_tick = 0;
  link.finished_inbound.reset();
  if (inbound_ && inbound_->from == peer) inbound_.reset();
  // Ops of its old incarnation that no region applied are gone with its disk: the new
  // incarnation will reuse their sequence numbers for other writes (invariant 8).
  buffer_.DropOrigin(peer);
  Rewind(peer);
}

void Replica::PersistPeerIncarnation(RegionId peer, Output* out) {
  out->records.Put(storage_keys::PeerIncarnation(peer),
                   storage_keys::EncodeU64(peers_.at(peer).incarnation));
}

void Replica::UpdateCatchUp(uint64_t physical_ms, Output* out) {
  const bool all_heard = catch_up_.not_heard.empty();
  const bool has_target = applied_.Dominates(catch_up_.target);
  if (!catch_up_.caught_up && has_target) {
    const bool waited =
        first_heard_tick_ && tick_ - *first_heard_tick_ >= options_.catch_up_wait_ticks;
    if (neighbors_.empty() || all_heard || waited) catch_up_.caught_up = true;
  }
  if (rejoining_ && all_heard && has_target) {
    rejoining_ = false;
    catch_up_.own_ops_at_rejoin = applied_.Get(options_.self);
    out->records.Delete(std::string(storage_keys::kRejoinPending));
    CompensatePending(physical_ms, out);  // deferred while it could make no op of its own
  }
}

void Replica::SendAck(RegionId to, uint64_t physical_ms, Output* out) {
  pb::PeerMessage m = NewMessage(physical_ms);
  pb::Ack* ack = m.mutable_ack();
  Encode(applied_, ack->mutable_applied());
  ack->set_your_incarnation(peers_.at(to).incarnation);
  ack->set_rejoining(rejoining_);
  for (RegionId r = 0; r < options_.region_count; ++r) {
    if (r == options_.self || r == to || stability_.known(r).IsZero()) continue;
    auto* known = ack->add_known();
    known->set_region(r);
    Encode(stability_.known(r), known->mutable_applied());
  }
  out->messages.emplace_back(to, std::move(m));
}

void Replica::PumpAll(uint64_t physical_ms, Output* out) {
  for (RegionId peer : neighbors_)
    Pump(peer, physical_ms, out);
}

// Sends `peer` the next ops it lacks, in local log order, within the in-flight window.
void Replica::Pump(RegionId peer, uint64_t physical_ms, Output* out) {
  PeerLink& link = peers_.at(peer);
  if (link.transfer) return;  // a state transfer is under way
  link.next_index = std::max(link.next_index, oplog_.first_index());
  while (link.next_index < oplog_.end_index() && link.unacked.size() < options_.max_inflight_ops) {
    pb::PeerMessage m = NewMessage(physical_ms);
    pb::OpBatch* batch = m.mutable_ops();
    size_t batch_bytes = 0;
    while (link.next_index < oplog_.end_index() &&
           link.unacked.size() < options_.max_inflight_ops &&
           static_cast<size_t>(batch->ops_size()) < options_.max_batch_ops &&
           batch_bytes < options_.max_message_bytes) {
      const OplogEntry& entry = *oplog_.At(link.next_index++);
      if (!ShouldSend(entry, peer) || link.acked.Covers(entry.dot)) continue;
      MERIDIAN_ASSERT(batch->add_ops()->ParseFromString(entry.encoded));  // we encoded it
      batch_bytes += entry.encoded.size();
      if (link.unacked.empty()) link.last_progress_tick = tick_;
      link.unacked.push_back(entry.dot);
    }
    if (batch->ops_size() > 0) out->messages.emplace_back(peer, std::move(m));
  }
  // Postconditions: the window is kept, and the cursor never passes the log's end.
  MERIDIAN_ASSERT(link.unacked.size() <= options_.max_inflight_ops);
  MERIDIAN_ASSERT(link.next_index <= oplog_.end_index());
}

void Replica::OnPeerDisconnected(RegionId peer) {
  if (auto it = peers_.find(peer); it != peers_.end()) it->second.link_down = true;
}

void Replica::Rewind(RegionId peer) {
  PeerLink& link = peers_.at(peer);
  link.next_index = oplog_.first_index();
  link.unacked.clear();
  link.last_progress_tick = tick_;
}

void Replica::OnPeerConnected(RegionId peer, Output* out) {
  if (peers_.count(peer) == 0) return;
  BeginStep(out);
  Rewind(peer);
  PeerLink& link = peers_.at(peer);
  link.link_down = false;
  // A transfer resumes from the last chunk the peer acknowledged (the rest died with the link).
  if (link.transfer) {
    ResumeTransfer(*link.transfer);
    PumpTransfer(peer, last_physical_ms_, out);
  } else if (!NeedsSnapshot(peer)) {
    // Send at once what the peer lacks (issue 19, item 10): after a partition heals this is the
    // backlog of the whole cut, and the next tick would only add up to a tick's delay.
    Pump(peer, last_physical_ms_, out);
  }
  SendAck(peer, last_physical_ms_, out);  // and what we hold, so it resumes from there too
}

}  // namespace meridian
