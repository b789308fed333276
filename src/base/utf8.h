// UTF-8 validation for text that crosses the client API (keys, field names, tag elements) or
// names a metric's child (obs/metrics.h), and truncation that keeps text valid.
//
// Contract:
//  1. IsValidUtf8 accepts exactly the well-formed UTF-8 of Unicode 15, Table 3-7: it rejects
//     overlong forms, UTF-16 surrogates (U+D800..U+DFFF), code points above U+10FFFF, stray
//     continuation bytes and truncated sequences. U+0000 is valid.
//  2. Utf8PrefixBytes never splits a code point, so a prefix of valid text is valid text.
//
// Hand-written because it is forty lines: no Debian package offers a small validator, and
// nlohmann-json validates only strings inside JSON documents, not URL path segments.
#pragma once

#include <cstddef>
#include <string_view>

namespace meridian {

bool IsValidUtf8(std::string_view text);

// The length of the longest prefix of `text` that is at most `bytes_max` bytes and ends on a
// code point boundary. REQUIRES: IsValidUtf8(text).
size_t Utf8PrefixBytes(std::string_view text, size_t bytes_max);

}  // namespace meridian
