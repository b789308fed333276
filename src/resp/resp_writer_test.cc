// RespWriter: every frame type, byte for byte, in RESP2 and RESP3.
#include "resp/resp_writer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>

namespace meridian {
namespace {

using namespace std::string_literals;

// What `write` appends, in each version.
std::string Encode(RespVersion version, const std::function<void(RespWriter&)>& write) {
  std::string out;
  RespWriter writer(&out, version);
  write(writer);
  return out;
}

struct Frame {
  const char* name;
  std::function<void(RespWriter&)> write;
  std::string resp2;
  std::string resp3;
};

TEST(RespWriterTest, EveryFrameInBothVersions) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  const Frame frames[] = {
      {"simple", [](RespWriter& w) { w.WriteSimpleString("OK"); }, "+OK\r\n", "+OK\r\n"},
      {"error", [](RespWriter& w) { w.WriteError("WRONGTYPE Operation against a key"); },
       "-WRONGTYPE Operation against a key\r\n", "-WRONGTYPE Operation against a key\r\n"},
      {"integer", [](RespWriter& w) { w.WriteInteger(-42); }, ":-42\r\n", ":-42\r\n"},
      {"int64 min", [](RespWriter& w) { w.WriteInteger(INT64_MIN); }, ":-9223372036854775808\r\n",
       ":-9223372036854775808\r\n"},
      {"int64 max", [](RespWriter& w) { w.WriteInteger(INT64_MAX); }, ":9223372036854775807\r\n",
       ":9223372036854775807\r\n"},
      {"bulk", [](RespWriter& w) { w.WriteBulk("a\r\n\0b"s); }, "$5\r\na\r\n\0b\r\n"s,
       "$5\r\na\r\n\0b\r\n"s},
      {"empty bulk", [](RespWriter& w) { w.WriteBulk(""); }, "$0\r\n\r\n", "$0\r\n\r\n"},
      {"null", [](RespWriter& w) { w.WriteNull(); }, "$-1\r\n", "_\r\n"},
      {"null array", [](RespWriter& w) { w.WriteNullArray(); }, "*-1\r\n", "_\r\n"},
      {"array", [](RespWriter& w) { w.WriteArrayHeader(3); }, "*3\r\n", "*3\r\n"},
      {"empty array", [](RespWriter& w) { w.WriteArrayHeader(0); }, "*0\r\n", "*0\r\n"},
      {"map", [](RespWriter& w) { w.WriteMapHeader(2); }, "*4\r\n", "%2\r\n"},
      {"set", [](RespWriter& w) { w.WriteSetHeader(5); }, "*5\r\n", "~5\r\n"},
      {"double", [](RespWriter& w) { w.WriteDouble(3.14); }, "$4\r\n3.14\r\n", ",3.14\r\n"},
      {"integral double", [](RespWriter& w) { w.WriteDouble(10); }, "$2\r\n10\r\n", ",10\r\n"},
      {"negative zero", [](RespWriter& w) { w.WriteDouble(-0.0); }, "$2\r\n-0\r\n", ",-0\r\n"},
      {"tiny double", [](RespWriter& w) { w.WriteDouble(1e-300); }, "$6\r\n1e-300\r\n",
       ",1e-300\r\n"},
      {"inf", [&](RespWriter& w) { w.WriteDouble(kInf); }, "$3\r\ninf\r\n", ",inf\r\n"},
      {"-inf", [&](RespWriter& w) { w.WriteDouble(-kInf); }, "$4\r\n-inf\r\n", ",-inf\r\n"},
      {"nan", [](RespWriter& w) { w.WriteDouble(-std::nan("")); }, "$3\r\nnan\r\n", ",nan\r\n"},
      {"true", [](RespWriter& w) { w.WriteBoolean(true); }, ":1\r\n", "#t\r\n"},
      {"false", [](RespWriter& w) { w.WriteBoolean(false); }, ":0\r\n", "#f\r\n"},
      {"verbatim", [](RespWriter& w) { w.WriteVerbatim("txt", "Some string"); },
       "$11\r\nSome string\r\n", "=15\r\ntxt:Some string\r\n"},
  };
  for (const Frame& frame : frames) {
    EXPECT_EQ(Encode(RespVersion::kResp2, frame.write), frame.resp2) << frame.name;
    EXPECT_EQ(Encode(RespVersion::kResp3, frame.write), frame.resp3) << frame.name;
  }
}

TEST(RespWriterTest, DoublesReadBackExactly) {
  for (double value : {0.1, 1.0 / 3, 2.2250738585072014e-308, -1.7976931348623157e308, 1e21}) {
    const std::string out =
        Encode(RespVersion::kResp3, [&](RespWriter& w) { w.WriteDouble(value); });
    ASSERT_EQ(out.substr(0, 1), ",");
    EXPECT_EQ(std::stod(out.substr(1)), value) << out;
    EXPECT_LE(out.size(), 1 + 24 + 2u);
  }
}

TEST(RespWriterTest, LinesStayOneLine) {
  // An error that quotes a client's bytes cannot break the framing (Redis's addReplyErrorFormat).
  EXPECT_EQ(Encode(RespVersion::kResp2,
                   [](RespWriter& w) { w.WriteError("ERR unknown command 'a\r\nb\n'"); }),
            "-ERR unknown command 'a  b '\r\n");
  EXPECT_EQ(Encode(RespVersion::kResp3, [](RespWriter& w) { w.WriteSimpleString("x\ry"); }),
            "+x y\r\n");
  EXPECT_EQ(Encode(RespVersion::kResp3, [](RespWriter& w) { w.WriteDouble(1.5); }), ",1.5\r\n");
}

TEST(RespWriterTest, AppendsAndSwitchesVersion) {
  std::string out = "+PONG\r\n";
  RespWriter writer(&out);
  EXPECT_EQ(writer.version(), RespVersion::kResp2);
  writer.WriteMapHeader(1);
  writer.WriteBulk("proto");
  writer.WriteInteger(2);
  writer.set_version(RespVersion::kResp3);  // HELLO 3
  writer.WriteMapHeader(1);
  writer.WriteBulk("proto");
  writer.WriteInteger(3);
  EXPECT_EQ(out, "+PONG\r\n*2\r\n$5\r\nproto\r\n:2\r\n%1\r\n$5\r\nproto\r\n:3\r\n");
  EXPECT_EQ(&writer.out(), &out);
}

TEST(RespWriterTest, VerbatimNeedsAThreeByteFormat) {
  std::string out;
  RespWriter writer(&out, RespVersion::kResp3);
  EXPECT_DEATH(writer.WriteVerbatim("text", "x"), "format.size");
}

}  // namespace
}  // namespace meridian
