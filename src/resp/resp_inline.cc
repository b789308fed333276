#include "resp/resp_inline.h"

namespace meridian {
namespace {

// isspace() in the C locale, which is what sdssplitargs skips between words.
bool IsBlank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// What ends an unquoted word: sdssplitargs's narrower set (no \v, \f).
bool EndsWord(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

char Unescape(char c) {
  switch (c) {
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 't':
      return '\t';
    case 'b':
      return '\b';
    case 'a':
      return '\a';
    default:
      return c;
  }
}

// A closing quote ends its word, and must be followed by a blank or the end of the line.
bool ClosesWell(const char* after, const char* end) {
  return after == end || IsBlank(*after);
}

// Reads one word starting at *p (not a blank), writing it from *p onwards; leaves *p after it and
// sets *word_end. Returns false on unbalanced quotes.
bool ReadWord(char** p_inout, char* end, char** word_end) {
  char* p = *p_inout;
  char* w = p;  // w <= p throughout: the write never overtakes the read
  char quote = 0;
  for (;;) {
    if (quote == 0) {
      if (p == end || EndsWord(*p)) break;
      if (*p == '"' || *p == '\'') {
        quote = *p++;
      } else {
        *w++ = *p++;
      }
    } else if (p == end) {
      return false;
    } else if (quote == '"') {
      if (*p == '\\' && end - p >= 4 && p[1] == 'x' && HexValue(p[2]) >= 0 && HexValue(p[3]) >= 0) {
        *w++ = static_cast<char>(HexValue(p[2]) * 16 + HexValue(p[3]));
        p += 4;
      } else if (*p == '\\' && end - p >= 2) {
        *w++ = Unescape(p[1]);
        p += 2;
      } else if (*p == '"') {
        ++p;
        if (!ClosesWell(p, end)) return false;
        break;
      } else {
        *w++ = *p++;
      }
    } else {  // single quotes
      if (*p == '\\' && end - p >= 2 && p[1] == '\'') {
        *w++ = '\'';
        p += 2;
      } else if (*p == '\'') {
        ++p;
        if (!ClosesWell(p, end)) return false;
        break;
      } else {
        *w++ = *p++;
      }
    }
  }
  *p_inout = p;
  *word_end = w;
  return true;
}

}  // namespace

InlineSplit SplitInlineArgs(char* begin, char* end, size_t max_words, size_t max_word_bytes,
                            std::vector<std::string_view>* words) {
  char* p = begin;
  for (;;) {
    while (p < end && IsBlank(*p))
      ++p;
    if (p == end) return InlineSplit::kOk;
    char* const word = p;
    char* word_end = nullptr;
    if (!ReadWord(&p, end, &word_end)) return InlineSplit::kUnbalancedQuotes;
    words->emplace_back(word, static_cast<size_t>(word_end - word));
    if (words->size() > max_words || words->back().size() > max_word_bytes) {
      return InlineSplit::kTooBig;
    }
  }
}

}  // namespace meridian
