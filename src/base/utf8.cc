#include "base/utf8.h"

#include <cstdint>

namespace meridian {
namespace {

bool IsContinuation(uint8_t byte) {
  return (byte & 0xC0) == 0x80;
}

// The length of the well-formed sequence starting at text[i], or 0 when it is ill-formed.
// The second byte's allowed range is what excludes overlongs (E0, F0), surrogates (ED) and
// code points above U+10FFFF (F4); see Unicode Table 3-7.
size_t SequenceLength(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(text[i + k]); };
  const uint8_t lead = byte(0);
  if (lead < 0x80) return 1;
  size_t length = 0;
  uint8_t second_lo = 0x80, second_hi = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) second_lo = 0xA0;
    if (lead == 0xED) second_hi = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) second_lo = 0x90;
    if (lead == 0xF4) second_hi = 0x8F;
  } else {
    return 0;  // 80..C1 (continuation or overlong 2-byte lead) and F5..FF never start a sequence
  }
  if (text.size() - i < length) return 0;
  if (byte(1) < second_lo || byte(1) > second_hi) return 0;
  for (size_t k = 2; k < length; ++k) {
    if (!IsContinuation(byte(k))) return 0;
  }
  return length;
}

}  // namespace

bool IsValidUtf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const size_t length = SequenceLength(text, i);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

size_t Utf8PrefixBytes(std::string_view text, size_t bytes_max) {
  if (text.size() <= bytes_max) return text.size();
  size_t end = bytes_max;
  while (end > 0 && IsContinuation(static_cast<uint8_t>(text[end])))
    --end;
  return end;
}

}  // namespace meridian
