// Every route of the client API, and the refusals that do not depend on a body: unknown routes,
// wrong methods, query parameters, headers, keys.
#include <gtest/gtest.h>

#include "api/api_test_util.h"
#include "api/session_token.h"

namespace meridian {
namespace {

using testing::ErrorOf;
using testing::Parse;
using testing::ReadOf;
using testing::WriteOf;

TEST(HttpApiRoutesTest, ReadsOfEveryClass) {
  const std::pair<std::string, DataClass> routes[] = {{"/profile/k", DataClass::kProfile},
                                                      {"/counter/k", DataClass::kCounter},
                                                      {"/tags/k", DataClass::kTags},
                                                      {"/register/k", DataClass::kRegister}};
  for (const auto& [path, data_class] : routes) {
    const ReadCommand read = ReadOf(Parse("GET", path));
    EXPECT_EQ(read.key, (StateKey{data_class, "k"})) << path;
    EXPECT_EQ(read.consistency, Consistency::kLocal);
    EXPECT_FALSE(read.session.has_value());
  }
}

TEST(HttpApiRoutesTest, ReadConsistencyAndSession) {
  VersionVector vv;
  vv.Set(1, 4);
  const ReadCommand read = ReadOf(Parse("GET", "/tags/k?consistency=quorum", "",
                                        {{"x-session-token", EncodeSessionToken(vv)}}));
  EXPECT_EQ(read.consistency, Consistency::kQuorum);
  ASSERT_TRUE(read.session.has_value());
  EXPECT_EQ(*read.session, vv);
  EXPECT_EQ(ReadOf(Parse("GET", "/tags/k?consistency=local")).consistency, Consistency::kLocal);
  EXPECT_EQ(ReadOf(Parse("GET", "/tags/k?consistency=eventual")).consistency, Consistency::kLocal);
  EXPECT_EQ(ReadOf(Parse("GET", "/tags/k?consistency=strong")).consistency, Consistency::kQuorum);
  EXPECT_EQ(ReadOf(Parse("GET", "/tags/k?consistency=all")).consistency, Consistency::kAll);

  const ApiError bad_level = ErrorOf(Parse("GET", "/tags/k?consistency=linearizable"));
  EXPECT_EQ(bad_level.http_status, 400);
  EXPECT_EQ(bad_level.message,
            "consistency must be 'local' (or 'eventual'), 'quorum' (or 'strong') or 'all', not "
            "'linearizable'");
}

// ?w= on every kind of write: a level the region resolves against the key's residency set.
TEST(HttpApiRoutesTest, WriteLevels) {
  auto level = [](const ApiCommand& command) {
    const auto* write = std::get_if<WriteCommand>(&command);
    EXPECT_NE(write, nullptr);
    EXPECT_TRUE(write == nullptr || write->replicas == 1u);
    return write ? write->level : WriteLevel::kCount;
  };
  EXPECT_EQ(level(Parse("POST", "/counter/c/incr?by=2")), WriteLevel::kCount);
  EXPECT_EQ(level(Parse("POST", "/counter/c/incr?by=2&w=local")), WriteLevel::kCount);
  EXPECT_EQ(level(Parse("POST", "/counter/c/incr?w=majority")), WriteLevel::kMajority);
  EXPECT_EQ(level(Parse("PUT", "/profile/p?w=all", R"({"a":"1"})")), WriteLevel::kAll);
  EXPECT_EQ(level(Parse("POST", "/tags/t?w=majority", R"({"add":["x"]})")), WriteLevel::kMajority);
  EXPECT_EQ(level(Parse("DELETE", "/tags/t/x?w=all")), WriteLevel::kAll);
  EXPECT_EQ(level(Parse("PUT", "/register/r?w=majority", R"({"value":"v"})")),
            WriteLevel::kMajority);
  EXPECT_EQ(level(Parse("DELETE", "/profile/p?w=all")), WriteLevel::kAll);

  const ApiError bad = ErrorOf(Parse("POST", "/counter/c/incr?w=quorum"));
  EXPECT_EQ(bad.http_status, 400);
  EXPECT_EQ(bad.message, "w must be 'local', 'majority' or 'all', not 'quorum'");
  // A read takes consistency=, not w=.
  EXPECT_EQ(ErrorOf(Parse("GET", "/counter/c?w=all")).message, "unknown query parameter 'w'");
}

TEST(HttpApiRoutesTest, BadSessionTokensAreRefused) {
  for (const std::string& token :
       std::vector<std::string>{"!!!", "AAAA=", "A", std::string(600, 'A'), "_w"}) {
    const ApiError error = ErrorOf(Parse("GET", "/profile/k", "", {{"x-session-token", token}}));
    EXPECT_EQ(error.http_status, 400) << token;
    EXPECT_TRUE(error.message.starts_with("X-Session-Token: ")) << error.message;
  }
  VersionVector outside;  // ApiOptions{3}: region 5 is not in the cluster
  outside.Set(5, 1);
  const ApiError error =
      ErrorOf(Parse("GET", "/profile/k", "", {{"x-session-token", EncodeSessionToken(outside)}}));
  EXPECT_EQ(error.message, "X-Session-Token names region 5, which is not in this cluster");
}

// Issue 16: X-Context on PUT and DELETE /register carries the context a GET handed out; without
// it the write replaces everything the region shows, as before.
TEST(HttpApiRoutesTest, RegisterWritesCarryTheirContext) {
  VersionVector seen;
  seen.Set(0, 2);
  seen.Set(2, 1);
  const std::string context = EncodeSessionToken(seen);
  const ClientWrite put =
      WriteOf(Parse("PUT", "/register/r", R"({"value":"v"})", {{"x-context", context}}));
  ASSERT_TRUE(put.observed_context.has_value());
  EXPECT_EQ(*put.observed_context, seen);
  EXPECT_EQ(std::get<std::string>(put.body), "v");
  const ClientWrite del = WriteOf(Parse("DELETE", "/register/r", "", {{"x-context", context}}));
  ASSERT_TRUE(del.observed_context.has_value());
  EXPECT_TRUE(std::holds_alternative<KeyDelete>(del.body));
  EXPECT_FALSE(WriteOf(Parse("PUT", "/register/r", R"({"value":"v"})")).observed_context);
  // The context of a register never written is empty, and still a context (it observes nothing).
  const ClientWrite blank =
      WriteOf(Parse("PUT", "/register/r", R"({"value":"v"})", {{"x-context", ""}}));
  ASSERT_TRUE(blank.observed_context.has_value());
  EXPECT_EQ(*blank.observed_context, VersionVector{});
}

TEST(HttpApiRoutesTest, BadContextsAreRefused) {
  VersionVector seen;
  seen.Set(1, 1);
  for (const std::string& context :
       std::vector<std::string>{"!!!", "AAAA=", "A", std::string(600, 'A'), "_w"}) {
    const ApiError error =
        ErrorOf(Parse("PUT", "/register/r", R"({"value":"v"})", {{"x-context", context}}));
    EXPECT_EQ(error.http_status, 400) << context;
    EXPECT_TRUE(error.message.starts_with("X-Context is not a context a GET handed out: "))
        << error.message;
  }
  VersionVector outside;  // ApiOptions{3}: region 5 is not in the cluster
  outside.Set(5, 1);
  const ApiError error =
      ErrorOf(Parse("DELETE", "/register/r", "", {{"x-context", EncodeSessionToken(outside)}}));
  EXPECT_EQ(error.http_status, 400);
  EXPECT_EQ(error.message, "X-Context names region 5, which is not in this cluster");
  const ApiError other_class =
      ErrorOf(Parse("POST", "/counter/c/incr", "", {{"x-context", EncodeSessionToken(seen)}}));
  EXPECT_EQ(other_class.message, "X-Context applies to /register/{key} only");
}

TEST(HttpApiRoutesTest, ProfileWrites) {
  const ClientWrite put = WriteOf(
      Parse("PUT", "/profile/alice", R"({"b":"2","a":null})", {{"idempotency-key", "retry 1"}}));
  EXPECT_EQ(put.target, (StateKey{DataClass::kProfile, "alice"}));
  EXPECT_EQ(put.idempotency_key, "retry 1");
  EXPECT_EQ(std::get<LwwMapOp>(put.body),
            (LwwMapOp{false, {{"a", std::nullopt}, {"b", std::string("2")}}}));

  const ClientWrite blob = WriteOf(Parse("PUT", "/profile/alice?mode=blob", R"({"a":"1"})"));
  EXPECT_EQ(std::get<LwwMapOp>(blob.body), (LwwMapOp{true, {{"a", std::string("1")}}}));
  const ClientWrite empty_blob = WriteOf(Parse("PUT", "/profile/alice?mode=blob", "{}"));
  EXPECT_EQ(std::get<LwwMapOp>(empty_blob.body), (LwwMapOp{true, {}}));

  const ClientWrite del = WriteOf(Parse("DELETE", "/profile/alice"));
  EXPECT_TRUE(std::holds_alternative<KeyDelete>(del.body));  // observed-remove, not a clear
  EXPECT_EQ(ErrorOf(Parse("PUT", "/profile/a?mode=replace", "{}")).message,
            "mode must be 'blob' (or absent, to set fields)");
}

TEST(HttpApiRoutesTest, CounterWrites) {
  const ClientWrite incr = WriteOf(Parse("POST", "/counter/likes/incr"));
  EXPECT_EQ(incr.target, (StateKey{DataClass::kCounter, "likes"}));
  EXPECT_EQ(std::get<int64_t>(incr.body), 1);
  EXPECT_EQ(std::get<int64_t>(WriteOf(Parse("POST", "/counter/likes/incr?by=42")).body), 42);
  EXPECT_EQ(std::get<int64_t>(WriteOf(Parse("POST", "/counter/likes/decr")).body), -1);
  EXPECT_EQ(
      std::get<int64_t>(WriteOf(Parse("POST", "/counter/likes/decr?by=9223372036854775807")).body),
      -INT64_MAX);
  for (const char* by : {"0", "-1", "+1", "1.5", "", " 1", "9223372036854775808", "1e3", "x"}) {
    const ApiError error = ErrorOf(Parse("POST", std::string("/counter/k/incr?by=") + by));
    EXPECT_EQ(error.http_status, 400) << by;
    EXPECT_EQ(error.message, "by must be an integer from 1 to 9223372036854775807") << by;
  }
  EXPECT_EQ(ErrorOf(Parse("POST", "/counter/k/incr", "{}")).message,
            "POST /counter/{key}/incr takes no request body; the amount goes in ?by=N");
}

TEST(HttpApiRoutesTest, TagAndRegisterWrites) {
  const ClientWrite tags = WriteOf(Parse("POST", "/tags/t", R"({"add":["b","a","b"]})"));
  EXPECT_EQ(std::get<TagsWrite>(tags.body).add, (std::vector<std::string>{"a", "b"}));
  const ClientWrite remove_one = WriteOf(Parse("DELETE", "/tags/t/a%2Fb%20c"));
  EXPECT_EQ(remove_one.target, (StateKey{DataClass::kTags, "t"}));
  EXPECT_EQ(std::get<TagsWrite>(remove_one.body).remove, (std::vector<std::string>{"a/b c"}));
  EXPECT_TRUE(std::get<TagsWrite>(remove_one.body).add.empty());
  EXPECT_EQ(ErrorOf(Parse("DELETE", "/tags/t/%C0%80")).message, "tag element is not valid UTF-8");

  const ClientWrite reg = WriteOf(Parse("PUT", "/register/r", R"({"value":"v"})"));
  EXPECT_EQ(reg.target, (StateKey{DataClass::kRegister, "r"}));
  EXPECT_EQ(std::get<std::string>(reg.body), "v");
}

// Issue 19, item 8: DELETE on a key's URL deletes it, whatever its class (counters and tag sets
// could not be deleted at all before).
TEST(HttpApiRoutesTest, DeleteOfAKeyOfEveryClass) {
  const std::pair<const char*, DataClass> cases[] = {{"/profile/k", DataClass::kProfile},
                                                     {"/counter/k", DataClass::kCounter},
                                                     {"/tags/k", DataClass::kTags},
                                                     {"/register/k", DataClass::kRegister}};
  for (const auto& [path, data_class] : cases) {
    const ClientWrite del = WriteOf(Parse("DELETE", path, "", {{"idempotency-key", "del-7"}}));
    EXPECT_EQ(del.target, (StateKey{data_class, "k"})) << path;
    EXPECT_TRUE(std::holds_alternative<KeyDelete>(del.body)) << path;
    EXPECT_EQ(del.idempotency_key, "del-7");
    EXPECT_EQ(ErrorOf(Parse("DELETE", std::string(path) + "?by=1")).message,
              "unknown query parameter 'by'");
    EXPECT_EQ(ErrorOf(Parse("DELETE", path, "{}")).http_status, 400) << path;
  }
  // One element of a set is still removed on its own URL.
  EXPECT_TRUE(std::holds_alternative<TagsWrite>(WriteOf(Parse("DELETE", "/tags/k/element")).body));
}

TEST(HttpApiRoutesTest, AdminRoutes) {
  EXPECT_TRUE(std::holds_alternative<MetricsCommand>(Parse("GET", "/metrics")));
  EXPECT_TRUE(std::holds_alternative<HealthCommand>(Parse("GET", "/healthz")));
  const ApiCommand conflicts = Parse("GET", "/conflicts");
  ASSERT_TRUE(std::holds_alternative<ConflictsCommand>(conflicts));
  EXPECT_EQ(std::get<ConflictsCommand>(conflicts).limit, kConflictsShownDefault);
  EXPECT_EQ(std::get<ConflictsCommand>(Parse("GET", "/conflicts?limit=7")).limit, 7u);
  EXPECT_EQ(ErrorOf(Parse("GET", "/conflicts?limit=1001")).message,
            "limit must be an integer from 1 to 1000");
  EXPECT_EQ(ErrorOf(Parse("GET", "/metrics?x=1")).message, "unknown query parameter 'x'");
}

TEST(HttpApiRoutesTest, Scans) {
  const ApiCommand plain = Parse("GET", "/counter");
  ASSERT_TRUE(std::holds_alternative<ScanCommand>(plain));
  EXPECT_EQ(std::get<ScanCommand>(plain).data_class, DataClass::kCounter);
  EXPECT_EQ(std::get<ScanCommand>(plain).prefix, "");
  EXPECT_EQ(std::get<ScanCommand>(plain).limit, 100u);
  EXPECT_FALSE(std::get<ScanCommand>(plain).after.has_value());
  const ApiCommand page = Parse("GET", "/profile?prefix=user%3A&limit=5&cursor=dXNlcjox");
  ASSERT_TRUE(std::holds_alternative<ScanCommand>(page)) << ErrorOf(page).message;
  const auto& scan = std::get<ScanCommand>(page);
  EXPECT_EQ(scan.prefix, "user:");
  EXPECT_EQ(scan.limit, 5u);
  EXPECT_EQ(scan.after, (StateKey{DataClass::kProfile, "user:1"}));  // base64url of "user:1"
  EXPECT_EQ(ErrorOf(Parse("GET", "/tags?limit=0")).message,
            "limit must be an integer from 1 to 1000");
  EXPECT_EQ(ErrorOf(Parse("GET", "/tags?cursor=%21%21")).http_status, 400);
  EXPECT_EQ(ErrorOf(Parse("GET", "/tags?from=a")).message, "unknown query parameter 'from'");
  EXPECT_EQ(ErrorOf(Parse("PUT", "/register")).http_status, 405);
  EXPECT_EQ(ErrorOf(Parse("GET", "/register?prefix=a%2Fb")).http_status, 400);
  EXPECT_EQ(scan.scope, ScanScope::kLocal);
  const ApiCommand global = Parse("GET", "/tags?prefix=a&scope=global");
  ASSERT_TRUE(std::holds_alternative<ScanCommand>(global)) << ErrorOf(global).message;
  EXPECT_EQ(std::get<ScanCommand>(global).scope, ScanScope::kGlobal);
  EXPECT_EQ(std::get<ScanCommand>(Parse("GET", "/tags?scope=local")).scope, ScanScope::kLocal);
  EXPECT_EQ(ErrorOf(Parse("GET", "/tags?scope=everywhere")).message,
            "scope must be 'local' or 'global', not 'everywhere'");
}

TEST(HttpApiRoutesTest, UnknownRoutesAre404) {
  for (const char* path :
       {"/", "", "*", "/profiles", "/profile/k/extra", "/counter/k/add", "/counter/k/incr/x",
        "/tags/k/e/x", "/handle/bob", "/metrics/", "/PROFILE/k", "/register/k/x"}) {
    const ApiError error = ErrorOf(Parse("GET", path));
    EXPECT_EQ(error.http_status, 404) << path;
    EXPECT_EQ(error.code, "not_found");
    EXPECT_EQ(error.message, "no route for path '" + std::string(path) + "'");
  }
}

TEST(HttpApiRoutesTest, WrongMethodsAre405WithAllow) {
  const std::tuple<const char*, const char*, const char*> cases[] = {
      {"POST", "/profile/k", "GET, HEAD, PUT, DELETE"},
      {"PUT", "/counter/k", "GET, HEAD, DELETE"},
      {"GET", "/counter/k/incr", "POST"},
      {"HEAD", "/counter/k/incr", "POST"},
      {"PUT", "/tags/k", "GET, HEAD, POST, DELETE"},
      {"GET", "/tags/k/e", "DELETE"},
      {"POST", "/register/k", "GET, HEAD, PUT, DELETE"},
      {"POST", "/metrics", "GET, HEAD"},
      {"PUT", "/healthz", "GET, HEAD"},
      {"get", "/conflicts", "GET, HEAD"}};
  for (const auto& [method, path, allow] : cases) {
    const ApiError error = ErrorOf(Parse(method, path));
    EXPECT_EQ(error.http_status, 405) << method << " " << path;
    EXPECT_EQ(error.code, "method_not_allowed");
    EXPECT_EQ(error.allow, allow);
  }
  EXPECT_EQ(ErrorOf(Parse("PATCH", "/profile/k")).message,
            "method 'PATCH' is not allowed on /profile/{key}; allowed: GET, HEAD, PUT, DELETE");
}

TEST(HttpApiRoutesTest, HeadParsesAsTheGetItStandsFor) {
  // The HTTP server hands HEAD over as GET; a HEAD that reaches the parser reads all the same.
  EXPECT_EQ(ReadOf(Parse("HEAD", "/counter/k")).key.key, "k");
  EXPECT_TRUE(std::holds_alternative<HealthCommand>(Parse("HEAD", "/healthz")));
}

TEST(HttpApiRoutesTest, BadKeysAre400) {
  const std::pair<std::string, std::string> cases[] = {
      {"/profile/", "key is empty"},
      {"/profile/" + std::string(513, 'k'), "key is 513 bytes; the limit is 512"},
      {"/profile/%FF", "key is not valid UTF-8"},
      {"/profile/%C0%AF", "key is not valid UTF-8"},        // overlong '/'
      {"/profile/%ED%A0%80", "key is not valid UTF-8"},     // surrogate U+D800
      {"/profile/%F4%90%80%80", "key is not valid UTF-8"},  // U+110000
      {"/profile/a%2Fb", "key contains '/'"},
      {"/profile/%zz", "request path has a malformed %-escape"},
  };
  for (const auto& [path, message] : cases) {
    const ApiError error = ErrorOf(Parse("GET", path));
    EXPECT_EQ(error.http_status, 400) << path;
    EXPECT_EQ(error.code, "invalid_argument");
    EXPECT_EQ(error.message, message) << path;
  }
  // 512 bytes of multi-byte UTF-8 is fine; the limit counts bytes, not characters.
  std::string key;
  for (int i = 0; i < 128; ++i)
    key += "%F0%9F%98%80";  // U+1F600, 4 bytes
  EXPECT_EQ(ReadOf(Parse("GET", "/counter/" + key)).key.key.size(), 512u);
}

TEST(HttpApiRoutesTest, IdempotencyKeyHeader) {
  EXPECT_EQ(
      WriteOf(Parse("POST", "/counter/k/incr", "", {{"idempotency-key", std::string(128, '~')}}))
          .idempotency_key,
      std::string(128, '~'));
  for (const std::string& key : {std::string(), std::string(129, 'a'), std::string("a\tb"),
                                 std::string("\xC3\xA9"), std::string("a\x7F")}) {
    const ApiError error =
        ErrorOf(Parse("POST", "/counter/k/incr", "", {{"idempotency-key", key}}));
    EXPECT_EQ(error.http_status, 400);
    EXPECT_EQ(error.message, "Idempotency-Key must be 1 to 128 printable ASCII characters");
  }
}

TEST(HttpApiRoutesTest, QueryAndBodyWhereTheyDoNotBelong) {
  EXPECT_EQ(ErrorOf(Parse("GET", "/profile/k?consistancy=quorum")).message,
            "unknown query parameter 'consistancy'");
  EXPECT_EQ(ErrorOf(Parse("PUT", "/register/k?consistency=local", R"({"value":"v"})")).message,
            "unknown query parameter 'consistency'");
  EXPECT_EQ(ErrorOf(Parse("GET", "/profile/k", "{}")).message,
            "GET /profile/{key} takes no request body");
  EXPECT_EQ(ErrorOf(Parse("DELETE", "/profile/k", "{}")).message,
            "DELETE /profile/{key} takes no request body");
}

}  // namespace
}  // namespace meridian
