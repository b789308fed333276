#include "base/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace meridian {
namespace {

// Encodes a code point the way a naive encoder would, without refusing anything: the validator
// must then refuse surrogates and code points above U+10FFFF.
std::string Encode(uint32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

TEST(Utf8Test, AcceptsWellFormedText) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8(std::string("\0", 1)));                         // U+0000 is a character
  EXPECT_TRUE(IsValidUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));  // é € 😀
  for (uint32_t cp :
       {0x7Fu, 0x80u, 0x7FFu, 0x800u, 0xD7FFu, 0xE000u, 0xFFFDu, 0xFFFFu, 0x10000u, 0x10FFFFu}) {
    EXPECT_TRUE(IsValidUtf8(Encode(cp))) << std::hex << cp;
  }
}

TEST(Utf8Test, RefusesSurrogatesAndBeyondUnicode) {
  for (uint32_t cp : {0xD800u, 0xDBFFu, 0xDC00u, 0xDFFFu, 0x110000u, 0x1FFFFFu}) {
    EXPECT_FALSE(IsValidUtf8(Encode(cp))) << std::hex << cp;
  }
}

TEST(Utf8Test, RefusesOverlongForms) {
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));                  // '/' in two bytes
  EXPECT_FALSE(IsValidUtf8("\xC1\xBF"));                  // U+007F in two bytes
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\xAF"));              // '/' in three bytes
  EXPECT_FALSE(IsValidUtf8("\xE0\x9F\xBF"));              // U+07FF in three bytes
  EXPECT_FALSE(IsValidUtf8("\xF0\x80\x80\xAF"));          // '/' in four bytes
  EXPECT_FALSE(IsValidUtf8("\xF0\x8F\xBF\xBF"));          // U+FFFF in four bytes
  EXPECT_FALSE(IsValidUtf8(std::string("\xC0\x80", 2)));  // "modified UTF-8" NUL
}

TEST(Utf8Test, RefusesBrokenSequences) {
  EXPECT_FALSE(IsValidUtf8("\x80"));  // stray continuation
  EXPECT_FALSE(
      IsValidUtf8("a\xBF"
                  "b"));
  EXPECT_FALSE(IsValidUtf8("\xC3"));  // truncated at the end
  EXPECT_FALSE(IsValidUtf8("\xE2\x82"));
  EXPECT_FALSE(IsValidUtf8("\xF0\x9F\x98"));
  EXPECT_FALSE(
      IsValidUtf8("\xC3"
                  "a"));  // continuation missing
  EXPECT_FALSE(IsValidUtf8("\xE2\x28\xA1"));
  EXPECT_FALSE(IsValidUtf8("\xF0\x9F\x98\x28"));
  for (int lead : {0xF5, 0xF8, 0xFC, 0xFE, 0xFF}) {
    EXPECT_FALSE(IsValidUtf8(std::string(1, static_cast<char>(lead)) + "\x80\x80\x80")) << lead;
  }
}

TEST(Utf8Test, EveryTwoByteSequenceAgreesWithTheTable) {
  // Exhaustive over lead C0..DF: valid exactly when lead >= C2 and the second is a continuation.
  for (int lead = 0xC0; lead <= 0xDF; ++lead) {
    for (int second = 0; second < 256; ++second) {
      const std::string text{static_cast<char>(lead), static_cast<char>(second)};
      EXPECT_EQ(IsValidUtf8(text), lead >= 0xC2 && second >= 0x80 && second <= 0xBF);
    }
  }
}

TEST(Utf8Test, PrefixNeverSplitsACodePoint) {
  const std::string text = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";  // 1 + 2 + 3 + 4 bytes
  const size_t expected[] = {0, 1, 1, 3, 3, 3, 6, 6, 6, 6, 10, 10};
  for (size_t max = 0; max < std::size(expected); ++max) {
    const size_t n = Utf8PrefixBytes(text, max);
    EXPECT_EQ(n, expected[max]) << max;
    EXPECT_TRUE(IsValidUtf8(text.substr(0, n)));
  }
}

}  // namespace
}  // namespace meridian
