// Formatters: JSON shapes of reads, writes, errors and conflicts; the Status -> HTTP mapping.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <tuple>

#include "api/http_api.h"
#include "api/session_token.h"
#include "replica/key_state.h"

namespace meridian {
namespace {

using Json = nlohmann::json;

const std::vector<std::string> kRegions = {"us", "eu", "ap"};

Json BodyOf(const HttpResponse& response) {
  EXPECT_EQ(response.content_type, "application/json");
  Json json = Json::parse(response.body, nullptr, false);
  EXPECT_FALSE(json.is_discarded()) << response.body;
  return json;
}

VersionVector Vector(uint64_t us, uint64_t eu, uint64_t ap) {
  VersionVector vv;
  vv.Set(0, us);
  vv.Set(1, eu);
  vv.Set(2, ap);
  return vv;
}

std::string HeaderOf(const HttpResponse& response, const std::string& name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return "";
}

TEST(HttpApiFormatTest, ReadOfAProfile) {
  LwwMap map;
  map.Apply(LwwMapOp{false, {{"name", "Alice"}, {"bio", std::nullopt}}}, WriteStamp{{100, 0}, 1},
            Dot{1, 1}, nullptr);
  const StateKey key{DataClass::kProfile, "alice"};
  const HttpResponse response =
      FormatRead(key, ReadResult{KeyState(map), Vector(3, 7, 0)}, kRegions);
  EXPECT_EQ(response.status, 200);
  // Field order is part of the format (ordered JSON): key first, the vector by region id.
  EXPECT_EQ(response.body,
            R"({"key":"alice","class":"profile","value":{"name":"Alice"},"found":true,)"
            R"("version_vector":{"us":3,"eu":7,"ap":0},"session_token":")" +
                EncodeSessionToken(Vector(3, 7, 0)) + R"("})");
}

TEST(HttpApiFormatTest, ReadsOfEveryClass) {
  PnCounter counter;
  counter.Apply(0, 5);
  counter.Apply(1, -2);
  OrSet set;
  set.Apply(set.PrepareAdd("b", 0));
  set.Apply(set.PrepareAdd("a", 1));
  MvRegister reg;
  reg.Apply(MvOp{"v1", Dot{0, 1}, {}}, WriteStamp{{100, 0}, 0});
  reg.Apply(MvOp{"v2", Dot{1, 1}, {}}, WriteStamp{{101, 0}, 1});  // concurrent: two siblings
  const std::pair<KeyState, Json> cases[] = {{KeyState(counter), Json(3)},
                                             {KeyState(set), Json{"a", "b"}},
                                             {KeyState(reg), Json{"v1", "v2"}}};
  const DataClass classes[] = {DataClass::kCounter, DataClass::kTags, DataClass::kRegister};
  for (size_t i = 0; i < 3; ++i) {
    const StateKey key{classes[i], "k"};
    const Json body =
        BodyOf(FormatRead(key, ReadResult{cases[i].first, Vector(1, 1, 0)}, kRegions));
    EXPECT_EQ(body["value"], cases[i].second);
    EXPECT_EQ(body["class"], DataClassName(classes[i]));
    EXPECT_EQ(body["found"], true);
  }
}

// Issue 16: a register read shows every sibling under "values" and the register's context, which
// a PUT sends back in X-Context (the session token's codec).
TEST(HttpApiFormatTest, RegisterReadShowsValuesAndContext) {
  MvRegister reg;
  reg.Apply(MvOp{"v1", Dot{0, 1}, {}}, WriteStamp{{100, 0}, 0});
  reg.Apply(MvOp{"v2", Dot{1, 1}, {}}, WriteStamp{{101, 0}, 1});
  const Json body = BodyOf(FormatRead(StateKey{DataClass::kRegister, "k"},
                                      ReadResult{KeyState(reg), Vector(1, 1, 0)}, kRegions));
  EXPECT_EQ(body["values"], (Json{"v1", "v2"}));
  EXPECT_EQ(body["value"], body["values"]);  // kept for older clients
  const auto context = DecodeSessionToken(body["context"].get<std::string>());
  ASSERT_TRUE(context.ok()) << context.status().ToString();
  EXPECT_EQ(*context, reg.context());
}

TEST(HttpApiFormatTest, NeverWrittenKeysReadAsEmptyNotFound) {
  const std::pair<DataClass, Json> cases[] = {{DataClass::kProfile, Json::object()},
                                              {DataClass::kCounter, Json(0)},
                                              {DataClass::kTags, Json::array()},
                                              {DataClass::kRegister, Json::array()}};
  for (const auto& [data_class, empty] : cases) {
    const HttpResponse response =
        FormatRead(StateKey{data_class, "k"}, ReadResult{std::nullopt, Vector(0, 2, 0)}, kRegions);
    EXPECT_EQ(response.status, 200);
    const Json body = BodyOf(response);
    EXPECT_EQ(body["value"], empty);
    EXPECT_EQ(body["found"], false);
    EXPECT_EQ(body["version_vector"], (Json{{"us", 0}, {"eu", 2}, {"ap", 0}}));
  }
}

