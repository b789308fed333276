// CommandName: a command or option word as RESP servers compare it. Redis matches command names
// and options case-insensitively in ASCII, so every front end upper-cases them before comparing.
#pragma once

#include <string>
#include <string_view>

namespace meridian {

// `text` with ASCII a-z upper-cased; other bytes (UTF-8 included) unchanged.
inline std::string CommandName(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

}  // namespace meridian
