// libFuzzer target: DecodeSessionToken (session_token.h, contract 3) takes any bytes a client
// sends in X-Session-Token: garbage yields InvalidArgument, never a crash; what it accepts
// re-encodes to a token that decodes to the same vector (contract 2), and an accepted token is
// within kSessionTokenCharsMax. Also compiled into fuzz_test over seeded random inputs.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/session_token.h"
#include "base/assert.h"
#include "fuzz/fuzz_bodies.h"

namespace meridian::fuzz {

FuzzOutcome RunSessionTokenFuzz(const uint8_t* data, size_t size) {
  const std::string_view token(reinterpret_cast<const char*>(data), size);
  auto decoded = DecodeSessionToken(token);
  if (!decoded.ok()) {
    MERIDIAN_ASSERT(decoded.status().code() == StatusCode::kInvalidArgument);
    return {0, 1};
  }
  MERIDIAN_ASSERT(token.size() <= kSessionTokenCharsMax);
  const std::string again = EncodeSessionToken(*decoded);
  MERIDIAN_ASSERT(again.size() <= kSessionTokenCharsMax);
  auto round_trip = DecodeSessionToken(again);
  MERIDIAN_ASSERT(round_trip.ok() && *round_trip == *decoded);
  return {1, 0};
}

}  // namespace meridian::fuzz
