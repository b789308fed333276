#include "api/request_log.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace meridian {
namespace {

TEST(RequestLogTest, RequestIdsAreShortAndPlain) {
  EXPECT_TRUE(IsValidRequestId("0123456789abcdef"));
  EXPECT_TRUE(IsValidRequestId("3f2a1c9e-7b4d-4e8a-9c1f-2d3e4f5a6b7c"));
  EXPECT_FALSE(IsValidRequestId(""));
  EXPECT_FALSE(IsValidRequestId(std::string(kRequestIdBytesMax + 1, 'a')));
  EXPECT_FALSE(IsValidRequestId("a b"));
  EXPECT_FALSE(IsValidRequestId("a\"}\n{"));
  EXPECT_EQ(FormatRequestId(0xabc), "0000000000000abc");
  EXPECT_TRUE(IsValidRequestId(FormatRequestId(~uint64_t{0})));
}

TEST(RequestLogTest, TheSlowLineIsOneLineOfJsonWhateverTheTarget) {
  const std::string target = "/profile/a\"b\n{\"forged\":1}\xff" + std::string(1000, 'x');
  const std::string line =
      SlowRequestJson({"region", "eu", "0000000000000abc", "GET", target, 200, 812.34, 500});
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  const nlohmann::json parsed = nlohmann::json::parse(line);
  EXPECT_EQ(parsed["slow_request"], "region");
  EXPECT_EQ(parsed["region"], "eu");
  EXPECT_EQ(parsed["request_id"], "0000000000000abc");
  EXPECT_EQ(parsed["status"], 200);
  EXPECT_EQ(parsed["duration_ms"], 812.3);
  EXPECT_EQ(parsed["threshold_ms"], 500);
  EXPECT_FALSE(parsed.contains("forged"));
  EXPECT_LE(parsed["target"].get<std::string>().size(), kLoggedTargetBytesMax + 8);
}

}  // namespace
}  // namespace meridian
