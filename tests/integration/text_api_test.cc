// Class text on three `meridian region` processes (loopback, direct replication): edits sent to
// two regions at once converge to one text everywhere holding every edit, bad edits are answered
// 400 and change nothing, and a DELETE of the key leaves an empty text.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/integration/cluster_harness.h"

namespace meridian::testing {
namespace {

using Json = nlohmann::json;
using std::chrono::seconds;

class TextApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Status started = cluster_.StartAll();
    ASSERT_TRUE(started.ok()) << started.ToString();
  }
  // The answer's status and JSON body (discarded JSON when it is not JSON).
  std::pair<int, Json> Send(size_t region, const std::string& method, const std::string& target,
                            const std::string& body = "") {
    auto r = cluster_.Call(region, method, target, body);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return {0, Json()};
    return {r->status, Json::parse(r->body, nullptr, /*allow_exceptions=*/false)};
  }
  Json Read(size_t region) {
    auto [status, body] = Send(region, "GET", "/text/doc");
    EXPECT_EQ(status, 200);
    return body;
  }
  static std::string Insert(size_t pos, const std::string& text) {
    return Json{{"insert", {{"pos", pos}, {"text", text}}}}.dump();
  }
  ClusterHarness cluster_;
};

TEST_F(TextApiTest, ConcurrentEditsInTwoRegionsConverge) {
  ASSERT_EQ(Send(0, "POST", "/text/doc", Insert(0, "[]")).first, 200);
  ASSERT_TRUE(Eventually([&] { return Read(1)["value"] == "[]"; }, seconds(20)));
  // Both regions insert between the brackets, without waiting for each other.
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Send(0, "POST", "/text/doc", Insert(1, "a")).first, 200);
    EXPECT_EQ(Send(1, "POST", "/text/doc", Insert(1, "\u00e9")).first, 200);
  }
  std::string text;
  ASSERT_TRUE(Eventually(
      [&] {
        const Json first = Read(0);
        if (!first["value"].is_string()) return false;
        text = first["value"].get<std::string>();
        for (size_t r = 1; r < cluster_.regions().size(); ++r) {
          if (Read(r)["value"] != text) return false;
        }
        return first["length"] == 12;
      },
      seconds(20)))
      << text;
  for (size_t r = 0; r < cluster_.regions().size(); ++r)
    EXPECT_EQ(Read(r)["value"], text) << r;
  EXPECT_EQ(text.front(), '[');
  EXPECT_EQ(text.back(), ']');
  EXPECT_EQ(std::count(text.begin(), text.end(), 'a'), 5);
  EXPECT_EQ(Read(2)["found"], true);
}

TEST_F(TextApiTest, BadEditsAre400AndChangeNothing) {
  ASSERT_EQ(Send(0, "POST", "/text/doc", Insert(0, "abc")).first, 200);
  const Json before = Read(0);
  ASSERT_EQ(before["value"], "abc");
  ASSERT_EQ(before["length"], 3);
  struct Case {
    std::string body;
    std::string message_part;
  };
  const std::vector<Case> cases = {
      {Insert(4, "x"), "insert position 4 is past the end of the text (length 3)"},
      {R"({"delete":{"pos":2,"len":2}})", "passes the end of the text"},
      {R"({"edits":[{"insert":{"pos":0,"text":"ok"}},{"insert":{"pos":9,"text":"no"}}]})",
       "edit 1: insert position 9"},
      {R"({"edits":[]})", "\"edits\" is empty"},
      {R"({"insert":{"pos":0,"text":""}})", "\"text\" is empty"},
      {"{\"insert\":{\"pos\":0,\"text\":\"\xC3\"}}", "not valid JSON"},
      {"{not json", "not valid JSON"},
      {R"({"insert":{"pos":-1,"text":"x"}})", "\"pos\" must be an integer"},
  };
  for (const Case& c : cases) {
    auto [status, error] = Send(0, "POST", "/text/doc", c.body);
    EXPECT_EQ(status, 400) << c.body;
    const std::string message = error["error"]["message"].is_string()
                                    ? error["error"]["message"].get<std::string>()
                                    : std::string();
    EXPECT_NE(message.find(c.message_part), std::string::npos) << c.body << " -> " << message;
  }
  EXPECT_EQ(Read(0), before);  // the same text and the same version vector: no op was made
}

TEST_F(TextApiTest, DeleteOfTheKeyEmptiesTheText) {
  ASSERT_EQ(Send(1, "POST", "/text/doc", Insert(0, "gone")).first, 200);
  ASSERT_TRUE(Eventually([&] { return Read(2)["value"] == "gone"; }, seconds(20)));
  auto [status, reply] = Send(2, "DELETE", "/text/doc");
  ASSERT_EQ(status, 200);
  EXPECT_FALSE(reply["dot"].is_null());
  ASSERT_TRUE(Eventually([&] { return Read(0)["found"] == false; }, seconds(20)));
  EXPECT_EQ(Read(0)["value"], "");
  EXPECT_EQ(Read(0)["length"], 0);
}

}  // namespace
}  // namespace meridian::testing
