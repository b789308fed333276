#include "strong/types.h"

namespace meridian {

std::string Ballot::ToString() const {
  return "(" + std::to_string(counter) + "," + std::to_string(region) + ")";
}

const char* HandleOutcomeName(HandleOutcome o) {
  switch (o) {
    case HandleOutcome::kClaimed:
      return "claimed";
    case HandleOutcome::kTaken:
      return "taken";
    case HandleOutcome::kReleased:
      return "released";
    case HandleOutcome::kForbidden:
      return "forbidden";
    case HandleOutcome::kNotFound:
      return "not_found";
    case HandleOutcome::kValue:
      return "value";
    case HandleOutcome::kUnavailable:
      return "unavailable";
  }
  return "?";
}

AppliedRequest ApplyRequest(const HandleRequest& request, const HandleValue& base, OpId op_id,
                            uint64_t physical_ms, size_t recent_max) {
  AppliedRequest r{base, HandleOutcome::kNotFound, false};
  auto mutate = [&](std::string owner) {
    r.mutated = true;
    r.value.owner = std::move(owner);
    ++r.value.version;
    r.value.claimed_physical_ms = r.value.owner.empty() ? 0 : physical_ms;
    r.value.recent.push_back({r.value.version, op_id, request.kind});
    if (r.value.recent.size() > recent_max) {
      r.value.recent.erase(r.value.recent.begin(),
                           r.value.recent.end() - static_cast<ptrdiff_t>(recent_max));
    }
  };
  switch (request.kind) {
    case HandleOpKind::kClaim:
      if (base.owner.empty()) {
        mutate(request.owner);
        r.outcome = HandleOutcome::kClaimed;
      } else {
        r.outcome = base.owner == request.owner ? HandleOutcome::kClaimed : HandleOutcome::kTaken;
      }
      break;
    case HandleOpKind::kRelease:
      if (base.owner == request.owner) {
        mutate("");
        r.outcome = HandleOutcome::kReleased;
      } else {
        r.outcome = base.owner.empty() ? HandleOutcome::kNotFound : HandleOutcome::kForbidden;
      }
      break;
    case HandleOpKind::kRead:
      r.outcome = base.owner.empty() ? HandleOutcome::kNotFound : HandleOutcome::kValue;
      break;
  }
  return r;
}

HandleRecord RecordOf(const std::string& name, const HandleValue& value) {
  return {name, value.owner, value.claimed_physical_ms, value.version};
}

void Encode(const Ballot& b, pb::Ballot* out) {
  out->set_counter(b.counter);
  out->set_region(b.region);
}

Ballot Decode(const pb::Ballot& b) {
  return {b.counter(), b.region()};
}

void Encode(const HandleValue& v, pb::HandleValue* out) {
  out->set_owner(v.owner);
  out->set_version(v.version);
  out->set_claimed_physical_ms(v.claimed_physical_ms);
  for (const HandleMutation& m : v.recent) {
    pb::HandleMutation* e = out->add_recent();
    e->set_version(m.version);
    Encode(m.op_id.ballot, e->mutable_op_id());
    e->set_op_index(m.op_id.index);
    e->set_kind(static_cast<uint32_t>(m.kind));
  }
}

Result<HandleValue> Decode(const pb::HandleValue& v) {
  HandleValue out{v.owner(), v.version(), v.claimed_physical_ms(), {}};
  for (const pb::HandleMutation& m : v.recent()) {
    if (m.kind() != static_cast<uint32_t>(HandleOpKind::kClaim) &&
        m.kind() != static_cast<uint32_t>(HandleOpKind::kRelease)) {
      return DataLoss("handle mutation of an unknown kind");
    }
    out.recent.push_back(
        {m.version(), {Decode(m.op_id()), m.op_index()}, static_cast<HandleOpKind>(m.kind())});
  }
  // The recent mutations are consecutive versions ending at the value's version.
  for (size_t i = 0; i < out.recent.size(); ++i) {
    if (out.recent[i].version + (out.recent.size() - i) != out.version + 1) {
      return DataLoss("handle history is not consecutive");
    }
  }
  return out;
}

}  // namespace meridian
