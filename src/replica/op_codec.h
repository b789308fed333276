// Encoding of replicated ops (pb::Op). Decode is a trust boundary: ops arrive from peers and
// from disk, so every field is validated and a bad op is an error value, never a crash.
#pragma once

#include "base/status.h"
#include "meridian/replica.pb.h"
#include "replica/types.h"

namespace meridian {

void EncodeOp(const Op& op, pb::Op* out);
Result<Op> DecodeOp(const pb::Op& in);

}  // namespace meridian
