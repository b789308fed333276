// Request bodies of the write routes: JSON syntax, JSON types, sizes, and the messages that name
// the problem.
#include <gtest/gtest.h>

#include "api/api_test_util.h"

namespace meridian {
namespace {

using testing::ErrorOf;
using testing::Parse;
using testing::WriteOf;

void ExpectRefused(const ApiCommand& command, int status, const std::string& message) {
  const ApiError error = ErrorOf(command);
  EXPECT_EQ(error.http_status, status) << message;
  EXPECT_EQ(error.message, message);
}

TEST(HttpApiBodiesTest, MalformedJsonIs400) {
  for (const char* body : {"{", "{\"a\":}", "nul", "{\"a\":\"1\"} x", "{'a':'1'}", "{\"a\":\"1\",}",
                           "{\"a\":\"\xFF\"}", "/* c */ {}"}) {
    ExpectRefused(Parse("PUT", "/profile/k", body), 400, "request body is not valid JSON");
  }
  ExpectRefused(Parse("PUT", "/profile/k"), 400, "request body is empty; expected a JSON object");
  ExpectRefused(Parse("PUT", "/profile/k", R"({"\ud800":"x"})"), 400,
                "request body is not valid JSON");  // lone surrogate escape
  ExpectRefused(Parse("POST", "/tags/k", std::string(17, '[') + std::string(17, ']')), 400,
                "request body nests deeper than 16 levels");
  // Brackets inside strings do not count as nesting.
  WriteOf(Parse("PUT", "/profile/k", R"({"a":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"["})"));
}

TEST(HttpApiBodiesTest, ProfileTypes) {
  ExpectRefused(Parse("PUT", "/profile/k", "[]"), 400,
                "request body must be a JSON object of fields");
  ExpectRefused(Parse("PUT", "/profile/k", R"("x")"), 400,
                "request body must be a JSON object of fields");
  ExpectRefused(Parse("PUT", "/profile/k", "{}"), 400, "profile write sets no field");
  for (const char* value : {"1", "true", "[]", "{}", "1.5"}) {
    ExpectRefused(Parse("PUT", "/profile/k", std::string(R"({"age":)") + value + "}"), 400,
                  "field 'age' must be a string, or null to delete it");
  }
  ExpectRefused(Parse("PUT", "/profile/k?mode=blob", R"({"a":null})"), 400,
                "field 'a' must be a string (blob mode has no deletes)");
  ExpectRefused(Parse("PUT", "/profile/k", R"({"":"x"})"), 400, "field name is empty");
  ExpectRefused(Parse("PUT", "/profile/k", "{\"" + std::string(513, 'f') + "\":\"x\"}"), 400,
                "field name is 513 bytes; the limit is 512");
}

TEST(HttpApiBodiesTest, ValuesUpTo1MiB) {
  const std::string max_value(kValueBytesMax, 'v');
  const ClientWrite ok = WriteOf(Parse("PUT", "/profile/k", "{\"a\":\"" + max_value + "\"}"));
  EXPECT_EQ(std::get<LwwMapOp>(ok.body).fields[0].second->size(), kValueBytesMax);
  ExpectRefused(Parse("PUT", "/profile/k", "{\"a\":\"" + max_value + "v\"}"), 413,
                "value of field 'a' is 1048577 bytes; the limit is 1048576");
  ExpectRefused(Parse("PUT", "/register/k", "{\"value\":\"" + max_value + "v\"}"), 413,
                "value is 1048577 bytes; the limit is 1048576");
  ExpectRefused(Parse("PUT", "/register/k", std::string(kBodyBytesMax + 1, ' ')), 413,
                "request body is 1114113 bytes; the limit is 1114112");
  EXPECT_EQ(ErrorOf(Parse("PUT", "/profile/k", "{\"a\":\"" + max_value + "v\"}")).code,
            "payload_too_large");
}

TEST(HttpApiBodiesTest, TooManyItems) {
  std::string fields = "{";
  for (size_t i = 0; i <= kWriteItemsMax; ++i) {
    fields += (i ? ",\"f" : "\"f") + std::to_string(i) + "\":\"x\"";
  }
  ExpectRefused(Parse("PUT", "/profile/k", fields + "}"), 413,
                "write names 1025 fields or elements; the limit is 1024");
  std::string tags = "{\"add\":[";
  for (size_t i = 0; i <= kWriteItemsMax; ++i)
    tags += (i ? ",\"t" : "\"t") + std::to_string(i) + "\"";
  ExpectRefused(Parse("POST", "/tags/k", tags + "]}"), 413,
                "write names 1025 fields or elements; the limit is 1024");
}

TEST(HttpApiBodiesTest, Tags) {
  const ClientWrite both = WriteOf(Parse("POST", "/tags/k", R"({"add":["x"],"remove":["y","y"]})"));
  EXPECT_EQ(std::get<TagsWrite>(both.body).add, (std::vector<std::string>{"x"}));
  EXPECT_EQ(std::get<TagsWrite>(both.body).remove, (std::vector<std::string>{"y"}));
  ExpectRefused(Parse("POST", "/tags/k", R"({"add":["x"],"remove":["x"]})"), 400,
                "tag element 'x' is both added and removed");
  ExpectRefused(Parse("POST", "/tags/k", R"({})"), 400, "tags write adds and removes nothing");
  ExpectRefused(Parse("POST", "/tags/k", R"({"add":[]})"), 400,
                "tags write adds and removes nothing");
  ExpectRefused(Parse("POST", "/tags/k", R"({"add":"x"})"), 400,
                "\"add\" must be an array of strings");
  ExpectRefused(Parse("POST", "/tags/k", R"({"remove":[1]})"), 400,
                "\"remove\" must be an array of strings");
  ExpectRefused(Parse("POST", "/tags/k", R"({"add":[""]})"), 400, "tag element is empty");
  ExpectRefused(Parse("POST", "/tags/k", R"({"add":["x"],"delete":["y"]})"), 400,
                "unknown member 'delete'; expected \"add\" or \"remove\"");
  ExpectRefused(Parse("POST", "/tags/k", R"(["x"])"), 400,
                R"(request body must be a JSON object {"add": [...], "remove": [...]})");
}

TEST(HttpApiBodiesTest, Register) {
  ExpectRefused(Parse("PUT", "/register/k", R"({})"), 400, "\"value\" must be a string");
  ExpectRefused(Parse("PUT", "/register/k", R"({"value":null})"), 400,
                "\"value\" must be a string");
  ExpectRefused(Parse("PUT", "/register/k", R"({"value":"v","x":1})"), 400,
                "unknown member 'x'; expected \"value\"");
  EXPECT_EQ(std::get<std::string>(WriteOf(Parse("PUT", "/register/k", R"({"value":""})")).body),
            "");
}

TEST(HttpApiBodiesTest, Stock) {
  const auto stock = [](const std::string& body) {
    return std::get<StockWrite>(WriteOf(Parse("POST", "/stock/k", body)).body);
  };
  EXPECT_EQ(stock(R"({"add":5})"), (StockWrite{StockOpKind::kAdd, 5, 0}));
  EXPECT_EQ(stock(R"({"take":4611686018427387903})"),
            (StockWrite{StockOpKind::kTake, 4611686018427387903ULL, 0}));
  const std::string one = R"(a stock write is one of {"add": N} or {"take": N})";
  ExpectRefused(Parse("POST", "/stock/k", "{}"), 400, one);
  ExpectRefused(Parse("POST", "/stock/k", R"({"add":1,"take":1})"), 400, one);
  ExpectRefused(Parse("POST", "/stock/k", R"({"lend":1})"), 400, one);
  for (const char* n : {"0", "-1", "1.5", "\"3\"", "null", "4611686018427387904"}) {
    ExpectRefused(Parse("POST", "/stock/k", std::string(R"({"take":)") + n + "}"), 400,
                  "\"take\" must be an integer from 1 to 2^62-1");
  }
  EXPECT_EQ(ErrorOf(Parse("DELETE", "/stock/k")).http_status, 405);  // a stock has no delete
  EXPECT_EQ(ErrorOf(Parse("POST", "/stock/k?by=1", R"({"add":1})")).http_status, 400);
}

TEST(HttpApiBodiesTest, Text) {
  const auto text = [](const std::string& body) {
    return std::get<TextWrite>(WriteOf(Parse("POST", "/text/k", body)).body);
  };
  EXPECT_EQ(text(R"({"insert":{"pos":0,"text":"h\u00e9"}})"),
            (TextWrite{{TextEdit{true, 0, "h\xC3\xA9", 0}}}));
  EXPECT_EQ(text(R"({"delete":{"pos":3,"len":2}})"), (TextWrite{{TextEdit{false, 3, "", 2}}}));
  EXPECT_EQ(text(R"({"edits":[{"delete":{"pos":0,"len":1}},{"insert":{"text":"x","pos":9}}]})"),
            (TextWrite{{TextEdit{false, 0, "", 1}, TextEdit{true, 9, "x", 0}}}));
  const std::string edit = R"(an edit must be {"insert": {...}} or {"delete": {...}})";
  ExpectRefused(Parse("POST", "/text/k", "{}"), 400, edit);
  ExpectRefused(Parse("POST", "/text/k", R"({"insert":{"pos":0,"text":"a"},"delete":{}})"), 400,
                edit);
  ExpectRefused(Parse("POST", "/text/k", R"({"edits":[]})"), 400,
                "\"edits\" is empty: a text write needs an edit");
  ExpectRefused(Parse("POST", "/text/k", R"({"edits":{}})"), 400,
                "\"edits\" must be an array of edits");
  ExpectRefused(Parse("POST", "/text/k", R"({"edits":[1]})"), 400, "edits[0]: " + edit);
  ExpectRefused(Parse("POST", "/text/k", R"({"insert":{"pos":0,"text":""}})"), 400,
                "insert \"text\" is empty");
  ExpectRefused(Parse("POST", "/text/k", R"({"insert":{"pos":0,"text":7}})"), 400,
                "insert \"text\" must be a string");
  ExpectRefused(Parse("POST", "/text/k", R"({"insert":{"text":"a"}})"), 400,
                "insert \"pos\" is missing");
  for (const char* pos : {"-1", "1.5", "\"1\"", "null", "9007199254740993"}) {
    const ApiError error = ErrorOf(
        Parse("POST", "/text/k", std::string(R"({"insert":{"text":"a","pos":)") + pos + "}}"));
    EXPECT_EQ(error.http_status, 400) << pos;
  }
  ExpectRefused(Parse("POST", "/text/k", R"({"delete":{"pos":0,"len":0}})"), 400,
                "delete \"len\" must be an integer from 1 to 2^53");
  ExpectRefused(Parse("POST", "/text/k", R"({"delete":{"pos":0,"len":1,"text":"a"}})"), 400,
                "delete has an unknown member 'text'");
  ExpectRefused(Parse("POST", "/text/k", "[]"), 400,
                "request body must be a JSON object: an edit, or {\"edits\": [...]}");
}

TEST(HttpApiBodiesTest, MessagesQuoteClientTextSafely) {
  // A long field name is cut in the message; one that is not UTF-8 is not echoed at all.
  const std::string long_name(300, 'n');
  const ApiError error = ErrorOf(Parse("PUT", "/profile/k", "{\"" + long_name + "\":1}"));
  EXPECT_EQ(error.message,
            "field '" + std::string(64, 'n') + "...' must be a string, or null to delete it");
  const ApiError bad_param = ErrorOf(Parse("GET", "/profile/k?%FF=1"));
  EXPECT_EQ(bad_param.message, "unknown query parameter (not valid UTF-8)");
}

}  // namespace
}  // namespace meridian
