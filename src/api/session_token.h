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
//  4. A sliced region's tokens name their slice (docs/slices.md): its slice's tag ("slice1~",
//     SliceTokenTag) before the vector's token. Each slice has vectors of its own, so a token is
//     decoded only with the tag it was encoded with: a slice refuses another slice's token, and an
//     unsliced region a sliced one's ('~' is outside base64url), rather than misread it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "clock/version_vector.h"

namespace meridian {

// A canonical vector of kMaxRegions entries encodes to under 120 bytes (160 characters); the
// headroom tolerates a future wider vector while bounding what one header makes us decode.
inline constexpr size_t kSessionTokenCharsMax = 512;

std::string EncodeSessionToken(const VersionVector& vector);
Result<VersionVector> DecodeSessionToken(std::string_view token);

// Contract 4: "" for an unsliced region (count 1), else "slice<index>~".
std::string SliceTokenTag(uint32_t index, uint32_t count);
std::string EncodeSessionToken(const VersionVector& vector, std::string_view tag);
Result<VersionVector> DecodeSessionToken(std::string_view token, std::string_view tag);

// A session across every slice of a sliced cluster (what the router keeps per client): one
// vector per slice, encoded as the tagged tokens of the slices whose vector is not zero, joined
// by ','. With one slice it is exactly EncodeSessionToken of its vector. Decoding refuses a part
// naming a slice >= `count`, and bounds the whole at count * kSessionTokenCharsMax characters.
std::string EncodeSlicedSessionToken(const std::vector<VersionVector>& by_slice);
Result<std::vector<VersionVector>> DecodeSlicedSessionToken(std::string_view token, uint32_t count);

}  // namespace meridian
