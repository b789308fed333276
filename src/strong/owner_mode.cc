// Owner mode (--handles=owner): one region decides each handle alone; the others forward.
#include "base/hash.h"
#include "strong/handle_name.h"
#include "strong/strong_node.h"

namespace meridian {

RegionId StrongNode::OwnerOf(const std::string& name) const {
  return static_cast<RegionId>(StableHash(name) % options_.region_count);
}

// The owner's copy lives in the acceptor record's value; it is durable (in `out->records`)
// before the reply leaves, like an accepted value.
AppliedRequest StrongNode::ApplyAsOwner(const HandleRequest& request, uint64_t physical_ms,
                                        StrongOutput* out) {
  AcceptorState& st = Acceptor(request.name);
  AppliedRequest a = ApplyRequest(request, st.value, OpId{{st.value.version + 1, options_.self}, 0},
                                  physical_ms, options_.recent_mutations);
  if (a.mutated) {
    st.value = a.value;
    Persist(request.name, st, out);
  }
  return a;
}

void StrongNode::HandleForward(RegionId from, const pb::Forward& m, StrongOutput* out) {
  const uint32_t kind = m.op().kind();
  auto name = CanonicalHandleName(m.op().name());
  const bool kind_ok = kind >= static_cast<uint32_t>(HandleOpKind::kClaim) &&
                       kind <= static_cast<uint32_t>(HandleOpKind::kRead);
  if (!kind_ok || !name.ok() || *name != m.op().name() || OwnerOf(*name) != options_.self ||
      (kind != static_cast<uint32_t>(HandleOpKind::kRead) &&
       !ValidateHandleOwner(m.op().owner()).ok())) {
    ++stats_.malformed_messages;  // misrouted (configurations differ) or corrupt
    return;
  }
  pb::StrongMessage reply;
  const std::pair<RegionId, uint64_t> key{from, m.forward_id()};
  auto done = forward_replies_.find(key);
  if (done != forward_replies_.end()) {
    // A duplicated forward (the network may deliver one twice): answer as the first time,
    // never apply twice (a second release would answer "not found").
    *reply.mutable_forward_reply() = done->second;
    Send(from, std::move(reply), out);
    return;
  }
  HandleRequest request{static_cast<HandleOpKind>(kind), *name, m.op().owner()};
  AppliedRequest a = ApplyAsOwner(request, m.physical_ms(), out);
  pb::ForwardReply* r = reply.mutable_forward_reply();
  r->set_forward_id(m.forward_id());
  r->set_outcome(static_cast<uint32_t>(a.outcome));
  Encode(a.value, r->mutable_value());
  RememberForwardReply(key, *r);
  Send(from, std::move(reply), out);
}

void StrongNode::RememberForwardReply(std::pair<RegionId, uint64_t> key,
                                      const pb::ForwardReply& reply) {
  forward_replies_[key] = reply;
  forward_reply_order_.push_back(key);
  if (forward_reply_order_.size() > options_.max_forward_replies) {
    forward_replies_.erase(forward_reply_order_.front());
    forward_reply_order_.pop_front();
  }
}

// Both modes: the answer to a request this region forwarded (owner mode) or handed off
// (consensus mode, invariant 10). Only consensus mode relays `unavailable`: a region that was
// ahead may itself fail to reach a majority in time.
void StrongNode::HandleForwardReply(RegionId from, const pb::ForwardReply& m, StrongOutput* out) {
  auto it = forwards_.find(m.forward_id());
  if (it == forwards_.end()) return;  // answered already (timed out): the client heard 503
  auto value = Decode(m.value());
  const uint32_t outcome = m.outcome();
  const auto last =
      options_.mode == HandleMode::kConsensus ? HandleOutcome::kUnavailable : HandleOutcome::kValue;
  if (!value.ok() || it->second.to != from ||
      outcome < static_cast<uint32_t>(HandleOutcome::kClaimed) ||
      outcome > static_cast<uint32_t>(last)) {
    ++stats_.malformed_messages;
    return;
  }
  const Request r = std::move(it->second.request);
  forwards_.erase(it);
  Reply(r, static_cast<HandleOutcome>(outcome), RecordOf(r.request.name, *value), m.message(), out);
}

void StrongNode::TickForwards(StrongOutput* out) {
  for (auto it = forwards_.begin(); it != forwards_.end();) {
    if (it->second.request.deadline_tick > tick_) {
      ++it;
      continue;
    }
    const std::string who =
        options_.mode == HandleMode::kConsensus
            ? "region " + std::to_string(it->second.to) + ", which was ahead on this handle,"
            : "the handle's owner region";
    Reply(it->second.request, HandleOutcome::kUnavailable,
          {it->second.request.request.name, "", 0, 0},
          who + " did not answer within " +
              std::to_string(options_.request_timeout_ticks * options_.tick_ms) + " ms",
          out);
    it = forwards_.erase(it);
  }
}

}  // namespace meridian
