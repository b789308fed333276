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
  Result<HttpFieldMap> query = ParseQuery("a=1&b=x%20y&flag&&c=");
  ASSERT_TRUE(query.ok());
  EXPECT_EQ(query->at("a"), "1");
  EXPECT_EQ(query->at("b"), "x y");
  EXPECT_EQ(query->at("flag"), "");
  EXPECT_EQ(query->at("c"), "");
  EXPECT_EQ(ParseQuery("a=%G1").status().code(), StatusCode::kInvalidArgument);
}

TEST(HttpMessageTest, ParseQueryRefusesARepeatedParameterNamingIt) {
  // by=1&by=2 was last-wins: a client's mistake became a silent choice.
  for (std::string_view query : {"by=1&by=2", "by=1&x=2&b%79=3", "by&by"}) {
    Result<HttpFieldMap> parsed = ParseQuery(query);
    ASSERT_FALSE(parsed.ok()) << query;
    EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find("'by'"), std::string::npos)
        << parsed.status().message();
  }
}

TEST(HttpMessageTest, ErrorResponsesAreJson) {
  const HttpResponse r = HttpResponse::Error(400, "invalid_argument", "a \"quoted\"\nname\x01");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body,
            R"({"error":{"code":"invalid_argument","message":"a \"quoted\"\nname\u0001"}})");
}

TEST(HttpMessageTest, SplitPath) {
  EXPECT_EQ(*SplitPath("/proxies/us-%3Eeu/toxics/"),
            (std::vector<std::string>{"proxies", "us->eu", "toxics"}));
  EXPECT_TRUE(SplitPath("/")->empty());
  EXPECT_FALSE(SplitPath("/a/%"));
}

}  // namespace
}  // namespace meridian
