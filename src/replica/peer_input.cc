// Peer input checks (peer_input.h).
#include "replica/peer_input.h"

#include <variant>

namespace meridian {
namespace {

Status CheckName(const std::string& name, std::string_view what) {
  if (name.size() > kPeerKeyBytesMax) {
    return InvalidArgument(std::string(what) + " is longer than the API allows");
  }
  return Status::Ok();
}

}  // namespace

std::string_view PeerRefusalName(PeerRefusal reason) {
  switch (reason) {
    case PeerRefusal::kEnvelope:
      return "envelope";
    case PeerRefusal::kVector:
      return "vector";
    case PeerRefusal::kOp:
      return "op";
    case PeerRefusal::kOpOrigin:
      return "op_origin";
    case PeerRefusal::kBatch:
      return "batch";
    case PeerRefusal::kOwnOpsClaim:
      return "own_ops_claim";
    case PeerRefusal::kSnapshot:
      return "snapshot";
    case PeerRefusal::kRepair:
      return "repair";
    case PeerRefusal::kReadRequest:
      return "read_request";
    case PeerRefusal::kCount:
      break;
  }
  return "unknown";
}

Status CheckVectorRegions(const VersionVector& v, RegionId region_count) {
  for (RegionId r = region_count; r < kMaxRegions; ++r) {
    if (v.Get(r) != 0) return InvalidArgument("vector names a region outside the cluster");
  }
  return Status::Ok();
}

Status CheckKeyBounds(const StateKey& key) {
  if (key.key.empty()) return InvalidArgument("key is empty");
  return CheckName(key.key, "key");
}

Status CheckOpBounds(const Op& op) {
  MERIDIAN_RETURN_IF_ERROR(CheckKeyBounds(op.target));
  if (op.idempotency_key.size() > kPeerIdempotencyKeyBytesMax) {
    return InvalidArgument("idempotency key is longer than the API allows");
  }
  if (const auto* map = std::get_if<LwwMapOp>(&op.body)) {
    for (const auto& [field, value] : map->fields) {
      MERIDIAN_RETURN_IF_ERROR(CheckName(field, "field name"));
      if (value && value->size() > kPeerValueBytesMax) {
        return InvalidArgument("field value is larger than the API allows");
      }
    }
  } else if (const auto* tags = std::get_if<std::vector<OrSetOp>>(&op.body)) {
    for (const auto& t : *tags) {
      if (t.element.size() > kPeerTagBytesMax) {
        return InvalidArgument("tag is longer than the API allows");
      }
    }
  } else if (const auto* mv = std::get_if<MvOp>(&op.body)) {
    if (mv->value.size() > kPeerValueBytesMax) {
      return InvalidArgument("register value is larger than the API allows");
    }
  }
  return Status::Ok();
}

}  // namespace meridian
