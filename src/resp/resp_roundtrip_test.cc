// Round trips: commands encoded with RespWriter (an array of bulks is exactly a multibulk
// request) or as quoted inline lines come back exactly from RespParser, however the bytes are
// split and whenever Compact runs.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include "resp/resp_parser.h"
#include "resp/resp_writer.h"

namespace meridian {
namespace {

using Command = std::vector<std::string>;

// Bytes biased towards those the parser cares about.
rc::Gen<std::string> Bytes() {
  return rc::gen::container<std::string>(rc::gen::weightedOneOf<char>({
      {3, rc::gen::element('\r', '\n', '*', '$', '"', '\'', '\\', ' ', '\0', 'x')},
      {1, rc::gen::arbitrary<char>()},
  }));
}

rc::Gen<std::vector<Command>> Commands() {
  return rc::gen::container<std::vector<Command>>(
      rc::gen::nonEmpty(rc::gen::container<Command>(Bytes())));
}

std::string EncodeMultibulk(const std::vector<Command>& commands) {
  std::string out;
  RespWriter writer(&out);
  for (const Command& command : commands) {
    writer.WriteArrayHeader(command.size());
    for (const std::string& arg : command)
      writer.WriteBulk(arg);
  }
  return out;
}

// A redis-cli style inline line: every word double-quoted, any byte outside printable ASCII (and
// the quote and backslash) as \xHH.
std::string EncodeInline(const std::vector<Command>& commands) {
  std::string out;
  for (const Command& command : commands) {
    for (const std::string& arg : command) {
      out += '"';
      for (const char c : arg) {
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
          out += c;
        } else {
          char hex[5];
          std::snprintf(hex, sizeof(hex), "\\x%02x", static_cast<unsigned char>(c));
          out += hex;
        }
      }
      out += "\" ";
    }
    out += "\r\n";
  }
  return out;
}

// Feeds `input` in pieces whose sizes cycle through `pieces`, compacting after a piece when the
// matching entry of `compacts` says so, half the time through PrepareAppend. An error or bytes
// left unparsed at the end show up as an extra command, which fails the caller's comparison.
std::vector<Command> Feed(const std::string& input, const std::vector<size_t>& pieces,
                          const std::vector<bool>& compacts) {
  RespParser parser;
  std::vector<Command> parsed;
  size_t at = 0;
  for (size_t i = 0; at < input.size(); ++i) {
    const size_t piece = std::min(pieces[i % pieces.size()], input.size() - at);
    if (i % 2 == 0) {
      parser.Append(std::string_view(input).substr(at, piece));
    } else {
      const std::span<char> tail = parser.PrepareAppend(piece);
      input.copy(tail.data(), piece, at);
      parser.CommitAppend(piece);
    }
    at += piece;
    RespParser::Outcome outcome;
    while ((outcome = parser.Next()) == RespParser::Outcome::kCommand) {
      parsed.emplace_back(parser.args().begin(), parser.args().end());
    }
    if (outcome == RespParser::Outcome::kError) {
      parsed.push_back({"unexpected error", parser.error().message()});  // fails the comparison
      return parsed;
    }
    if (compacts[i % compacts.size()]) parser.Compact();
  }
  if (parser.consumed_bytes() != parser.buffered_bytes()) parsed.push_back({"bytes left over"});
  return parsed;
}

RC_GTEST_PROP(RespRoundTrip, MultibulkSurvivesAnySplit, ()) {
  const auto commands = *Commands();
  const auto pieces =
      *rc::gen::nonEmpty(rc::gen::container<std::vector<size_t>>(rc::gen::inRange<size_t>(1, 40)));
  const auto compacts = *rc::gen::nonEmpty(rc::gen::arbitrary<std::vector<bool>>());
  RC_ASSERT(Feed(EncodeMultibulk(commands), pieces, compacts) == commands);
}

RC_GTEST_PROP(RespRoundTrip, QuotedInlineSurvivesAnySplit, ()) {
  const auto commands = *Commands();
  const auto pieces =
      *rc::gen::nonEmpty(rc::gen::container<std::vector<size_t>>(rc::gen::inRange<size_t>(1, 40)));
  const auto compacts = *rc::gen::nonEmpty(rc::gen::arbitrary<std::vector<bool>>());
  RC_ASSERT(Feed(EncodeInline(commands), pieces, compacts) == commands);
}

// A seeded loop beside the property: long pipelines of larger values than rapidcheck draws.
TEST(RespRoundTripTest, LongPipelineInRandomReads) {
  std::vector<Command> commands;
  for (int i = 0; i < 2000; ++i) {
    const std::string key = "key:" + std::to_string(i * 7919 % 1000);
    if (i % 3 == 0) {
      commands.push_back({"GET", key});
    } else {
      commands.push_back({"SET", key, std::string(static_cast<size_t>(i % 50) * 97, 'v')});
    }
  }
  std::vector<size_t> pieces;
  for (size_t i = 0; i < 100; ++i)
    pieces.push_back(1 + (i * 2654435761u) % 16384);
  std::vector<bool> compacts = {true, false, true, true, false};
  EXPECT_EQ(Feed(EncodeMultibulk(commands), pieces, compacts), commands);
}

}  // namespace
}  // namespace meridian
