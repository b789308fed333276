// CheckPeerMessage (peer_checks.h): ballots and values anywhere in a peer's message.
#include "strong/peer_checks.h"

#include "strong/handle_name.h"

namespace meridian {
namespace {

Status CheckBallot(const pb::Ballot& b, RegionId region_count) {
  if (b.region() >= region_count) return InvalidArgument("ballot names no region of the cluster");
  if (b.counter() > kBallotCounterMax) return InvalidArgument("ballot counter out of range");
  return Status::Ok();
}

Status CheckValue(const pb::HandleValue& v, RegionId region_count) {
  if (v.owner().size() > kMaxHandleOwnerBytes) return InvalidArgument("owner too long");
  for (const auto& m : v.recent())
    MERIDIAN_RETURN_IF_ERROR(CheckBallot(m.op_id(), region_count));
  return Status::Ok();
}

Status CheckRecord(const pb::AcceptorRecord& r, RegionId region_count) {
  MERIDIAN_RETURN_IF_ERROR(CheckBallot(r.promised(), region_count));
  MERIDIAN_RETURN_IF_ERROR(CheckBallot(r.accepted(), region_count));
  return CheckValue(r.value(), region_count);
}

}  // namespace

Status CheckPeerMessage(const pb::StrongMessage& m, RegionId n) {
  switch (m.body_case()) {
    case pb::StrongMessage::kPrepare:
      return CheckBallot(m.prepare().ballot(), n);
    case pb::StrongMessage::kPromise:
      MERIDIAN_RETURN_IF_ERROR(CheckBallot(m.promise().ballot(), n));
      MERIDIAN_RETURN_IF_ERROR(CheckBallot(m.promise().accepted(), n));
      return CheckValue(m.promise().value(), n);
    case pb::StrongMessage::kAccept:
      MERIDIAN_RETURN_IF_ERROR(CheckBallot(m.accept().ballot(), n));
      MERIDIAN_RETURN_IF_ERROR(CheckBallot(m.accept().next(), n));
      return CheckValue(m.accept().value(), n);
    case pb::StrongMessage::kAccepted:
      return CheckBallot(m.accepted().ballot(), n);
    case pb::StrongMessage::kNack:
      MERIDIAN_RETURN_IF_ERROR(CheckBallot(m.nack().ballot(), n));
      return CheckBallot(m.nack().promised(), n);
    case pb::StrongMessage::kForward:
      if (m.forward().op().owner().size() > kMaxHandleOwnerBytes) {
        return InvalidArgument("owner too long");
      }
      return CheckBallot(m.forward().op_ballot(), n);  // a handed-off request's op id
    case pb::StrongMessage::kForwardReply:
      return CheckValue(m.forward_reply().value(), n);
    case pb::StrongMessage::kSyncReply:
      for (const auto& entry : m.sync_reply().entries())
        MERIDIAN_RETURN_IF_ERROR(CheckRecord(entry.record(), n));
      return Status::Ok();
    case pb::StrongMessage::kSyncRequest:
    case pb::StrongMessage::BODY_NOT_SET:
      return Status::Ok();  // the dispatcher counts an empty body
  }
  return Status::Ok();
}

}  // namespace meridian
