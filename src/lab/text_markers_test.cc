#include "lab/text_markers.h"

#include <gtest/gtest.h>

namespace meridian {
namespace {

std::string Text(std::initializer_list<uint32_t> markers) {
  std::string out;
  for (uint32_t i : markers)
    out += TextMarker(i);
  return out;
}

TEST(TextMarkersTest, MarkersAreDistinctFourByteCodePoints) {
  EXPECT_EQ(TextMarker(0), "\xF0\xA0\x80\x80");  // U+20000
  const auto last = DecodeUtf8(TextMarker(kTextMarkerCapacity - 1));
  ASSERT_TRUE(last.has_value());
  ASSERT_EQ(last->size(), 1u);
  EXPECT_EQ((*last)[0], 0x2FFFDu);
  const auto decoded = DecodeUtf8(Text({7, 8, 9}));
  ASSERT_TRUE(decoded.has_value());
  EXPECT_EQ(*decoded, (std::vector<uint32_t>{0x20007, 0x20008, 0x20009}));
}

TEST(TextMarkersTest, DecodeRefusesWhatIsNotUtf8) {
  EXPECT_FALSE(DecodeUtf8("\xF0\xA0\x80").has_value());  // truncated
  EXPECT_FALSE(DecodeUtf8("\xC0\xAF").has_value());      // overlong '/'
  EXPECT_FALSE(DecodeUtf8("\xED\xA0\x80").has_value());  // a surrogate
  EXPECT_FALSE(DecodeUtf8("\x80").has_value());          // a lone continuation
  EXPECT_EQ(DecodeUtf8("a\xC3\xA9")->size(), 2u);        // a, e-acute
}

TEST(TextMarkersTest, AConvergedTextWithSomeCharactersDeletedPasses) {
  // Inserts {0,1,2} and {3,4}; the second landed inside the first; 1 was deleted.
  const TextCheck check = CheckText(Text({0, 3, 4, 2}), {{0, 1, 2}, {3, 4}});
  EXPECT_TRUE(check.decoded);
  EXPECT_EQ(check.length, 4u);
  EXPECT_EQ(check.inserted, 5u);
  EXPECT_EQ(check.missing, 1u);
  EXPECT_EQ(check.unknown, 0u);
  EXPECT_EQ(check.doubled, 0u);
  EXPECT_EQ(check.out_of_order, 0u);
}

TEST(TextMarkersTest, ACharacterAppliedTwiceIsDoubled) {
  const TextCheck check = CheckText(Text({0, 1, 1, 1}), {{0, 1}});
  EXPECT_EQ(check.doubled, 2u);
  EXPECT_EQ(check.missing, 0u);
}

TEST(TextMarkersTest, AnInsertShownOutOfItsOrderIsCaught) {
  const TextCheck check = CheckText(Text({2, 0, 1}), {{0, 1, 2}});
  EXPECT_EQ(check.out_of_order, 1u);
}

TEST(TextMarkersTest, CharactersNoInsertCarriedAreUnknown) {
  const TextCheck check = CheckText("x" + Text({0}), {{0}, {1}});
  EXPECT_EQ(check.unknown, 1u);
  EXPECT_EQ(check.missing, 1u);
  EXPECT_FALSE(CheckText("\xFF", {}).decoded);
}

}  // namespace
}  // namespace meridian
