#include "api/session_token.h"

#include <optional>

#include "api/base64url.h"
#include "clock/clock_codec.h"
#include "meridian/clock.pb.h"

namespace meridian {

std::string EncodeSessionToken(const VersionVector& vector) {
  pb::VersionVector proto;
  Encode(vector, &proto);
  const std::string token = Base64UrlEncode(proto.SerializeAsString());
  MERIDIAN_ASSERT(token.size() <= kSessionTokenCharsMax);
  return token;
}

Result<VersionVector> DecodeSessionToken(std::string_view token) {
  if (token.size() > kSessionTokenCharsMax) {
    return InvalidArgument("session token is longer than " + std::to_string(kSessionTokenCharsMax) +
                           " characters");
  }
  const std::optional<std::string> bytes = Base64UrlDecode(token);
  if (!bytes) return InvalidArgument("session token is not unpadded base64url");
  pb::VersionVector proto;
  if (!proto.ParseFromString(*bytes)) return InvalidArgument("session token is malformed");
  Result<VersionVector> vector = Decode(proto);
  if (!vector.ok())
    return InvalidArgument("session token is malformed: " + vector.status().message());
  return vector;
}

}  // namespace meridian
