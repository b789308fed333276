#include "lab/text_markers.h"

#include <unordered_map>

namespace meridian {

std::string TextMarker(uint32_t i) {
  const uint32_t cp = kTextMarkerBase + i;  // always 4 bytes: U+10000..U+10FFFF
  std::string out;
  out += static_cast<char>(0xF0 | (cp >> 18));
  out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
  out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
  out += static_cast<char>(0x80 | (cp & 0x3F));
  return out;
}

std::optional<std::vector<uint32_t>> DecodeUtf8(std::string_view text) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    size_t extra = 0;
    uint32_t cp = 0;
    if (lead < 0x80) {
      cp = lead;
    } else if ((lead & 0xE0) == 0xC0) {
      extra = 1;
      cp = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
      extra = 2;
      cp = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
      extra = 3;
      cp = lead & 0x07;
    } else {
      return std::nullopt;
    }
    if (i + extra >= text.size() && extra > 0) return std::nullopt;  // truncated
    for (size_t k = 1; k <= extra; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return std::nullopt;
      cp = (cp << 6) | (next & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[extra] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
    out.push_back(cp);
    i += extra + 1;
  }
  return out;
}

TextCheck CheckText(std::string_view text, const std::vector<TextInsert>& inserts) {
  TextCheck check;
  const auto decoded = DecodeUtf8(text);
  if (!decoded) {
    check.decoded = false;
    return check;
  }
  check.length = decoded->size();
  // Where each code point shows (its first position), and how often.
  std::unordered_map<uint32_t, size_t> first_at, shown;
  for (size_t pos = 0; pos < decoded->size(); ++pos) {
    const uint32_t cp = (*decoded)[pos];
    if (shown[cp]++ == 0) first_at[cp] = pos;
  }
  std::unordered_map<uint32_t, bool> carried;
  for (const TextInsert& insert : inserts) {
    bool ordered = true;
    size_t last = 0;
    bool any = false;
    for (uint32_t i : insert) {
      const uint32_t cp = kTextMarkerBase + i;
      ++check.inserted;
      carried[cp] = true;
      auto it = first_at.find(cp);
      if (it == first_at.end()) {
        ++check.missing;
        continue;
      }
      if (any && it->second < last) ordered = false;
      last = it->second;
      any = true;
    }
    if (!ordered) ++check.out_of_order;
  }
  for (const auto& [cp, count] : shown) {
    if (!carried.contains(cp))
      check.unknown += count;
    else if (count > 1)
      check.doubled += count - 1;
  }
  return check;
}

}  // namespace meridian
