// The session token codecs: base64url and the token itself, round trips and garbage.
#include "api/base64url.h"

#include <gtest/gtest.h>

#include <rapidcheck/gtest.h>
#include <algorithm>

#include "api/session_token.h"

namespace meridian {
namespace {

TEST(Base64UrlTest, Rfc4648Vectors) {
  // RFC 4648 section 10, without padding.
  const std::pair<std::string, std::string> vectors[] = {
      {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};
  for (const auto& [bytes, text] : vectors) {
    EXPECT_EQ(Base64UrlEncode(bytes), text);
    EXPECT_EQ(Base64UrlDecode(text), bytes);
  }
  // The URL-safe alphabet: 62 and 63 are '-' and '_', not '+' and '/'.
  EXPECT_EQ(Base64UrlEncode("\xFB\xFF"), "-_8");
  EXPECT_EQ(Base64UrlDecode("-_8"), std::string("\xFB\xFF"));
}

TEST(Base64UrlTest, RefusesNonCanonicalText) {
  for (const char* text :
       {"Zg==", "Zm8=", "+/8", "Zm9v!", "Z", "Zm9vY", "Zh", "Zm9", " Zg", "Zg\n"}) {
    EXPECT_FALSE(Base64UrlDecode(text).has_value()) << text;
  }
}

RC_GTEST_PROP(Base64UrlProp, RoundTrips, (const std::string& bytes)) {
  const std::string text = Base64UrlEncode(bytes);
  RC_ASSERT(text.size() == (bytes.size() * 4 + 2) / 3);
  RC_ASSERT(Base64UrlDecode(text) == bytes);
}

RC_GTEST_PROP(Base64UrlProp, DecodeEncodeIsIdentityOnAcceptedText, (const std::string& text)) {
  if (const auto bytes = Base64UrlDecode(text)) RC_ASSERT(Base64UrlEncode(*bytes) == text);
}

RC_GTEST_PROP(SessionTokenProp, RoundTrips, (const std::vector<uint64_t>& entries)) {
  VersionVector vector;
  for (size_t r = 0; r < entries.size() && r < kMaxRegions; ++r)
    vector.Set(r, entries[r]);
  const std::string token = EncodeSessionToken(vector);
  RC_ASSERT(token.size() <= kSessionTokenCharsMax);
  const Result<VersionVector> decoded = DecodeSessionToken(token);
  RC_ASSERT(decoded.ok());
  RC_ASSERT(*decoded == vector);
}

RC_GTEST_PROP(SessionTokenProp, GarbageNeverCrashes, (const std::string& token)) {
  const Result<VersionVector> decoded = DecodeSessionToken(token);
  if (!decoded.ok()) RC_ASSERT(decoded.status().code() == StatusCode::kInvalidArgument);
}

TEST(SessionTokenTest, EmptyVectorIsTheEmptyToken) {
  EXPECT_EQ(EncodeSessionToken(VersionVector()), "");
  ASSERT_TRUE(DecodeSessionToken("").ok());
  EXPECT_TRUE(DecodeSessionToken("")->IsZero());
}

TEST(SessionTokenTest, RefusesGarbage) {
  const std::pair<std::string, std::string> cases[] = {
      {"not base64!", "session token is not unpadded base64url"},
      {"AAAA=", "session token is not unpadded base64url"},
      {std::string(513, 'A'), "session token is longer than 512 characters"},
      {"_w", "session token is malformed"},  // 0xFF: a truncated varint tag
      // regions [9] values [1]: region out of range.
      {Base64UrlEncode(std::string("\x0a\x01\x09\x12\x01\x01", 6)),
       "session token is malformed: version vector region out of range"},
      // regions [1] values []: lengths differ.
      {Base64UrlEncode(std::string("\x0a\x01\x01", 3)),
       "session token is malformed: version vector regions and values differ in length"},
      // regions [2, 1] values [1, 1]: not ascending.
      {Base64UrlEncode(std::string("\x0a\x02\x02\x01\x12\x02\x01\x01", 8)),
       "session token is malformed: version vector regions not strictly ascending"},
  };
  for (const auto& [token, message] : cases) {
    const Result<VersionVector> decoded = DecodeSessionToken(token);
    ASSERT_FALSE(decoded.ok()) << token;
    EXPECT_EQ(decoded.status(), InvalidArgument(message)) << token;
  }
}

}  // namespace
}  // namespace meridian

namespace meridian {
namespace {

// Contract 4: a token decodes only with the tag of the slice that made it.
RC_GTEST_PROP(SessionTokenProp, ASliceTokenDecodesInItsSliceOnly,
              (const std::vector<uint64_t>& entries, uint8_t slice)) {
  VersionVector vector;
  for (size_t r = 0; r < entries.size() && r < kMaxRegions; ++r)
    vector.Set(r, entries[r]);
  const uint32_t index = slice % 4;
  const std::string tag = SliceTokenTag(index, 4);
  const std::string token = EncodeSessionToken(vector, tag);
  const Result<VersionVector> decoded = DecodeSessionToken(token, tag);
  RC_ASSERT(decoded.ok());
  RC_ASSERT(*decoded == vector);
  RC_ASSERT(!DecodeSessionToken(token, SliceTokenTag((index + 1) % 4, 4)).ok());
  RC_ASSERT(!DecodeSessionToken(token, SliceTokenTag(0, 1)).ok());
  RC_ASSERT(!DecodeSessionToken(token).ok());  // an unsliced region's plain decoding refuses it
}

TEST(SessionTokenTest, UnslicedTokensAreUntagged) {
  EXPECT_EQ(SliceTokenTag(0, 1), "");
  EXPECT_EQ(SliceTokenTag(1, 2), "slice1~");
  VersionVector vector;
  vector.Set(1, 7);
  EXPECT_EQ(EncodeSessionToken(vector, ""), EncodeSessionToken(vector));
  const Result<VersionVector> foreign =
      DecodeSessionToken("slice0~" + EncodeSessionToken(vector), "");
  ASSERT_FALSE(foreign.ok());
  EXPECT_NE(foreign.status().message().find("not sliced"), std::string::npos);
}

}  // namespace
}  // namespace meridian

namespace meridian {
namespace {

RC_GTEST_PROP(SessionTokenProp, ASlicedSessionRoundTrips,
              (const std::vector<std::vector<uint64_t>>& slices)) {
  const auto count = static_cast<uint32_t>(std::clamp<size_t>(slices.size(), 1, 8));
  std::vector<VersionVector> by_slice(count);
  for (uint32_t s = 0; s < count && s < slices.size(); ++s) {
    for (size_t r = 0; r < slices[s].size() && r < kMaxRegions; ++r)
      by_slice[s].Set(static_cast<RegionId>(r), slices[s][r]);
  }
  const std::string token = EncodeSlicedSessionToken(by_slice);
  const Result<std::vector<VersionVector>> decoded = DecodeSlicedSessionToken(token, count);
  RC_ASSERT(decoded.ok());
  RC_ASSERT(*decoded == by_slice);
}

TEST(SessionTokenTest, ASlicedSessionRefusesPartsOfNoSlice) {
  VersionVector v;
  v.Set(0, 3);
  EXPECT_EQ(EncodeSlicedSessionToken({VersionVector(), v}), EncodeSessionToken(v, "slice1~"));
  EXPECT_TRUE(DecodeSlicedSessionToken("", 2).ok());
  EXPECT_FALSE(DecodeSlicedSessionToken(EncodeSessionToken(v, "slice2~"), 2).ok());
  EXPECT_FALSE(DecodeSlicedSessionToken(EncodeSessionToken(v), 2).ok());  // untagged
  EXPECT_FALSE(DecodeSlicedSessionToken("slicex~AA", 2).ok());
  EXPECT_FALSE(DecodeSlicedSessionToken("slice1~!!", 2).ok());
}

}  // namespace
}  // namespace meridian
