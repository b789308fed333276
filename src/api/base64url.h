// Base64url (RFC 4648 section 5) without padding: the encoding of session tokens, which travel in
// headers and URLs.
//
// Contract:
//  1. Base64UrlDecode(Base64UrlEncode(b)) == b for all bytes b.
//  2. Decoding is strict and canonical: it refuses padding, characters outside [A-Za-z0-9_-],
//     a length of 1 mod 4, and non-zero unused bits in the last character, so every byte string
//     has exactly one accepted encoding.
//
// Written here because it is thirty lines: Debian packages no small base64 library worth a
// dependency (Boost.Beast's is in a detail namespace; OpenSSL's BIO speaks standard base64 only).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace meridian {

std::string Base64UrlEncode(std::string_view bytes);

// nullopt when `text` is not the canonical unpadded base64url encoding of some bytes.
std::optional<std::string> Base64UrlDecode(std::string_view text);

}  // namespace meridian
