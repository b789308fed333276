// libFuzzer target: RespParser must answer any bytes, split any way, exactly as a whole-input
// reference decoder does, never crash, and never hand out a view outside its buffer. Also
// compiled into resp_test, which feeds it seeded random and mutated inputs (resp_fuzz_test.cc).
//
// Input layout: byte 0 picks the run (bit 0: RespParserOptions::ForTest() limits, else the
// defaults; bit 1: an unauthenticated client; bits 2-3: how the bytes are fed: all at once, one
// by one, random pieces, random pieces read through PrepareAppend). The rest is the stream.
//
// The reference decoder below is written from the rules in resp_parser.h and Redis's own code
// shape (sdssplitargs over a NUL-terminated copy, string2ll as "the canonical text of an int64"),
// not from resp_parser.cc: it copies, rescans, and never sees a partial buffer.
#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/assert.h"
#include "base/random.h"
#include "resp/resp_parser.h"
#include "resp/resp_writer.h"

namespace meridian {
namespace {

using Command = std::vector<std::string>;

struct Decoded {
  std::vector<Command> commands;
  std::string error;    // empty: the input ends needing more bytes
  size_t consumed = 0;  // bytes of the requests before the error or the incomplete request
};

// string2ll accepts exactly the canonical decimal text of an int64.
std::optional<int64_t> CanonicalInteger(std::string_view text) {
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (std::to_string(value) != text) return std::nullopt;
  return value;
}

enum class LineState { kNeedMore, kInvalid, kValid };

// The `<integer>\r\n` line at `from`. 20 characters is the longest int64.
LineState LengthLine(std::string_view in, size_t from, int64_t* value, size_t* next) {
  const size_t cr = in.find('\r', from);
  const size_t length = (cr == std::string_view::npos ? in.size() : cr) - from;
  if (length > 20) return LineState::kInvalid;
  if (cr == std::string_view::npos || cr + 1 == in.size()) return LineState::kNeedMore;
  if (in[cr + 1] != '\n') return LineState::kInvalid;
  const auto parsed = CanonicalInteger(in.substr(from, length));
  if (!parsed) return LineState::kInvalid;
  *value = *parsed;
  *next = cr + 2;
  return LineState::kValid;
}

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
int Hex(char c) {
  return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
bool IsSpace(char c) {
  return c == ' ' || (c >= '\t' && c <= '\r');
}

enum class Split { kOk, kUnbalanced, kTooBig };

// sds.c's sdssplitargs, in its own shape: a pointer over a NUL-terminated string.
Split SdsSplitArgs(const std::string& line, const RespParserOptions& options,
                   std::vector<std::string>* words) {
  const char* p = line.c_str();
  for (;;) {
    while (*p && IsSpace(*p))
      ++p;
    if (!*p) return Split::kOk;
    bool inq = false, insq = false, done = false;
    std::string current;
    while (!done) {
      if (inq) {
        if (*p == '\\' && *(p + 1) == 'x' && IsHex(*(p + 2)) && IsHex(*(p + 3))) {
          current += static_cast<char>(Hex(*(p + 2)) * 16 + Hex(*(p + 3)));
          p += 3;
        } else if (*p == '\\' && *(p + 1)) {
          ++p;
          const char c = *p == 'n'   ? '\n'
                         : *p == 'r' ? '\r'
                         : *p == 't' ? '\t'
                         : *p == 'b' ? '\b'
                         : *p == 'a' ? '\a'
                                     : *p;
          current += c;
        } else if (*p == '"') {
          if (*(p + 1) && !IsSpace(*(p + 1))) return Split::kUnbalanced;
          done = true;
        } else if (!*p) {
          return Split::kUnbalanced;
        } else {
          current += *p;
        }
      } else if (insq) {
        if (*p == '\\' && *(p + 1) == '\'') {
          ++p;
          current += '\'';
        } else if (*p == '\'') {
          if (*(p + 1) && !IsSpace(*(p + 1))) return Split::kUnbalanced;
          done = true;
        } else if (!*p) {
          return Split::kUnbalanced;
        } else {
          current += *p;
        }
      } else {
        switch (*p) {
          case ' ':
          case '\n':
          case '\r':
          case '\t':
          case '\0':
            done = true;
            break;
          case '"':
            inq = true;
            break;
          case '\'':
            insq = true;
            break;
          default:
            current += *p;
            break;
        }
      }
      if (*p) ++p;
    }
    words->push_back(std::move(current));
    if (words->size() > options.max_args || words->back().size() > options.max_bulk_bytes) {
      return Split::kTooBig;
    }
  }
}

// One request at `at`: appends it to *out (if not empty) and returns the byte after it, or
// nullopt when the input ends first or *error was set.
std::optional<size_t> DecodeInline(std::string_view in, size_t at, const RespParserOptions& options,
                                   Decoded* out) {
  const size_t newline = in.find('\n', at);
  if (newline == std::string_view::npos) {
    const size_t pending = in.size() - at - (in.back() == '\r' ? 1 : 0);
    if (pending > options.max_inline_bytes)
      out->error = "ERR Protocol error: too big inline request";
    return std::nullopt;
  }
  std::string line(in.substr(at, newline - at));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.size() > options.max_inline_bytes) {
    out->error = "ERR Protocol error: too big inline request";
    return std::nullopt;
  }
  std::vector<std::string> words;
  switch (SdsSplitArgs(line, options, &words)) {  // c_str(): the words end at a NUL
    case Split::kUnbalanced:
      out->error = "ERR Protocol error: unbalanced quotes in request";
      return std::nullopt;
    case Split::kTooBig:
      out->error = "ERR Protocol error: too big inline request";
      return std::nullopt;
    case Split::kOk:
      break;
  }
  if (!words.empty()) out->commands.push_back(std::move(words));
  return newline + 1;
}

std::optional<size_t> DecodeMultibulk(std::string_view in, size_t at,
                                      const RespParserOptions& options, bool authenticated,
                                      Decoded* out) {
  const size_t start = at;
  int64_t count = 0;
  size_t next = 0;
  const LineState count_line = LengthLine(in, at + 1, &count, &next);
  if (count_line == LineState::kNeedMore) return std::nullopt;
  if (count_line == LineState::kInvalid || (count > 0 && uint64_t(count) > options.max_args)) {
    out->error = "ERR Protocol error: invalid multibulk length";
    return std::nullopt;
  }
  if (count <= 0) return next;
  if (!authenticated && uint64_t(count) > options.max_args_unauthenticated) {
    out->error = "ERR Protocol error: unauthenticated multibulk length";
    return std::nullopt;
  }
  at = next;
  Command command;
  for (int64_t i = 0; i < count; ++i) {
    if (at == in.size()) return std::nullopt;
    if (in[at] != '$') {
      const char got = in[at] == '\r' || in[at] == '\n' ? ' ' : in[at];
      out->error = std::string("ERR Protocol error: expected '$', got '") + got + "'";
      return std::nullopt;
    }
    int64_t length = 0;
    const LineState bulk_line = LengthLine(in, at + 1, &length, &next);
    if (bulk_line == LineState::kNeedMore) return std::nullopt;
    if (bulk_line == LineState::kInvalid || length < 0 ||
        uint64_t(length) > options.max_bulk_bytes) {
      out->error = "ERR Protocol error: invalid bulk length";
      return std::nullopt;
    }
    if (!authenticated && uint64_t(length) > options.max_bulk_bytes_unauthenticated) {
      out->error = "ERR Protocol error: unauthenticated bulk length";
      return std::nullopt;
    }
    if (next - start + uint64_t(length) + 2 > options.max_command_bytes) {
      out->error = "ERR Protocol error: too big multibulk request";
      return std::nullopt;
    }
    if (in.size() - next < uint64_t(length) + 2) return std::nullopt;
    if (in.substr(next + size_t(length), 2) != "\r\n") {
      out->error = "ERR Protocol error: bulk string not terminated by CRLF";
      return std::nullopt;
    }
    command.emplace_back(in.substr(next, size_t(length)));
    at = next + size_t(length) + 2;
  }
  out->commands.push_back(std::move(command));
  return at;
}

Decoded DecodeReference(std::string_view in, const RespParserOptions& options, bool authenticated) {
  Decoded out;
  while (out.consumed < in.size()) {
    const std::optional<size_t> next =
        in[out.consumed] == '*' ? DecodeMultibulk(in, out.consumed, options, authenticated, &out)
                                : DecodeInline(in, out.consumed, options, &out);
    if (!next) break;
    out.consumed = *next;
  }
  return out;
}

enum FeedMode { kWhole = 0, kByteByByte = 1, kPieces = 2, kPiecesInPlace = 3 };

// Checks what one Next() returned, and records it. False once the parser has failed.
bool Record(RespParser& parser, RespParser::Outcome outcome, const RespParserOptions& options,
            Decoded* run) {
  MERIDIAN_ASSERT(parser.consumed_bytes() <= parser.buffered_bytes());
  if (outcome == RespParser::Outcome::kError) {
    run->error = parser.error().message();
    MERIDIAN_ASSERT(!run->error.empty());
    // Final: asking again answers the same.
    MERIDIAN_ASSERT(parser.Next() == RespParser::Outcome::kError);
    MERIDIAN_ASSERT(parser.error().message() == run->error);
    return false;
  }
  if (outcome == RespParser::Outcome::kCommand) {
    const std::string_view buffer = parser.TEST_buffer();
    MERIDIAN_ASSERT(!parser.args().empty() && parser.args().size() <= options.max_args);
    for (const std::string_view arg : parser.args()) {
      MERIDIAN_ASSERT(arg.size() <= options.max_bulk_bytes);
      MERIDIAN_ASSERT(arg.empty() || (arg.data() >= buffer.data() &&
                                      arg.data() + arg.size() <= buffer.data() + buffer.size()));
    }
    run->commands.emplace_back(parser.args().begin(), parser.args().end());
  }
  return true;
}

// Feeds `in` to a parser the way `mode` says and collects everything it answers.
Decoded RunParser(std::string_view in, const RespParserOptions& options, bool authenticated,
                  FeedMode mode, Random& rng) {
  RespParser parser(options);
  parser.set_authenticated(authenticated);
  Decoded run;
  size_t compacted = 0;  // bytes Compact or an append dropped from the front of the buffer
  size_t at = 0;
  bool failed = false;
  while (!failed && (at < in.size() || at == 0)) {
    size_t piece = in.size() - at;
    if (mode == kByteByByte) piece = std::min<size_t>(piece, 1);
    if (mode >= kPieces)
      piece = std::min<size_t>(piece, 1 + rng.Uniform(rng.Chance(0.1) ? 300 : 12));
    const size_t held = parser.buffered_bytes();
    if (mode == kPiecesInPlace) {
      const std::span<char> tail = parser.PrepareAppend(piece);
      MERIDIAN_ASSERT(tail.size() >= piece);
      in.copy(tail.data(), piece, at);
      parser.CommitAppend(piece);
    } else {
      parser.Append(in.substr(at, piece));
    }
    MERIDIAN_ASSERT(parser.buffered_bytes() <= held + piece);
    compacted += held + piece - parser.buffered_bytes();
    at += piece;
    RespParser::Outcome outcome;
    do {
      outcome = parser.Next();
      failed = !Record(parser, outcome, options, &run);
    } while (outcome == RespParser::Outcome::kCommand);
    if (!failed && (mode < kPieces || rng.Chance(0.5))) {
      const size_t before = parser.buffered_bytes();
      parser.Compact();
      MERIDIAN_ASSERT(parser.buffered_bytes() <= before);
      compacted += before - parser.buffered_bytes();
    }
    if (at == 0) break;  // empty input: one empty append is enough
  }
  run.consumed = compacted + parser.consumed_bytes();
  MERIDIAN_ASSERT(run.consumed <= in.size());
  return run;
}

// Each command, written back as an array of bulks, parses to itself (the writer's round trip).
void CheckRewrite(const std::vector<Command>& commands) {
  std::string encoded;
  RespWriter writer(&encoded);
  for (const Command& command : commands) {
    writer.WriteArrayHeader(command.size());
    for (const std::string& arg : command)
      writer.WriteBulk(arg);
  }
  RespParser parser;
  parser.Append(encoded);
  for (const Command& command : commands) {
    MERIDIAN_ASSERT(parser.Next() == RespParser::Outcome::kCommand);
    MERIDIAN_ASSERT(Command(parser.args().begin(), parser.args().end()) == command);
  }
  MERIDIAN_ASSERT(parser.Next() == RespParser::Outcome::kNeedMore);
  MERIDIAN_ASSERT(parser.consumed_bytes() == encoded.size());
}

}  // namespace

// Runs every check on one input. Returns the final outcome (the error reply, or "" when the
// input ends needing more) and sets *commands to how many commands it held. Also used by
// resp_fuzz_test.cc, to see that its inputs reach every outcome.
std::string RespFuzzOne(std::string_view bytes, size_t* commands) {
  *commands = 0;
  if (bytes.empty()) return "";
  const auto flags = static_cast<uint8_t>(bytes[0]);
  const std::string_view in = bytes.substr(1);
  const RespParserOptions options = flags & 1 ? RespParserOptions::ForTest() : RespParserOptions();
  const bool authenticated = (flags & 2) == 0;
  const auto mode = static_cast<FeedMode>((flags >> 2) & 3);
  uint64_t seed = flags;
  for (const char c : in)
    seed = seed * 131 + static_cast<uint8_t>(c);
  Random rng(seed);

  const Decoded expected = DecodeReference(in, options, authenticated);
  const Decoded run = RunParser(in, options, authenticated, mode, rng);
  MERIDIAN_ASSERT(run.commands == expected.commands);
  MERIDIAN_ASSERT(run.error == expected.error);
  MERIDIAN_ASSERT(run.consumed == expected.consumed);
  CheckRewrite(run.commands);
  *commands = run.commands.size();
  return run.error;
}

}  // namespace meridian

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  size_t commands = 0;
  (void)meridian::RespFuzzOne(std::string_view(reinterpret_cast<const char*>(data), size),
                              &commands);
  return 0;
}
