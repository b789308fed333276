// RespParser: every request form, every error with redis-server's wording, the limits, the buffer
// (views, compaction, memory), and that no split of the input changes any outcome.
#include "resp/resp_parser.h"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace meridian {
namespace {

using namespace std::string_literals;  // "...\0..."s keeps embedded NULs
using Command = std::vector<std::string>;

// Everything Next() said after the input was fed: commands, then the final outcome.
struct Parsed {
  std::vector<Command> commands;
  std::string error;  // empty when the last outcome was kNeedMore
  size_t consumed = 0;

  bool operator==(const Parsed&) const = default;
};

void PrintTo(const Parsed& parsed, std::ostream* os) {
  *os << "{commands:";
  for (const Command& command : parsed.commands) {
    *os << " [";
    for (const std::string& arg : command)
      *os << testing::PrintToString(arg) << ",";
    *os << "]";
  }
  *os << " error: \"" << parsed.error << "\" consumed: " << parsed.consumed << "}";
}

Command Copy(std::span<const std::string_view> args) {
  return Command(args.begin(), args.end());
}

// Calls Next() until kNeedMore or kError, collecting commands into *parsed.
void Drain(RespParser& parser, Parsed* parsed) {
  for (;;) {
    switch (parser.Next()) {
      case RespParser::Outcome::kCommand:
        parsed->commands.push_back(Copy(parser.args()));
        break;
      case RespParser::Outcome::kNeedMore:
        return;
      case RespParser::Outcome::kError:
        parsed->error = parser.error().message();
        return;
    }
  }
}

// Compact and Append may drop returned bytes from the front of the buffer; these return how
// many, so a test can add up what was consumed.
size_t CompactCounting(RespParser& parser) {
  const size_t before = parser.buffered_bytes();
  parser.Compact();
  return before - parser.buffered_bytes();
}

size_t AppendCounting(RespParser& parser, std::string_view bytes) {
  const size_t before = parser.buffered_bytes();
  parser.Append(bytes);
  return before + bytes.size() - parser.buffered_bytes();
}

// Feeds `input` in pieces of `piece` bytes (0: all at once), compacting after each when asked.
Parsed Parse(std::string_view input, size_t piece = 0, bool compact = true,
             RespParserOptions options = {}) {
  RespParser parser(options);
  Parsed parsed;
  size_t compacted = 0;  // bytes dropped from the front of the buffer
  if (piece == 0) piece = input.size() + 1;
  for (size_t at = 0; at < input.size() || at == 0; at += piece) {
    compacted += AppendCounting(parser, input.substr(at, piece));
    Drain(parser, &parsed);
    EXPECT_LE(parser.consumed_bytes(), parser.buffered_bytes());
    if (!parsed.error.empty()) break;
    if (compact) compacted += CompactCounting(parser);
  }
  parsed.consumed = compacted + parser.consumed_bytes();
  return parsed;
}

Parsed Commands(std::vector<Command> commands, size_t consumed) {
  return Parsed{std::move(commands), "", consumed};
}

Parsed Error(std::vector<Command> commands, std::string message, size_t consumed) {
  return Parsed{std::move(commands), std::move(message), consumed};
}

const std::string kSet = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n";

TEST(RespParserTest, ParsesMultibulk) {
  EXPECT_EQ(Parse(kSet), Commands({{"SET", "k", "hello"}}, kSet.size()));
  EXPECT_EQ(Parse("*1\r\n$4\r\nPING\r\n"), Commands({{"PING"}}, 14));
}

TEST(RespParserTest, BulksAreBinarySafe) {
  const std::string bulk = "a\r\n*1\r\n$0\0\xff"s;
  const std::string input = "*2\r\n$3\r\nGET\r\n$" + std::to_string(bulk.size()) + "\r\n" + bulk +
                            "\r\n*2\r\n$0\r\n\r\n$0\r\n\r\n";
  EXPECT_EQ(Parse(input), Commands({{"GET", bulk}, {"", ""}}, input.size()));
}

TEST(RespParserTest, IncompleteRequestsNeedMore) {
  for (size_t size = 0; size < kSet.size(); ++size) {
    EXPECT_EQ(Parse(kSet.substr(0, size)), Commands({}, 0)) << size;
  }
  EXPECT_EQ(Parse("PING"), Commands({}, 0));
  EXPECT_EQ(Parse("PING\r"), Commands({}, 0));
}

TEST(RespParserTest, PipelinedCommandsStayValidUntilCompact) {
  const std::string input =
      kSet + "GET k\r\n" + "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n" + "*1\r\n$4\r\nPI";
  RespParser parser;
  parser.Append(input);
  std::vector<std::string_view> views;
  while (parser.Next() == RespParser::Outcome::kCommand) {
    for (std::string_view arg : parser.args())
      views.push_back(arg);
  }
  // Every view of the pass is still intact: Next() never moves the bytes.
  EXPECT_EQ(views, (std::vector<std::string_view>{"SET", "k", "hello", "GET", "k", "GET", "k"}));
  const std::string_view buffer = parser.TEST_buffer();
  for (std::string_view view : views) {
    EXPECT_GE(view.data(), buffer.data());
    EXPECT_LE(view.data() + view.size(), buffer.data() + buffer.size());
  }
  EXPECT_EQ(parser.consumed_bytes(), input.size() - 10);
  parser.Compact();
  parser.Append("NG\r\n");
  ASSERT_EQ(parser.Next(), RespParser::Outcome::kCommand);
  EXPECT_EQ(Copy(parser.args()), Command{"PING"});
}

TEST(RespParserTest, EmptyRequestsAreSkipped) {
  const std::string input = "*0\r\n*-1\r\n*-7\r\n\r\n\n   \t\r\nPING\r\n";
  EXPECT_EQ(Parse(input), Commands({{"PING"}}, input.size()));
}

TEST(RespParserTest, InlineCommands) {
  EXPECT_EQ(Parse("PING\r\n"), Commands({{"PING"}}, 6));
  EXPECT_EQ(Parse("SET k v\n"), Commands({{"SET", "k", "v"}}, 8));
  EXPECT_EQ(Parse("  GET \t k  \r\n"), Commands({{"GET", "k"}}, 13));
  // Only one '\r' belongs to the terminator; another is a blank.
  EXPECT_EQ(Parse("GET k\r\r\n"), Commands({{"GET", "k"}}, 8));
  // A line is a C string to sdssplitargs: words end at a NUL.
  EXPECT_EQ(Parse("GET a\0b c\r\nPING\n"s), Commands({{"GET", "a"}, {"PING"}}, 16));
  // Anything but '*' starts an inline request, '$' included.
  EXPECT_EQ(Parse("$3\r\nfoo\r\n"), Commands({{"$3"}, {"foo"}}, 9));
}

TEST(RespParserTest, InlineQuoting) {
  EXPECT_EQ(Parse("SET k \"hello world\"\r\n"), Commands({{"SET", "k", "hello world"}}, 21));
  EXPECT_EQ(Parse("SET k \"a\\x41\\n\\\"\" 'it\\'s'\r\n"),
            Commands({{"SET", "k", "aA\n\"", "it's"}}, 27));
  EXPECT_EQ(Parse("SET \"\" ''\n"), Commands({{"SET", "", ""}}, 10));
  EXPECT_EQ(Parse("SET k \"abc\r\n"),
            Error({}, "ERR Protocol error: unbalanced quotes in request", 0));
  EXPECT_EQ(Parse("SET k \"a\"b\r\n"),
            Error({}, "ERR Protocol error: unbalanced quotes in request", 0));
}

TEST(RespParserTest, InlineArgumentsAreUnescapedInPlace) {
  RespParser parser;
  parser.Append("ECHO \"\\x00\\x01\"\r\n");
  ASSERT_EQ(parser.Next(), RespParser::Outcome::kCommand);
  const std::string_view buffer = parser.TEST_buffer();
  for (std::string_view arg : parser.args()) {
    EXPECT_GE(arg.data(), buffer.data());
    EXPECT_LE(arg.data() + arg.size(), buffer.data() + buffer.size());
  }
  EXPECT_EQ(Copy(parser.args()), (Command{"ECHO", "\0\x01"s}));
}

TEST(RespParserTest, EveryErrorHasRedisWording) {
  struct Case {
    std::string input;
    std::string error;
  };
  const Case cases[] = {
      {"*x\r\n", "ERR Protocol error: invalid multibulk length"},
      {"*\r\n", "ERR Protocol error: invalid multibulk length"},
      {"*01\r\n", "ERR Protocol error: invalid multibulk length"},
      {"*-0\r\n", "ERR Protocol error: invalid multibulk length"},
      {"*+1\r\n", "ERR Protocol error: invalid multibulk length"},
      {"* 1\r\n", "ERR Protocol error: invalid multibulk length"},
      {"*1 \r\n", "ERR Protocol error: invalid multibulk length"},
      {"*9223372036854775808\r\n", "ERR Protocol error: invalid multibulk length"},
      {"*1048577\r\n", "ERR Protocol error: invalid multibulk length"},
      {"*1\rx", "ERR Protocol error: invalid multibulk length"},
      {"*123456789012345678901", "ERR Protocol error: invalid multibulk length"},
      {"*1\r\nx\r\n", "ERR Protocol error: expected '$', got 'x'"},
      {"*1\r\n\r\n", "ERR Protocol error: expected '$', got ' '"},
      {"*1\r\n\n", "ERR Protocol error: expected '$', got ' '"},
      {"*1\r\n$x\r\n", "ERR Protocol error: invalid bulk length"},
      {"*1\r\n$-1\r\n", "ERR Protocol error: invalid bulk length"},
      {"*1\r\n$\r\n", "ERR Protocol error: invalid bulk length"},
      {"*1\r\n$00\r\n", "ERR Protocol error: invalid bulk length"},
      {"*1\r\n$536870913\r\n", "ERR Protocol error: invalid bulk length"},
      {"*1\r\n$1\r\nabc", "ERR Protocol error: bulk string not terminated by CRLF"},
      {"*1\r\n$1\r\na\rx", "ERR Protocol error: bulk string not terminated by CRLF"},
      {"*1\r\n$1\r\na\n\r", "ERR Protocol error: bulk string not terminated by CRLF"},
      {"\"a\r\n", "ERR Protocol error: unbalanced quotes in request"},
      {std::string(64 * 1024 + 1, 'a'), "ERR Protocol error: too big inline request"},
      {std::string(64 * 1024 + 1, 'a') + "\r\n", "ERR Protocol error: too big inline request"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(Parse(c.input), Error({}, c.error, 0)) << c.input;
    EXPECT_EQ(Parse(c.input, 1), Error({}, c.error, 0)) << c.input;
  }
}

TEST(RespParserTest, LengthLinesAtTheirLimits) {
  // A 20-character length line may still become valid; the 21st character decides.
  EXPECT_EQ(Parse("*-922337203685477580"), Commands({}, 0));
  EXPECT_EQ(Parse("*-9223372036854775808\r\n"), Commands({}, 23));  // <= 0: skipped
  EXPECT_EQ(Parse("*1048576\r\n"), Commands({}, 0));                // max_args: waits
  // Exactly proto-max-bulk-len is accepted, and nothing is allocated for it up front.
  RespParser parser;
  parser.Append("*1\r\n$536870912\r\n");
  EXPECT_EQ(parser.Next(), RespParser::Outcome::kNeedMore);
  EXPECT_LT(parser.TEST_capacity(), size_t{1} << 20);
}

TEST(RespParserTest, ErrorIsFinal) {
  RespParser parser;
  parser.Append("PING\r\n*1\r\n$2\r\nOK\r\n*1\r\n?junk\r\nPING\r\n");
  ASSERT_EQ(parser.Next(), RespParser::Outcome::kCommand);
  EXPECT_EQ(Copy(parser.args()), Command{"PING"});
  ASSERT_EQ(parser.Next(), RespParser::Outcome::kCommand);
  EXPECT_EQ(Copy(parser.args()), Command{"OK"});
  EXPECT_TRUE(parser.error().ok());
  const size_t consumed = parser.consumed_bytes();
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(parser.Next(), RespParser::Outcome::kError);
    EXPECT_EQ(parser.error().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(parser.error().message(), "ERR Protocol error: expected '$', got '?'");
    EXPECT_EQ(parser.consumed_bytes(), consumed);
    parser.Append("PING\r\n");  // more bytes change nothing: the caller closes
  }
  parser.Compact();
  EXPECT_EQ(parser.Next(), RespParser::Outcome::kError);
}

TEST(RespParserTest, LimitsAreConfigurable) {
  RespParserOptions options;
  options.max_bulk_bytes = 4;
  options.max_args = 2;
  options.max_inline_bytes = 10;
  options.max_command_bytes = 20;
  const auto parse = [&](std::string_view input) { return Parse(input, 0, true, options); };
  EXPECT_EQ(parse("*1\r\n$4\r\nabcd\r\n"), Commands({{"abcd"}}, 14));
  EXPECT_EQ(parse("*1\r\n$5\r\n"), Error({}, "ERR Protocol error: invalid bulk length", 0));
  EXPECT_EQ(parse("*2\r\n"), Commands({}, 0));
  EXPECT_EQ(parse("*3\r\n"), Error({}, "ERR Protocol error: invalid multibulk length", 0));
  // 4 + 10 + (4 + 4 + 2) = 24 bytes > 20: refused at the header that declares too much.
  EXPECT_EQ(parse("*2\r\n$4\r\nabcd\r\n$4\r\n"),
            Error({}, "ERR Protocol error: too big multibulk request", 0));
  EXPECT_EQ(parse("*2\r\n$4\r\nabcd\r\n$0\r\n\r\n"), Commands({{"abcd", ""}}, 20));
  // Inline: the line, the number of words and each word are bounded too.
  EXPECT_EQ(parse("0123456789a\r\n"), Error({}, "ERR Protocol error: too big inline request", 0));
  EXPECT_EQ(parse("01234567890"), Error({}, "ERR Protocol error: too big inline request", 0));
  EXPECT_EQ(parse("0123456789\r"), Commands({}, 0));  // the '\r' may be the terminator's
  EXPECT_EQ(parse("a b c\r\n"), Error({}, "ERR Protocol error: too big inline request", 0));
  EXPECT_EQ(parse("abcde\r\n"), Error({}, "ERR Protocol error: too big inline request", 0));
  EXPECT_EQ(parse("abcd e\r\n"), Commands({{"abcd", "e"}}, 8));
}

TEST(RespParserTest, UnauthenticatedClientsGetRedisLimits) {
  RespParser parser;
  parser.set_authenticated(false);
  parser.Append("*3\r\n$4\r\nAUTH\r\n$4\r\nuser\r\n$4\r\npass\r\n");
  ASSERT_EQ(parser.Next(), RespParser::Outcome::kCommand);
  parser.set_authenticated(true);  // the server checked the password
  parser.Append("*11\r\n");
  EXPECT_EQ(parser.Next(), RespParser::Outcome::kNeedMore);

  RespParser stranger;
  stranger.set_authenticated(false);
  stranger.Append("*11\r\n");
  ASSERT_EQ(stranger.Next(), RespParser::Outcome::kError);
  EXPECT_EQ(stranger.error().message(), "ERR Protocol error: unauthenticated multibulk length");

  RespParser big_bulk;
  big_bulk.set_authenticated(false);
  big_bulk.Append("*1\r\n$16384\r\n");
  EXPECT_EQ(big_bulk.Next(), RespParser::Outcome::kNeedMore);
  RespParser bigger_bulk;
  bigger_bulk.set_authenticated(false);
  bigger_bulk.Append("*1\r\n$16385\r\n");
  ASSERT_EQ(bigger_bulk.Next(), RespParser::Outcome::kError);
  EXPECT_EQ(bigger_bulk.error().message(), "ERR Protocol error: unauthenticated bulk length");
}

// The inputs of the split tests: valid streams, and streams that fail part-way.
std::vector<std::string> SplitInputs() {
  return {
      kSet + "GET k\r\n*0\r\n" + kSet + "\r\n'a b' \"c\\x41\"\n*2\r\n$0\r\n\r\n$3\r\n\r\n\n\r\n",
      kSet + "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n" + "*1\r\n$3\r\nab\r\nX",
      "PING\r\n*1\r\n$" + std::to_string(5000) + "\r\n" + std::string(5000, 'v') + "\r\nPING\n",
      "PING\r\n*12345678901234567890123\r\n",
      "PING\r\n" + std::string(70'000, 'x') + "\n",
      "PING\r\n*1\r\n$4\r\nPING\r\nSET \"a\r\n",
  };
}

TEST(RespParserTest, SplitAtEveryByteBoundaryGivesTheSameOutcome) {
  for (const std::string& input : SplitInputs()) {
    const Parsed whole = Parse(input);
    EXPECT_EQ(Parse(input, 1), whole);
    EXPECT_EQ(Parse(input, 1, /*compact=*/false), whole);
    if (input.size() > 1000) continue;  // two pieces at every boundary: quadratic in the size
    for (size_t at = 1; at < input.size(); ++at) {
      RespParser parser;
      Parsed parsed;
      size_t compacted = AppendCounting(parser, std::string_view(input).substr(0, at));
      Drain(parser, &parsed);
      compacted += CompactCounting(parser);
      if (parsed.error.empty()) {
        compacted += AppendCounting(parser, std::string_view(input).substr(at));
        Drain(parser, &parsed);
      }
      parsed.consumed = compacted + parser.consumed_bytes();
      EXPECT_EQ(parsed, whole) << "split at " << at << " of " << input;
    }
  }
}

TEST(RespParserTest, PrepareAppendReadsIntoTheBuffer) {
  RespParser parser;
  std::span<char> tail = parser.PrepareAppend(kSet.size());
  ASSERT_GE(tail.size(), kSet.size());
  kSet.copy(tail.data(), kSet.size());
  parser.CommitAppend(kSet.size());
  ASSERT_EQ(parser.Next(), RespParser::Outcome::kCommand);
  EXPECT_EQ(Copy(parser.args()), (Command{"SET", "k", "hello"}));
  EXPECT_EQ(parser.Next(), RespParser::Outcome::kNeedMore);
  tail = parser.PrepareAppend(1);
  EXPECT_DEATH(parser.CommitAppend(tail.size() + 1), "prepared_bytes_");
}

TEST(RespParserTest, CompactKeepsTheRequestInProgress) {
  // The returned command outweighs the partial one, so Compact slides the partial one down and
  // must rebase the views of the bulks it already read.
  const std::string partial = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhel";
  RespParser parser;
  parser.Append(kSet + kSet + partial);
  ASSERT_EQ(parser.Next(), RespParser::Outcome::kCommand);
  ASSERT_EQ(parser.Next(), RespParser::Outcome::kCommand);
  ASSERT_EQ(parser.Next(), RespParser::Outcome::kNeedMore);
  parser.Compact();
  EXPECT_EQ(parser.consumed_bytes(), 0u);
  EXPECT_EQ(parser.buffered_bytes(), partial.size());
  parser.Append("lo\r\n");
  ASSERT_EQ(parser.Next(), RespParser::Outcome::kCommand);
  EXPECT_EQ(Copy(parser.args()), (Command{"SET", "k", "hello"}));
}

TEST(RespParserTest, LargeBulkInSmallPiecesIsReadOnce) {
  // 4 MiB in 4-byte pieces, compacting after each: a parser that rescanned the partial bulk, or
  // a Compact that moved it each time, would do ~10^12 byte operations here and time out.
  constexpr size_t kBulkBytes = size_t{4} << 20;
  const std::string value(kBulkBytes, 'v');
  const std::string input =
      "*2\r\n$3\r\nGET\r\n$" + std::to_string(kBulkBytes) + "\r\n" + value + "\r\nPING\r\n";
  const Parsed parsed = Parse(input, 4);
  EXPECT_EQ(parsed, Commands({{"GET", value}, {"PING"}}, input.size()));
}

TEST(RespParserTest, IdleBufferIsReleased) {
  RespParser parser;
  const std::string value(1 << 20, 'v');
  parser.Append("*1\r\n$" + std::to_string(value.size()) + "\r\n" + value + "\r\n");
  ASSERT_EQ(parser.Next(), RespParser::Outcome::kCommand);
  EXPECT_GT(parser.TEST_capacity(), value.size());
  parser.Compact();
  EXPECT_LE(parser.TEST_capacity(), RespParserOptions().max_idle_buffer_bytes);
  EXPECT_EQ(parser.buffered_bytes(), 0u);
  parser.Append(kSet);
  ASSERT_EQ(parser.Next(), RespParser::Outcome::kCommand);
  EXPECT_EQ(Copy(parser.args()), (Command{"SET", "k", "hello"}));
}

}  // namespace
}  // namespace meridian
