// SplitInlineArgs: the words of an inline request, as redis-server's sdssplitargs (sds.c) reads
// them. Internal to RespParser; separate so its tests can call it directly.
//
// Rules (all of sdssplitargs's):
//  1. Words are separated by blanks (isspace: ' ', \t, \n, \v, \f, \r). Leading blanks are
//     skipped; inside a word only ' ', \t, \n, \r end it, so "a\vb" is one word.
//  2. A double or single quote opens a quoted part anywhere in a word (`a"b c"` is "ab c"). A
//     closing quote must be followed by a blank or the end of the line, else the line is refused.
//  3. Inside double quotes: \xHH is the byte 0xHH; \n \r \t \b \a are those controls; \ before
//     any other byte is that byte. Inside single quotes only \' is an escape.
//  4. An unclosed quote refuses the line. `""` is an empty word.
// The caller passes the line without its terminator and cut at its first NUL (sdssplitargs reads
// a C string).
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

namespace meridian {

enum class InlineSplit { kOk, kUnbalancedQuotes, kTooBig };

// Appends the words of [begin, end) to *words, unescaping them in place: each word is written
// over the bytes it was read from (an unescaped word is never longer than its text), and the
// views point there. Reads left to right and stops at the first problem: kUnbalancedQuotes
// (rules 2 and 4), or kTooBig when a word, once read, is longer than `max_word_bytes` or is word
// number max_words + 1. *words is unspecified unless kOk.
InlineSplit SplitInlineArgs(char* begin, char* end, size_t max_words, size_t max_word_bytes,
                            std::vector<std::string_view>* words);

}  // namespace meridian
