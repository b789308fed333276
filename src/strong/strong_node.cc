// StrongNode: construction, recovery, the public entry points and message dispatch.
#include "strong/strong_node.h"

#include "strong/handle_name.h"
#include "strong/peer_checks.h"

namespace meridian {
namespace {

// Storage key of a handle's acceptor record (the replica's records use other prefixes: see
// src/replica/storage_keys.h).
constexpr std::string_view kHandlePrefix = "h";

std::string HandleKey(const std::string& name) {
  return std::string(kHandlePrefix) + name;
}

}  // namespace

StrongNode::StrongNode(StrongOptions options)
    : options_(options),
      random_(options.random_seed ^ (0x9e3779b97f4a7c15ULL * (options.self + 1))),
      // Forward ids start at a random point so that a reply addressed to a previous
      // incarnation of this region cannot match a new request.
      last_heard_tick_(options.region_count, 0),
      next_forward_id_(random_.Next() >> 1),
      rejoining_(options.rejoining && RejoinApplies(options)) {
  lease_quiet_pending_ = rejoining_;
  MERIDIAN_ASSERT(options_.region_count >= 1 && options_.region_count <= kMaxRegions);
  MERIDIAN_ASSERT(options_.self < options_.region_count);
  MERIDIAN_ASSERT(options_.request_timeout_ticks > 0 && options_.resend_ticks > 0);
  MERIDIAN_ASSERT(options_.unreachable_ticks > 0);
  MERIDIAN_ASSERT(options_.backoff_ticks_max > 0 && options_.recent_mutations > 0);
  MERIDIAN_ASSERT(options_.sync_page_names_max > 0 && options_.sync_resend_ticks > 0);
}

Result<std::unique_ptr<StrongNode>> StrongNode::Recover(StrongOptions options,
                                                        const Storage& storage) {
  auto node = std::make_unique<StrongNode>(options);
  MERIDIAN_RETURN_IF_ERROR(
      storage.Scan(kHandlePrefix, [&node](std::string_view key, std::string_view bytes) -> Status {
        pb::AcceptorRecord record;
        if (!record.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
          return DataLoss("unreadable handle record");
        }
        auto name = CanonicalHandleName(key.substr(kHandlePrefix.size()));
        if (!name.ok() || *name != key.substr(kHandlePrefix.size())) {
          return DataLoss("handle record under a bad name");
        }
        auto state = DecodeRecord(record);
        if (!state.ok()) return state.status();
        node->acceptors_[*name] = std::move(state).value();
        return Status::Ok();
      }));
  auto marker = storage.Get(kSyncedMarkerKey);
  if (!marker.ok()) return marker.status();
  node->marker_durable_ = marker->has_value();
  node->rejoining_ = (options.rejoining || !node->marker_durable_) && RejoinApplies(options);
  // Invariant 11: an acceptor with records may have granted read leases it no longer knows of.
  node->lease_quiet_pending_ = node->rejoining_ || !node->acceptors_.empty();
  return node;
}

size_t StrongNode::quorum() const {
  if (options_.bugs.quorum_of_one) return 1;
  return options_.region_count / 2 + 1;
}

std::optional<HandleValue> StrongNode::LocalValue(const std::string& name) const {
  auto it = acceptors_.find(name);
  if (it == acceptors_.end()) return std::nullopt;
  return it->second.value;
}

Result<std::string> StrongNode::OnClientRequest(uint64_t request_id, HandleRequest request,
                                                uint64_t physical_ms, StrongOutput* out) {
  auto name = CanonicalHandleName(request.name);
  if (!name.ok()) return name.status();
  if (request.kind != HandleOpKind::kRead) {
    MERIDIAN_RETURN_IF_ERROR(ValidateHandleOwner(request.owner));
  } else {
    request.owner.clear();
  }
  if (pending_ >= options_.max_pending_requests) {
    return ResourceExhausted("too many handle requests pending in this region");
  }
  request.name = *name;
  Request r;
  r.request_id = request_id;
  r.request = std::move(request);
  r.physical_ms = physical_ms;
  r.deadline_tick = tick_ + options_.request_timeout_ticks;
  ++stats_.requests;
  BeginStep(out);
  if (rejoining_) {
    ++pending_;
    Reply(r, HandleOutcome::kUnavailable, {*name, "", 0, 0}, RejoiningMessage(), out);
    return *name;
  }
  if (options_.mode == HandleMode::kOwner) {
    if (OwnerOf(*name) == options_.self) {
      ++pending_;
      AppliedRequest a = ApplyAsOwner(r.request, physical_ms, out);
      Reply(r, a.outcome, RecordOf(*name, a.value), "", out);
      return *name;
    }
    const uint64_t id = next_forward_id_++;
    forwards_[id] = {r, OwnerOf(*name)};
    ++pending_;
    pb::StrongMessage m;
    pb::Forward* f = m.mutable_forward();
    f->set_forward_id(id);
    f->mutable_op()->set_kind(static_cast<uint32_t>(r.request.kind));
    f->mutable_op()->set_name(*name);
    f->mutable_op()->set_owner(r.request.owner);
    f->set_physical_ms(physical_ms);
    Send(OwnerOf(*name), std::move(m), out);
    return *name;
  }
  Slot& slot = slots_[*name];
  if (slot.queue.size() >= options_.max_queued_per_handle) {
    return ResourceExhausted("too many requests queued for handle " + *name);
  }
  if (ServeFromLease(r, out)) return *name;  // invariant 11: no message, no record
  Enqueue(std::move(r), out);
  DrainSelf(out);
  return *name;
}

void StrongNode::OnMessage(RegionId from, const pb::StrongMessage& message, StrongOutput* out) {
  if (from >= options_.region_count || from == options_.self || from != message.from() ||
      !CheckPeerMessage(message, options_.region_count).ok()) {
    ++stats_.malformed_messages;  // peer_checks.h
    return;
  }
  BeginStep(out);
  // Only a rejoining region asks for sync, and it cannot vote: hearing it must not make a
  // proposer believe it can reach a majority (invariant 6).
  if (!message.has_sync_request()) last_heard_tick_[from] = tick_;
  Dispatch(from, message, out);
  DrainSelf(out);
}

void StrongNode::Tick(StrongOutput* out) {
  ++tick_;
  BeginStep(out);
  TickSync(out);
  TickProposals(out);
  TickForwards(out);
  DrainSelf(out);
}

void StrongNode::Send(RegionId to, pb::StrongMessage message, StrongOutput* out) {
  message.set_from(options_.self);
  if (to == options_.self) {
    self_inbox_.push_back(std::move(message));
  } else {
    out->messages.emplace_back(to, std::move(message));
  }
}

// Messages to ourselves are handled after the step that produced them, in order, so handlers
// never re-enter one another; the shell sees only their durable effects and outgoing messages.
void StrongNode::DrainSelf(StrongOutput* out) {
  while (!self_inbox_.empty()) {
    pb::StrongMessage m = std::move(self_inbox_.front());
    self_inbox_.pop_front();
    Dispatch(options_.self, m, out);
  }
}

void StrongNode::Dispatch(RegionId from, const pb::StrongMessage& message, StrongOutput* out) {
  const bool consensus = options_.mode == HandleMode::kConsensus;
  switch (message.body_case()) {
    case pb::StrongMessage::kPrepare:
      if (consensus) return HandlePrepare(from, message.prepare(), out);
      break;
    case pb::StrongMessage::kPromise:
      if (consensus) return HandlePromise(from, message.promise(), out);
      break;
    case pb::StrongMessage::kAccept:
      if (consensus) return HandleAccept(from, message.accept(), out);
      break;
    case pb::StrongMessage::kAccepted:
      if (consensus) return HandleAccepted(from, message.accepted(), out);
      break;
    case pb::StrongMessage::kNack:
      if (consensus) return HandleNack(from, message.nack(), out);
      break;
    case pb::StrongMessage::kForward:
      if (consensus) return HandleHandedOff(from, message.forward(), out);
      return HandleForward(from, message.forward(), out);
    case pb::StrongMessage::kForwardReply:
      return HandleForwardReply(from, message.forward_reply(), out);
    case pb::StrongMessage::kSyncRequest:
      if (consensus) return HandleSyncRequest(from, message.sync_request(), out);
      break;
    case pb::StrongMessage::kSyncReply:
      if (consensus) return HandleSyncReply(from, message.sync_reply(), out);
      break;
    case pb::StrongMessage::BODY_NOT_SET:
      break;
  }
  ++stats_.malformed_messages;  // empty, or a message of the other mode (misconfiguration)
}

void StrongNode::Reply(const Request& r, HandleOutcome outcome, HandleRecord record,
                       std::string message, StrongOutput* out) {
  MERIDIAN_ASSERT(pending_ > 0);
  --pending_;
  if (r.origin) return SendForwardReply(r, outcome, record, message, out);
  if (outcome == HandleOutcome::kUnavailable) ++stats_.unavailable;
  out->replies.push_back({r.request_id, outcome, std::move(record), std::move(message)});
}

StrongNode::AcceptorState& StrongNode::Acceptor(const std::string& name) {
  return acceptors_[name];
}

void StrongNode::Persist(const std::string& name, const AcceptorState& state, StrongOutput* out) {
  MERIDIAN_ASSERT(!(state.promised < state.accepted));
  pb::AcceptorRecord record;
  EncodeRecord(state, &record);
  out->records.Put(HandleKey(name), record.SerializeAsString());
}

void StrongNode::EncodeRecord(const AcceptorState& state, pb::AcceptorRecord* out) {
  Encode(state.promised, out->mutable_promised());
  Encode(state.accepted, out->mutable_accepted());
  Encode(state.value, out->mutable_value());
  out->set_round1_vote_unknown(state.round1_unknown);
}

Result<StrongNode::AcceptorState> StrongNode::DecodeRecord(const pb::AcceptorRecord& record) {
  auto value = Decode(record.value());
  if (!value.ok()) return value.status();
  AcceptorState state{Decode(record.promised()), Decode(record.accepted()), *value,
                      record.round1_vote_unknown()};
  if (state.promised < state.accepted) return DataLoss("handle record accepted > promised");
  return state;
}

}  // namespace meridian
