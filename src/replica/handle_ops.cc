// The replication stream: op batches in, acknowledgements, and sending ops to peers.
#include <algorithm>

#include "clock/clock_codec.h"
#include "replica/op_codec.h"
#include "replica/replica.h"
#include "replica/storage_keys.h"

namespace meridian {

void Replica::OnMessage(RegionId from, const pb::PeerMessage& message, uint64_t physical_ms,
                        Output* out) {
  auto peer = peers_.find(from);
  if (from >= options_.region_count || from != message.from() || peer == peers_.end()) {
    ++stats_.malformed_messages;
    return;
  }
  peer->second.clock_offset_ms =
      static_cast<int64_t>(message.sent_physical_ms()) - static_cast<int64_t>(physical_ms);
  switch (message.body_case()) {
    case pb::PeerMessage::kOps:
      HandleOpBatch(from, message.ops(), physical_ms, out);
      break;
    case pb::PeerMessage::kAck:
      HandleAck(from, message.ack(), out);
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
    case pb::PeerMessage::kStrong:  // the shell hands these to the strong module, never here
    case pb::PeerMessage::BODY_NOT_SET:
      ++stats_.malformed_messages;
      break;
  }
}

void Replica::HandleOpBatch(RegionId from, const pb::OpBatch& batch, uint64_t physical_ms,
                            Output* out) {
  for (const auto& encoded : batch.ops()) {
    auto decoded = DecodeOp(encoded);
    if (!decoded.ok() || decoded->dot.origin >= options_.region_count ||
        decoded->dot.origin == options_.self) {
      ++stats_.malformed_messages;
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

void Replica::HandleAck(RegionId from, const pb::Ack& ack, Output* out) {
  auto applied = Decode(ack.applied());
  if (!applied.ok()) {
    ++stats_.malformed_messages;
    return;
  }
  PeerLink& link = peers_.at(from);
  link.ack_seen = true;
  if (!link.acked.Dominates(*applied)) {
    link.acked.Merge(*applied);
    link.last_progress_tick = tick_;
    if (link.snapshot_started_tick) {
      // The transfer landed (or the peer caught up otherwise): stream from what it now has.
      link.snapshot_started_tick.reset();
      Rewind(from);
    }
  }
  auto covered = [&](const Dot& d) { return link.acked.Covers(d); };
  link.unacked.erase(std::remove_if(link.unacked.begin(), link.unacked.end(), covered),
                     link.unacked.end());
  stability_.OnReport(from, *applied, applied_);
  for (const auto& known : ack.known()) {
    auto vv = Decode(known.applied());
    if (!vv.ok() || known.region() >= options_.region_count) {
      ++stats_.malformed_messages;
      continue;
    }
    stability_.OnReport(known.region(), *vv, applied_);
  }
  (void)out;
}

void Replica::SendAck(RegionId to, uint64_t physical_ms, Output* out) {
  pb::PeerMessage m = NewMessage(physical_ms);
  pb::Ack* ack = m.mutable_ack();
  Encode(applied_, ack->mutable_applied());
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
  if (link.snapshot_started_tick) return;  // a state transfer is under way
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
      const Op& op = entry.op;
      if (!ShouldSend(entry, peer) || link.acked.Covers(op.dot)) continue;
      pb::Op* encoded = batch->add_ops();
      EncodeOp(op, encoded);
      batch_bytes += encoded->ByteSizeLong();
      if (link.unacked.empty()) link.last_progress_tick = tick_;
      link.unacked.push_back(op.dot);
    }
    if (batch->ops_size() > 0) out->messages.emplace_back(peer, std::move(m));
  }
}

void Replica::Rewind(RegionId peer) {
  PeerLink& link = peers_.at(peer);
  link.next_index = oplog_.first_index();
  link.unacked.clear();
  link.last_progress_tick = tick_;
}

void Replica::OnPeerConnected(RegionId peer, Output* out) {
  if (peers_.count(peer) == 0) return;
  Rewind(peer);
  (void)out;
}

}  // namespace meridian
