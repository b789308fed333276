// Session tokens: a region's version vector, handed to the client after every write (and read),
// sent back in X-Session-Token so that a read in any region waits until it has applied at least
// that much (read-your-writes and monotonic reads across regions, DESIGN.md section 6).
//
// Contract:
//  1. The token is the unpadded base64url of the serialized pb::VersionVector: opaque to
//     clients, safe in headers and URLs, and at most kSessionTokenCharsMax characters.
//  2. DecodeSessionToken(EncodeSessionToken(v)) == v.
//  3. Decoding treats the token as untrusted input: garbage yields InvalidArgument, never a crash.
//     Region ids are checked against kMaxRegions only; the caller checks them against its cluster.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/status.h"
#include "clock/version_vector.h"

namespace meridian {

// A canonical vector of kMaxRegions entries encodes to under 120 bytes (160 characters); the
// headroom tolerates a future wider vector while bounding what one header makes us decode.
inline constexpr size_t kSessionTokenCharsMax = 512;

std::string EncodeSessionToken(const VersionVector& vector);
Result<VersionVector> DecodeSessionToken(std::string_view token);

}  // namespace meridian