// Issue 19, item 8: a deleted key of any class reads "found": false (a deleted profile used to
// read found with an empty value), with what a delete leaves: nothing, or for a counter what
// arrived beyond its deleted baseline.
TEST(HttpApiFormatTest, DeletedKeysReadAsNotFound) {
  LwwMap profile;
  profile.Apply(LwwMapOp{false, {{"name", "Alice"}}}, WriteStamp{{10, 0}, 0}, Dot{0, 1}, nullptr);
  profile.Apply(profile.PrepareDeleteAll(), WriteStamp{{11, 0}, 0}, Dot{0, 2}, nullptr);
  PnCounter counter;
  counter.Apply(0, 5);
  counter.ApplyDelete(counter.PrepareDelete());
  OrSet set;
  set.Apply(set.PrepareAdd("a", 0));
  for (const OrSetOp& t : set.PrepareRemoveAll())
    set.Apply(t);
  MvRegister reg;
  reg.Apply(MvOp{"v1", Dot{0, 1}, {}}, WriteStamp{{100, 0}, 0});
  reg.Apply(reg.PrepareDelete(), WriteStamp{});
  const std::tuple<DataClass, KeyState, Json> cases[] = {
      {DataClass::kProfile, KeyState(profile), Json::object()},
      {DataClass::kCounter, KeyState(counter), Json(0)},
      {DataClass::kTags, KeyState(set), Json::array()},
      {DataClass::kRegister, KeyState(reg), Json::array()}};
  for (const auto& [data_class, state, value] : cases) {
    const Json body =
        BodyOf(FormatRead(StateKey{data_class, "k"}, ReadResult{state, Vector(2, 0, 0)}, kRegions));
    EXPECT_EQ(body["found"], false) << DataClassName(data_class);
    EXPECT_EQ(body["value"], value) << DataClassName(data_class);
  }
  counter.Apply(1, -2);  // written after the delete: found again
  const Json again = BodyOf(FormatRead(StateKey{DataClass::kCounter, "k"},
                                       ReadResult{KeyState(counter), Vector(2, 1, 0)}, kRegions));
  EXPECT_EQ(again["found"], true);
  EXPECT_EQ(again["value"], -2);
}

TEST(HttpApiFormatTest, ADeleteThatMadeNoOpShowsNoDot) {
  const Json body = BodyOf(FormatWrite(WriteReply{Dot{}, Vector(3, 0, 0), false}, kRegions));
  EXPECT_TRUE(body["dot"].is_null());
  EXPECT_EQ(body["version_vector"], (Json{{"us", 3}, {"eu", 0}, {"ap", 0}}));
}

TEST(HttpApiFormatTest, OverflowedCounterIsAnError) {
  PnCounter counter;
  counter.Apply(0, INT64_MAX);
  counter.Apply(1, INT64_MAX);  // concurrent deltas, each legal where it was accepted
  const HttpResponse response = FormatRead(
      StateKey{DataClass::kCounter, "k"}, ReadResult{KeyState(counter), Vector(1, 1, 0)}, kRegions);
  EXPECT_EQ(response.status, 422);
  EXPECT_EQ(BodyOf(response)["error"]["code"], "out_of_range");
}

TEST(HttpApiFormatTest, Write) {
  const WriteReply reply{Dot{1, 8}, Vector(3, 8, 1), false};
  const HttpResponse response = FormatWrite(reply, kRegions);
  EXPECT_EQ(response.status, 200);
  const Json body = BodyOf(response);
  EXPECT_EQ(body["version_vector"], (Json{{"us", 3}, {"eu", 8}, {"ap", 1}}));
  EXPECT_EQ(body["dot"], (Json{{"region", "eu"}, {"seq", 8}}));
  EXPECT_EQ(body["deduplicated"], false);
  const Result<VersionVector> token = DecodeSessionToken(body["session_token"].get<std::string>());
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(*token, reply.applied);
  // A region the name list does not cover is shown by number.
  EXPECT_EQ(BodyOf(FormatWrite(reply, {"us"}))["version_vector"],
            (Json{{"us", 3}, {"1", 8}, {"2", 1}}));
}

