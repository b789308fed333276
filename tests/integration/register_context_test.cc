// Class register on three `meridian region` processes (loopback, direct replication), issue 16:
// a read answers every sibling ("values") with the register's context; a PUT carrying that
// context in X-Context replaces exactly the siblings that read showed, so a write the reader did
// not see survives as a sibling; a bad context is 400 and changes nothing; a context naming
// writes the region has not applied waits for them and, past the session wait, is 504.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "api/session_token.h"
#include "tests/integration/cluster_harness.h"

namespace meridian::testing {
namespace {

using Json = nlohmann::json;
using std::chrono::seconds;
using Values = std::multiset<std::string>;

constexpr size_t kUs = 0, kEu = 1, kAp = 2;

class RegisterContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Status started = cluster_.StartAll();
    ASSERT_TRUE(started.ok()) << started.ToString();
  }
  // The answer's status and JSON body (discarded JSON when it is not JSON).
  std::pair<int, Json> Send(size_t region, const std::string& method, const std::string& body,
                            const std::string& context = "") {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!context.empty()) headers.emplace_back("X-Context", context);
    auto r = cluster_.Call(region, method, "/register/note", body, headers);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return {0, Json()};
    return {r->status, Json::parse(r->body, nullptr, /*allow_exceptions=*/false)};
  }
  int Put(size_t region, const std::string& value, const std::string& context = "") {
    return Send(region, "PUT", Json{{"value", value}}.dump(), context).first;
  }
  Json Read(size_t region) {
    auto [status, body] = Send(region, "GET", "");
    EXPECT_EQ(status, 200);
    return body;
  }
  static Values ValuesOf(const Json& read) {
    Values out;
    if (!read["values"].is_array()) return out;
    for (const Json& v : read["values"])
      out.insert(v.get<std::string>());
    return out;
  }
  // Every region shows exactly `want` (bounded wait).
  bool EverywhereShows(const Values& want) {
    return Eventually(
        [&] {
          for (size_t r = 0; r < cluster_.regions().size(); ++r) {
            if (ValuesOf(Read(r)) != want) return false;
          }
          return true;
        },
        seconds(20));
  }
  ClusterHarness cluster_;
};

TEST_F(RegisterContextTest, AWriteWithAContextResolvesExactlyWhatItsReadShowed) {
  // A client in eu reads "zero"; meanwhile us overwrites it; the eu client's write, made with
  // the context of its read, did not see us's: two siblings, in every region.
  ASSERT_EQ(Put(kUs, "zero"), 200);
  ASSERT_TRUE(EverywhereShows({"zero"}));
  const Json empty = Read(kEu);  // an old read: it saw only "zero"
  ASSERT_TRUE(empty["context"].is_string()) << empty.dump();
  ASSERT_EQ(Put(kUs, "from-us"), 200);
  ASSERT_TRUE(Eventually([&] { return ValuesOf(Read(kEu)) == Values{"from-us"}; }, seconds(20)));
  ASSERT_EQ(Put(kEu, "from-eu", empty["context"]), 200);
  ASSERT_TRUE(EverywhereShows({"from-us", "from-eu"}));

  // ap reads both siblings and their context.
  const Json both = Read(kAp);
  EXPECT_EQ(both["values"].size(), 2u);
  EXPECT_EQ(both["value"], both["values"]);  // the older field stays
  // A write us makes after that read (with a context that saw nothing) is one ap's read missed.
  ASSERT_EQ(Put(kUs, "late", empty["context"]), 200);
  ASSERT_TRUE(EverywhereShows({"from-us", "from-eu", "late"}));
  // ap resolves what it saw: "late" survives as a sibling of the resolution.
  ASSERT_EQ(Put(kAp, "resolved", both["context"]), 200);
  ASSERT_TRUE(EverywhereShows({"late", "resolved"}));

  // A read that showed both, and a write with its context: one value everywhere.
  const Json last = Read(kEu);
  ASSERT_EQ(Put(kEu, "final", last["context"]), 200);
  ASSERT_TRUE(EverywhereShows({"final"}));
  for (size_t r = 0; r < cluster_.regions().size(); ++r)
    EXPECT_EQ(Read(r)["values"], Json::array({"final"})) << r;
}

TEST_F(RegisterContextTest, ADeleteWithAContextRemovesOnlyWhatItsReadShowed) {
  ASSERT_EQ(Put(kUs, "first"), 200);
  const Json old = Read(kUs);  // saw only "first"
  ASSERT_EQ(Put(kUs, "seen"), 200);
  const Json read = Read(kUs);
  ASSERT_EQ(Put(kUs, "unseen", old["context"]), 200);  // after the read; "seen" survives it
  ASSERT_TRUE(EverywhereShows({"seen", "unseen"}));
  auto [status, reply] = Send(kEu, "DELETE", "", read["context"]);
  ASSERT_EQ(status, 200) << reply.dump();
  ASSERT_TRUE(EverywhereShows({"unseen"}));
}

TEST_F(RegisterContextTest, BadContextsAre400AndChangeNothing) {
  ASSERT_EQ(Put(kUs, "v"), 200);
  ASSERT_TRUE(EverywhereShows({"v"}));
  const Json before = Read(kUs);
  VersionVector outside;  // three regions: index 5 is not one of them
  outside.Set(5, 1);
  for (const std::string& context :
       {std::string("!!!"), std::string("AAAA="), EncodeSessionToken(outside)}) {
    auto [status, error] = Send(kUs, "PUT", R"({"value":"bad"})", context);
    EXPECT_EQ(status, 400) << context << " -> " << error.dump();
    EXPECT_NE(error["error"]["message"].get<std::string>().find("X-Context"), std::string::npos);
    EXPECT_EQ(Send(kUs, "DELETE", "", context).first, 400) << context;
  }
  // A context naming a write the cluster never made: the write waits for it (the session
  // wait), then is refused, naming what is missing; nothing was written.
  VersionVector ahead;
  ahead.Set(kEu, 99);
  auto [status, error] = Send(kUs, "PUT", R"({"value":"ahead"})", EncodeSessionToken(ahead));
  EXPECT_EQ(status, 504) << error.dump();
  EXPECT_NE(error["error"]["message"].get<std::string>().find("region 1's writes 1..99"),
            std::string::npos)
      << error.dump();
  EXPECT_EQ(Read(kUs), before);  // the same values, context and version vector
}

}  // namespace
}  // namespace meridian::testing
