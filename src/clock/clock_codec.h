// Conversions between the clock types and their protobuf encodings (proto/meridian/clock.proto).
//
// Decoding is a trust boundary: bytes may come from a peer or from disk, so every Decode validates
// (region ids in range, vectors canonical) and returns an error instead of asserting.
#pragma once

#include "base/status.h"
#include "clock/dot.h"
#include "clock/hlc.h"
#include "clock/version_vector.h"
#include "meridian/clock.pb.h"

namespace meridian {

void Encode(const HlcTimestamp& in, pb::HlcTimestamp* out);
void Encode(const WriteStamp& in, pb::WriteStamp* out);
void Encode(const Dot& in, pb::Dot* out);
void Encode(const VersionVector& in, pb::VersionVector* out);

Result<HlcTimestamp> Decode(const pb::HlcTimestamp& in);
Result<WriteStamp> Decode(const pb::WriteStamp& in);
Result<Dot> Decode(const pb::Dot& in);
Result<VersionVector> Decode(const pb::VersionVector& in);

}  // namespace meridian
