#include "net/http_message.h"

#include <gtest/gtest.h>

namespace meridian {
namespace {

TEST(HttpMessageTest, PercentDecode) {
  EXPECT_EQ(*PercentDecode("us-%3Eeu", false), "us->eu");
  EXPECT_EQ(*PercentDecode("a+b%20c", true), "a b c");
  EXPECT_EQ(*PercentDecode("a+b", false), "a+b");
  EXPECT_FALSE(PercentDecode("%", false));
  EXPECT_FALSE(PercentDecode("%4", false));
  EXPECT_FALSE(PercentDecode("%zz", false));
}

TEST(HttpMessageTest, ParseQuery) {
  std::optional<HttpFieldMap> query = ParseQuery("a=1&b=x%20y&flag&&a=2");
  ASSERT_TRUE(query);
  EXPECT_EQ(query->at("a"), "2");
  EXPECT_EQ(query->at("b"), "x y");
  EXPECT_EQ(query->at("flag"), "");
  EXPECT_FALSE(ParseQuery("a=%G1"));
}

TEST(HttpMessageTest, SplitPath) {
  EXPECT_EQ(*SplitPath("/proxies/us-%3Eeu/toxics/"),
            (std::vector<std::string>{"proxies", "us->eu", "toxics"}));
  EXPECT_TRUE(SplitPath("/")->empty());
  EXPECT_FALSE(SplitPath("/a/%"));
}

}  // namespace
}  // namespace meridian
