// MutateBytes: one random edit of a byte string, for the deterministic fuzz tests of parsers.
//
// Seeded (base/random.h), so a failing input replays; bytes are drawn from `alphabet` most of the
// time (the characters the parser cares about) and uniformly otherwise.
#pragma once

#include <string>
#include <string_view>

#include "base/random.h"

namespace meridian {

inline char RandomByte(Random& rng, std::string_view alphabet) {
  if (!alphabet.empty() && rng.Chance(0.7)) return alphabet[rng.Uniform(alphabet.size())];
  return static_cast<char>(rng.Uniform(256));
}

// Overwrites a byte, inserts one, deletes a range, or duplicates a range.
inline void MutateBytes(Random& rng, std::string_view alphabet, std::string& text) {
  const size_t at = text.empty() ? 0 : rng.Uniform(text.size());
  const size_t len = 1 + rng.Uniform(16);
  switch (rng.Uniform(4)) {
    case 0:
      if (!text.empty()) text[at] = RandomByte(rng, alphabet);
      break;
    case 1:
      text.insert(at, 1, RandomByte(rng, alphabet));
      break;
    case 2:
      text.erase(at, len);
      break;
    default:
      text.insert(at, text.substr(at, len));
      break;
  }
}

}  // namespace meridian