TEST(HttpApiFormatTest, StatusMapping) {
  const std::pair<StatusCode, int> cases[] = {
      {StatusCode::kInvalidArgument, 400}, {StatusCode::kPermissionDenied, 403},
      {StatusCode::kNotFound, 404},        {StatusCode::kFailedPrecondition, 422},
      {StatusCode::kAlreadyExists, 409},   {StatusCode::kAborted, 409},
      {StatusCode::kOutOfRange, 422},      {StatusCode::kResourceExhausted, 429},
      {StatusCode::kUnimplemented, 501},   {StatusCode::kUnavailable, 503},
      {StatusCode::kCancelled, 503},       {StatusCode::kDeadlineExceeded, 504},
      {StatusCode::kInternal, 500},        {StatusCode::kDataLoss, 500},
      {StatusCode::kUnknown, 500}};
  for (const auto& [code, http] : cases) {
    const Status status(code, "why");
    const HttpResponse response = FormatStatus(status);
    EXPECT_EQ(response.status, http) << StatusCodeName(code);
    const Json body = BodyOf(response);
    EXPECT_EQ(body["error"]["message"], "why");
    EXPECT_EQ(body["error"]["retryable"], status.retryable());
    EXPECT_EQ(HeaderOf(response, "Retry-After"), status.retryable() ? "1" : "");
  }
  EXPECT_EQ(BodyOf(FormatStatus(FailedPrecondition("x")))["error"]["code"], "failed_precondition");
}

TEST(HttpApiFormatTest, ApiErrors) {
  const HttpResponse response = FormatError(ApiError{405, "method_not_allowed", "no", "GET, PUT"});
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(HeaderOf(response, "Allow"), "GET, PUT");
  EXPECT_EQ(BodyOf(response),
            (Json{{"error", {{"code", "method_not_allowed"}, {"message", "no"}}}}));
  EXPECT_TRUE(FormatError(ApiError{400, "invalid_argument", "key is empty", ""}).headers.empty());
}

TEST(HttpApiFormatTest, Conflicts) {
  ConflictLog log(10);
  log.Add(ConflictEntry{DataClass::kCounter, "c", "", ConflictOutcome::kCrdtMerge,
                        WriteStamp{{5, 0}, 0}, WriteStamp{{4, 0}, 1}, std::nullopt, std::nullopt,
                        std::nullopt});
  const std::string long_value = std::string(kConflictValueBytesShown - 1, 'x') + "\xC3\xA9zz";
  log.Add(ConflictEntry{DataClass::kProfile, "p", "bio", ConflictOutcome::kLwwOverwrite,
                        WriteStamp{{9, 1}, 2}, WriteStamp{{9, 0}, 0}, long_value, std::nullopt,
                        std::nullopt});
  const Json body = BodyOf(FormatConflicts(log, kRegions));
  EXPECT_EQ(body["total"], 2);
  EXPECT_EQ(body["counts"]["profile"]["lww_overwrite"], 1);
  EXPECT_EQ(body["counts"]["counter"]["crdt_merge"], 1);
  EXPECT_EQ(body["counts"]["tags"]["sibling"], 0);
  ASSERT_EQ(body["recent"].size(), 2u);
  const Json& newest = body["recent"][0];
  EXPECT_EQ(newest["key"], "p");
  EXPECT_EQ(newest["field"], "bio");
  EXPECT_EQ(newest["outcome"], "lww_overwrite");
  EXPECT_EQ(newest["winner"]["stamp"],
            (Json{{"physical_ms", 9}, {"logical", 1}, {"region", "ap"}}));
  // Cut before the two-byte character that would cross the limit, with the full size alongside.
  EXPECT_EQ(newest["winner"]["value"], std::string(kConflictValueBytesShown - 1, 'x'));
  EXPECT_EQ(newest["winner"]["value_bytes"], long_value.size());
  EXPECT_TRUE(newest["loser"]["value"].is_null());  // the losing write was a delete
  EXPECT_FALSE(body["recent"][1].contains("field"));
  EXPECT_FALSE(body["recent"][1]["winner"].contains("value"));
  EXPECT_EQ(BodyOf(FormatConflicts(log, kRegions, 1))["recent"].size(), 1u);

  // A type clash names the other class holding the key.
  log.Add(ConflictEntry{DataClass::kCounter,
                        "k",
                        "",
                        ConflictOutcome::kTypeClash,
                        WriteStamp{{12, 0}, 1},
                        {},
                        std::nullopt,
                        std::nullopt,
                        DataClass::kRegister});
  const Json clash = BodyOf(FormatConflicts(log, kRegions));
  EXPECT_EQ(clash["counts"]["counter"]["type_clash"], 1);
  EXPECT_EQ(clash["recent"][0]["outcome"], "type_clash");
  EXPECT_EQ(clash["recent"][0]["class"], "counter");
  EXPECT_EQ(clash["recent"][0]["clashes_with"], "register");
  EXPECT_FALSE(clash["recent"][1].contains("clashes_with"));
}

TEST(HttpApiFormatTest, Metrics) {
  const HttpResponse response = FormatMetrics("# HELP x y\n");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(response.body, "# HELP x y\n");
}

}  // namespace
}  // namespace meridian
