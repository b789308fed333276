// Conversions between the CRDT ops and their protobuf encodings (proto/meridian/crdt.proto). The
// replica embeds these in its op message, next to the op's stamp and dot.
//
// Decoding is a trust boundary: bytes come from a peer or from disk, so every Decode validates
// (dots well formed, lists canonical, names unique) and returns INVALID_ARGUMENT naming the
// problem; it never asserts. Encode asserts that the op is one Decode would accept, so a bad op
// stops at its origin instead of being refused by every peer.
#pragma once

#include "base/status.h"
#include "crdt/lww_map.h"
#include "crdt/or_set.h"
#include "meridian/crdt.pb.h"

namespace meridian {

// Field order is kept; names must be unique.
void Encode(const LwwMapOp& in, pb::LwwMapOp* out);
// An add carries its dot; a remove carries none; `observed` strictly ascending, older than the dot.
void Encode(const OrSetOp& in, pb::OrSetOp* out);
void Encode(const MvOp& in, pb::MvOp* out);

Result<LwwMapOp> Decode(const pb::LwwMapOp& in);
Result<OrSetOp> Decode(const pb::OrSetOp& in);
Result<MvOp> Decode(const pb::MvOp& in);

}  // namespace meridian
