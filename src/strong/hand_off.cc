// No duels (invariant 10 of strong_node.h): a proposer that lost a round to a region holding a
// higher ballot hands its requests to that region, which serves them in its next round and
// relays the answers, instead of pre-empting it with a still higher ballot.
#include "strong/handle_name.h"
#include "strong/strong_node.h"

namespace meridian {
namespace {

// Versions a request was proposed at, as carried in a Forward: one per round that proposed it
// within its deadline, so far fewer than this; more is a corrupt message.
constexpr int kTriedVersionsMax = 64;

}  // namespace

// Returns false (and changes nothing) unless `to` has a higher region id than ours and spoke to
// us at or after tick `heard_since`; the caller then proposes itself.
bool StrongNode::HandOff(const std::string& name, Proposal& p, RegionId to, uint64_t heard_since,
                         StrongOutput* out) {
  if (!options_.hand_off || to <= options_.self || to >= options_.region_count ||
      last_heard_tick_[to] < heard_since) {
    return false;
  }
  for (Batched& b : p.batch) {
    if (b.answered) continue;
    Request r = std::move(b.request);
    r.tried_versions = std::move(b.tried_versions);
    // A request never proposed needs no op id of ours: the region ahead gives it its own.
    if (!r.op_id && !p.op_ballot.IsZero()) r.op_id = OpId{p.op_ballot, b.index};
    pb::StrongMessage m;
    pb::Forward* f = m.mutable_forward();
    const uint64_t id = next_forward_id_++;
    f->set_forward_id(id);
    f->mutable_op()->set_kind(static_cast<uint32_t>(r.request.kind));
    f->mutable_op()->set_name(name);
    f->mutable_op()->set_owner(r.request.owner);
    f->set_physical_ms(r.physical_ms);
    if (r.op_id) {
      Encode(r.op_id->ballot, f->mutable_op_ballot());
      f->set_op_index(r.op_id->index);
    }
    for (uint64_t v : r.tried_versions)
      f->add_tried_versions(v);
    f->set_ticks_left(static_cast<uint32_t>(r.deadline_tick > tick_ ? r.deadline_tick - tick_ : 0));
    f->set_hops(r.hops + 1);
    forwards_[id] = {std::move(r), to};  // still pending here: answered by `to` or the deadline
    ++stats_.handed_off;
    Send(to, std::move(m), out);
  }
  Slot& slot = slots_.at(name);
  slot.active.reset();
  slot.defer_to = to;
  slot.defer_until_tick = tick_ + options_.request_timeout_ticks;
  StartNext(name, out);
  return true;
}

// A request handed to us: queued like our own clients' requests, under its own op id.
void StrongNode::HandleHandedOff(RegionId from, const pb::Forward& m, StrongOutput* out) {
  const uint32_t kind = m.op().kind();
  auto name = CanonicalHandleName(m.op().name());
  const Ballot op_ballot = Decode(m.op_ballot());
  const bool kind_ok = kind >= static_cast<uint32_t>(HandleOpKind::kClaim) &&
                       kind <= static_cast<uint32_t>(HandleOpKind::kRead);
  // Requests move only to higher region ids (invariant 10).
  if (!kind_ok || !name.ok() || *name != m.op().name() || from >= options_.self ||
      (op_ballot.IsZero() && m.tried_versions_size() > 0) || m.hops() == 0 ||
      m.hops() >= options_.region_count || m.tried_versions_size() > kTriedVersionsMax ||
      (kind != static_cast<uint32_t>(HandleOpKind::kRead) &&
       !ValidateHandleOwner(m.op().owner()).ok())) {
    ++stats_.malformed_messages;
    return;
  }
  const std::pair<RegionId, uint64_t> key{from, m.forward_id()};
  // A duplicated Forward: answer as the first time (or not yet), never serve twice.
  if (handed_in_.count(key) != 0) return;
  if (auto done = forward_replies_.find(key); done != forward_replies_.end()) {
    pb::StrongMessage reply;
    *reply.mutable_forward_reply() = done->second;
    Send(from, std::move(reply), out);
    return;
  }
  Request r;
  r.request = {static_cast<HandleOpKind>(kind), *name, m.op().owner()};
  if (r.request.kind == HandleOpKind::kRead) r.request.owner.clear();
  r.physical_ms = m.physical_ms();
  r.deadline_tick = tick_ + std::min(m.ticks_left(), options_.request_timeout_ticks);
  r.origin = key;
  if (!op_ballot.IsZero()) r.op_id = OpId{op_ballot, m.op_index()};
  r.tried_versions.assign(m.tried_versions().begin(), m.tried_versions().end());
  r.hops = m.hops();
  handed_in_.insert(key);
  ++stats_.handed_in;
  Slot& slot = slots_[*name];
  if (rejoining_ || pending_ >= options_.max_pending_requests ||
      slot.queue.size() >= options_.max_queued_per_handle) {
    ++pending_;
    Reply(r, HandleOutcome::kUnavailable, {*name, "", 0, 0},
          rejoining_
              ? RejoiningMessage()
              : "region " + std::to_string(options_.self) + " has too many handle requests pending",
          out);
    return;
  }
  Enqueue(std::move(r), out);
}

void StrongNode::SendForwardReply(const Request& r, HandleOutcome outcome,
                                  const HandleRecord& record, const std::string& message,
                                  StrongOutput* out) {
  MERIDIAN_ASSERT(r.origin);
  handed_in_.erase(*r.origin);
  pb::StrongMessage m;
  pb::ForwardReply* reply = m.mutable_forward_reply();
  reply->set_forward_id(r.origin->second);
  reply->set_outcome(static_cast<uint32_t>(outcome));
  pb::HandleValue* value = reply->mutable_value();
  value->set_owner(record.owner);
  value->set_version(record.version);
  value->set_claimed_physical_ms(record.claimed_physical_ms);
  reply->set_message(message);
  RememberForwardReply(*r.origin, *reply);
  Send(r.origin->first, std::move(m), out);
}

}  // namespace meridian
