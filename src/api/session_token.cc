#include "api/session_token.h"

#include <algorithm>
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

std::string SliceTokenTag(uint32_t index, uint32_t count) {
  return count > 1 ? "slice" + std::to_string(index) + "~" : std::string();
}

std::string EncodeSessionToken(const VersionVector& vector, std::string_view tag) {
  return std::string(tag) + EncodeSessionToken(vector);
}

Result<VersionVector> DecodeSessionToken(std::string_view token, std::string_view tag) {
  const size_t tilde = token.find('~');
  if (tag.empty() && tilde != std::string_view::npos) {
    return InvalidArgument("session token is a sliced region's ('" +
                           std::string(token.substr(0, std::min<size_t>(tilde + 1, 16))) +
                           "...'), and this region is not sliced");
  }
  if (!token.starts_with(tag)) {
    return InvalidArgument("session token is not this slice's (its tokens start with '" +
                           std::string(tag) + "'): a token is valid in the slice that made it");
  }
  return DecodeSessionToken(token.substr(tag.size()));
}

}  // namespace meridian
