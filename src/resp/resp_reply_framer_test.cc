// RespReplyFramer: every reply RespWriter writes is one frame, however the bytes arrive; broken
// streams are refused naming what is wrong.
#include "resp/resp_reply_framer.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "resp/resp_writer.h"

namespace meridian {
namespace {

// One random reply of depth at most `depth`, written with `writer`.
void WriteRandomReply(RespWriter& writer, int depth) {
  const int kind = *rc::gen::inRange(0, depth > 0 ? 14 : 10);
  switch (kind) {
    case 0:
      return writer.WriteSimpleString(*rc::gen::arbitrary<std::string>());
    case 1:
      return writer.WriteError(*rc::gen::arbitrary<std::string>());
    case 2:
      return writer.WriteInteger(*rc::gen::arbitrary<int64_t>());
    case 3:
    case 4:
      return writer.WriteBulk(*rc::gen::arbitrary<std::string>());
    case 5:
      return writer.WriteNull();
    case 6:
      return writer.WriteNullArray();
    case 7:
      return writer.WriteDouble(*rc::gen::arbitrary<double>());
    case 8:
      return writer.WriteBoolean(*rc::gen::arbitrary<bool>());
    case 9:
      return writer.WriteVerbatim("txt", *rc::gen::arbitrary<std::string>());
    default:
      break;
  }
  const size_t count = *rc::gen::inRange<size_t>(0, 4);
  if (kind == 10 || kind == 11) {
    writer.WriteArrayHeader(count);
  } else if (kind == 12) {
    writer.WriteSetHeader(count);
  } else {
    writer.WriteMapHeader(count);
  }
  const size_t elements = kind == 13 ? 2 * count : count;
  for (size_t i = 0; i < elements; ++i)
    WriteRandomReply(writer, depth - 1);
}

// Feeds `stream` in pieces cut at `cuts` (sorted offsets); returns the frames found.
std::vector<std::string> Frames(std::string_view stream, const std::vector<size_t>& cuts,
                                RespReplyFramer::Outcome* last = nullptr) {
  RespReplyFramer framer;
  std::vector<std::string> frames;
  std::string buffer;
  size_t from = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(stream.size());
  RespReplyFramer::Outcome outcome = RespReplyFramer::Outcome::kNeedMore;
  for (size_t end : ends) {
    if (end < from) continue;
    buffer.append(stream.substr(from, end - from));
    from = end;
    while ((outcome = framer.Next(buffer)) == RespReplyFramer::Outcome::kFrame) {
      frames.push_back(buffer.substr(0, framer.frame_bytes()));
      buffer.erase(0, framer.frame_bytes());
    }
    if (outcome == RespReplyFramer::Outcome::kError) break;
  }
  if (last) *last = outcome;
  return frames;
}

RC_GTEST_PROP(RespReplyFramerTest, EveryWrittenReplyIsOneFrameHoweverSplit, ()) {
  const auto version = *rc::gen::element(RespVersion::kResp2, RespVersion::kResp3);
  std::vector<std::string> replies(*rc::gen::inRange<size_t>(1, 6));
  std::string stream;
  for (std::string& reply : replies) {
    RespWriter writer(&reply, version);
    WriteRandomReply(writer, 3);
    stream += reply;
  }
  std::vector<size_t> cuts =
      *rc::gen::container<std::vector<size_t>>(rc::gen::inRange<size_t>(0, stream.size() + 1));
  std::sort(cuts.begin(), cuts.end());
  RespReplyFramer::Outcome last;
  RC_ASSERT(Frames(stream, cuts, &last) == replies);
  RC_ASSERT(last == RespReplyFramer::Outcome::kNeedMore);
}

TEST(RespReplyFramerTest, EveryReplyShapeByteByByte) {
  const std::vector<std::string> replies = {
      "+OK\r\n",
      "-ERR no\r\n",
      ":-12\r\n",
      "$-1\r\n",
      "*-1\r\n",
      "$0\r\n\r\n",
      "$5\r\nab\r\nc\r\n",  // CRLF inside a bulk is data
      "*0\r\n",
      "*2\r\n$1\r\na\r\n*1\r\n:1\r\n",
      "%1\r\n+k\r\n~2\r\n#t\r\n,1.5\r\n",
      "_\r\n",
      "(123456789012345678901234567890\r\n",
      "!3\r\nERR\r\n",
      "=7\r\ntxt:abc\r\n",
      ">2\r\n+message\r\n$1\r\nx\r\n",
      "|1\r\n+ttl\r\n:3\r\n$1\r\nv\r\n",  // an attribute, then the reply it annotates
  };
  std::string stream;
  for (const std::string& reply : replies)
    stream += reply;
  std::vector<size_t> every_byte;
  for (size_t i = 1; i < stream.size(); ++i)
    every_byte.push_back(i);
  EXPECT_EQ(Frames(stream, every_byte), replies);
  EXPECT_EQ(Frames(stream, {}), replies);
}

TEST(RespReplyFramerTest, MalformedStreamsAreRefusedAndStayRefused) {
  RespReplyFramerOptions small;
  small.max_bulk_bytes = 8;
  small.max_line_bytes = 16;
  small.max_depth = 2;
  small.max_frame_bytes = 64;
  const std::pair<std::string, std::string> cases[] = {
      {"?x\r\n", "unknown reply type"},
      {"$abc\r\n", "invalid bulk length"},
      {"$-2\r\n", "invalid bulk length"},
      {"!-1\r\n", "invalid bulk length"},
      {"$?\r\n", "invalid bulk length"},  // streamed strings are not accepted
      {"$2\r\nabXY", "not followed by CRLF"},
      {"$9\r\n", "over the limit"},
      {"*-2\r\n", "invalid aggregate length"},
      {"*1\r\n*1\r\n*1\r\n:1\r\n", "nested deeper than 2"},
      {"+" + std::string(20, 'x') + "\r\n", "longer than 16"},
      {"+" + std::string(20, 'x'), "longer than 16"},  // refused before its CRLF arrives
      {"+OK\n", "not ended by CRLF"},
      {"\r\n", "not ended by CRLF"},
  };
  for (const auto& [stream, want] : cases) {
    RespReplyFramer framer(small);
    EXPECT_EQ(framer.Next(stream), RespReplyFramer::Outcome::kError) << stream;
    EXPECT_NE(framer.error().message().find(want), std::string::npos)
        << stream << ": " << framer.error().message();
    EXPECT_EQ(framer.Next("+OK\r\n"), RespReplyFramer::Outcome::kError);
    framer.Reset();
    EXPECT_EQ(framer.Next("+OK\r\n"), RespReplyFramer::Outcome::kFrame);
  }
  // A reply over max_frame_bytes, made of small pieces.
  RespReplyFramer framer(small);
  std::string big = "*20\r\n";
  for (int i = 0; i < 20; ++i)
    big += "$4\r\nabcd\r\n";
  EXPECT_EQ(framer.Next(big), RespReplyFramer::Outcome::kError);
  EXPECT_NE(framer.error().message().find("over the limit"), std::string::npos)
      << framer.error().message();
}

TEST(RespReplyFramerTest, TrailingBytesBelongToTheNextReply) {
  RespReplyFramer framer;
  const std::string stream = "+OK\r\n:1";
  ASSERT_EQ(framer.Next(stream), RespReplyFramer::Outcome::kFrame);
  EXPECT_EQ(framer.frame_bytes(), 5u);
  EXPECT_EQ(framer.Next(std::string_view(stream).substr(5)), RespReplyFramer::Outcome::kNeedMore);
  EXPECT_EQ(framer.Next(":1\r\n"), RespReplyFramer::Outcome::kFrame);
  EXPECT_EQ(framer.frame_bytes(), 4u);
}

}  // namespace
}  // namespace meridian
