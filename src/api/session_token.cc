#include "api/session_token.h"

#include <algorithm>
#include <charconv>
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

std::string EncodeSlicedSessionToken(const std::vector<VersionVector>& by_slice) {
  const auto count = static_cast<uint32_t>(by_slice.size());
  if (count == 1) return EncodeSessionToken(by_slice[0]);
  std::string out;
  for (uint32_t slice = 0; slice < count; ++slice) {
    if (by_slice[slice].IsZero()) continue;
    out +=
        (out.empty() ? "" : ",") + EncodeSessionToken(by_slice[slice], SliceTokenTag(slice, count));
  }
  return out;
}

Result<std::vector<VersionVector>> DecodeSlicedSessionToken(std::string_view token,
                                                            uint32_t count) {
  std::vector<VersionVector> by_slice(count);
  if (count == 1) {
    Result<VersionVector> one = DecodeSessionToken(token);
    if (!one.ok()) return one.status();
    by_slice[0] = *one;
    return by_slice;
  }
  if (token.size() > size_t{count} * kSessionTokenCharsMax) {
    return InvalidArgument("session token is longer than " +
                           std::to_string(size_t{count} * kSessionTokenCharsMax) + " characters");
  }
  while (!token.empty()) {
    const size_t comma = token.find(',');
    const std::string_view part = token.substr(0, comma);
    token = comma == std::string_view::npos ? std::string_view() : token.substr(comma + 1);
    uint32_t slice = count;
    const size_t tilde = part.find('~');
    if (part.starts_with("slice") && tilde != std::string_view::npos) {
      const std::string_view digits = part.substr(5, tilde - 5);
      uint32_t value = 0;
      const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
      if (ec == std::errc() && end == digits.data() + digits.size() && !digits.empty()) {
        slice = value;
      }
    }
    if (slice >= count) {
      return InvalidArgument("session token part '" + std::string(part.substr(0, 16)) +
                             "...' names no slice of " + std::to_string(count));
    }
    Result<VersionVector> vector = DecodeSessionToken(part, SliceTokenTag(slice, count));
    if (!vector.ok()) return vector.status();
    by_slice[slice].Merge(*vector);
  }
  return by_slice;
}

}  // namespace meridian
