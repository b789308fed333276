// The `text` experiment's bookkeeping: every character any client inserts is a code point no
// other insert uses (plane 2, U+20000 on), so the final text can be accounted for character by
// character against what was inserted, whatever the concurrent deletes removed. Pure functions.
//
// Contract: CheckText never throws; text that is not UTF-8 is reported (decoded = false), not
// fatal.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meridian {

// The i-th unique character is U+20000 + i, for i < kTextMarkerCapacity (all of plane 2 but its
// two noncharacters): valid UTF-8, 4 bytes each, one code point each for the server's positions.
inline constexpr uint32_t kTextMarkerBase = 0x20000;
inline constexpr uint32_t kTextMarkerCapacity = 0xFFFE;

// The UTF-8 of the i-th unique character (i < kTextMarkerCapacity).
std::string TextMarker(uint32_t i);

// The code points of `text`, or nullopt when it is not well-formed UTF-8.
std::optional<std::vector<uint32_t>> DecodeUtf8(std::string_view text);

// One acknowledged insert: its characters' indices (TextMarker), in the order inserted.
using TextInsert = std::vector<uint32_t>;

// What a final text holds of the acknowledged inserts.
struct TextCheck {
  bool decoded = true;      // false: the text is not UTF-8 (nothing else is counted)
  size_t length = 0;        // code points in the text
  size_t inserted = 0;      // code points the inserts carried
  size_t unknown = 0;       // code points in the text that no insert carried
  size_t doubled = 0;       // extra copies of code points shown more than once
  size_t out_of_order = 0;  // inserts whose characters shown are not in their inserted order
  size_t missing = 0;       // inserted code points not in the text (deleted, or lost)
};

// Accounts `text` against `inserts`. A correct text has unknown == doubled == out_of_order == 0
// and missing <= the code points acknowledged deletes removed (concurrent deletes of the same
// character count once in the text and twice in the deletes, so the bound is not an equality).
TextCheck CheckText(std::string_view text, const std::vector<TextInsert>& inserts);

}  // namespace meridian
