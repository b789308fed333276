// SplitInlineArgs: sdssplitargs's quoting rules, case by case (resp_inline.h lists them).
#include "resp/resp_inline.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace meridian {
namespace {

using namespace std::string_literals;
using Words = std::vector<std::string>;

constexpr size_t kNoLimit = 1 << 20;

// The words of `line`, or nullopt on unbalanced quotes.
std::optional<Words> Split(std::string line) {
  std::vector<std::string_view> views;
  const InlineSplit split =
      SplitInlineArgs(line.data(), line.data() + line.size(), kNoLimit, kNoLimit, &views);
  EXPECT_NE(split, InlineSplit::kTooBig);
  if (split != InlineSplit::kOk) return std::nullopt;
  return Words(views.begin(), views.end());
}

TEST(RespInlineTest, SplitsOnBlanks) {
  EXPECT_EQ(Split(""), Words{});
  EXPECT_EQ(Split(" \t\v\f\r\n "), Words{});
  EXPECT_EQ(Split("SET k v"), (Words{"SET", "k", "v"}));
  EXPECT_EQ(Split("\t SET\t\tk \r v\n"), (Words{"SET", "k", "v"}));
  // \v and \f are skipped between words but do not end one (sdssplitargs's two sets differ).
  EXPECT_EQ(Split("\va\vb \fc"), (Words{"a\vb", "c"}));
}

TEST(RespInlineTest, DoubleQuotes) {
  EXPECT_EQ(Split(R"("hello world")"), Words{"hello world"});
  EXPECT_EQ(Split(R"("")"), Words{""});
  EXPECT_EQ(Split(R"("\x41\x7a\xfF\x00")"), Words{"Az\xff\0"s});
  EXPECT_EQ(Split(R"("\n\r\t\b\a\"\\\q")"), Words{"\n\r\t\b\a\"\\q"});
  // \x without two hex digits is x, then the rest as is.
  EXPECT_EQ(Split(R"("\xZZ" "\x4")"), (Words{"xZZ", "x4"}));
  // A quote opens anywhere in a word, and the word ends with it.
  EXPECT_EQ(Split(R"(ab"c d" e)"), (Words{"abc d", "e"}));
  EXPECT_EQ(Split("\"a\"\t\"b\""), (Words{"a", "b"}));
}

TEST(RespInlineTest, SingleQuotes) {
  EXPECT_EQ(Split(R"('it\'s')"), Words{"it's"});
  EXPECT_EQ(Split(R"('a\nb\x41"')"), Words{R"(a\nb\x41")"});
  EXPECT_EQ(Split(R"('' '')"), (Words{"", ""}));
}

TEST(RespInlineTest, UnbalancedQuotes) {
  for (const char* line : {R"(")", R"("abc)", R"("abc\")", R"('abc)", R"('abc\')", R"("a"b)",
                           R"('a'b)", R"("a"")", R"(a "b"c d)", "\"abc\\"}) {
    EXPECT_EQ(Split(line), std::nullopt) << line;
  }
}

TEST(RespInlineTest, WordsAreWrittenInPlace) {
  std::string line = R"(SET "k\x00" 'v\'')";
  std::vector<std::string_view> views;
  ASSERT_EQ(SplitInlineArgs(line.data(), line.data() + line.size(), 3, 3, &views),
            InlineSplit::kOk);
  ASSERT_EQ(views.size(), 3u);
  EXPECT_EQ(views[0].data(), line.data());
  EXPECT_EQ(views[1].data(), line.data() + 4);  // where the word's text began
  EXPECT_EQ(views[1], "k\0"s);
  EXPECT_EQ(views[2], "v'");
}

TEST(RespInlineTest, TooManyOrTooLongWords) {
  std::vector<std::string_view> views;
  std::string line = "a b c";
  EXPECT_EQ(SplitInlineArgs(line.data(), line.data() + line.size(), 2, 8, &views),
            InlineSplit::kTooBig);
  views.clear();
  line = "abc defghi";
  EXPECT_EQ(SplitInlineArgs(line.data(), line.data() + line.size(), 2, 5, &views),
            InlineSplit::kTooBig);
  // Reading order decides: too many words before an unbalanced quote is kTooBig.
  views.clear();
  line = "a b c \"d";
  EXPECT_EQ(SplitInlineArgs(line.data(), line.data() + line.size(), 2, 8, &views),
            InlineSplit::kTooBig);
}

}  // namespace
}  // namespace meridian
