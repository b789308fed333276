// Client authentication and the closed admin surface, end to end (issue 13; docs/security.md):
// real regions and a router with auth on, as the harness always runs them.
//  - HTTP: no key or an unknown key -> 401, a key without the grant -> 403 naming the missing
//    permission; neither changes anything (read back with a key that may).
//  - /admin/* is 404 on the client listener whatever the key; on the admin listener it needs the
//    admin role (401 / 403), and a refused skew leaves the clock alone.
//  - RESP on a region and through the router: -NOAUTH before AUTH, -WRONGPASS for a wrong key,
//    -NOPERM for a command the key's grants do not cover, and nothing written.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "resp/testing/resp_test_client.h"
#include "tests/integration/cluster_harness.h"

namespace meridian::testing {
namespace {

using Json = nlohmann::json;
using std::chrono::seconds;
using Headers = std::vector<std::pair<std::string, std::string>>;

constexpr size_t kUs = 0;

Headers Bearer(const std::string& key) {
  return {{"Authorization", "Bearer " + key}};
}

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(cluster_.StartAll().ok()); }

  // What the client key reads of profile `key` in us ("value" of the body), or null.
  Json Profile(const std::string& key) {
    auto r = cluster_.Call(kUs, "GET", "/profile/" + key);
    if (!r.ok() || r->status != 200) return Json();
    return Json::parse(r->body)["value"];
  }

  Result<HttpResponse> ViaRouter(const std::string& method, const std::string& target,
                                 const std::string& body, Headers headers) {
    HttpClientRequest request;
    request.method = method;
    request.target = target;
    request.body = body;
    request.headers = std::move(headers);
    return HttpFetch("127.0.0.1:" + std::to_string(cluster_.router_port()), request, seconds(5));
  }

  RespTestClient Resp(uint16_t port) {
    auto client = RespTestClient::Connect("127.0.0.1:" + std::to_string(port), seconds(10));
    EXPECT_TRUE(client.ok()) << client.status().ToString();
    return client.ok() ? std::move(*client) : RespTestClient();
  }

  ClusterHarness cluster_;
};

TEST_F(AuthTest, HttpWithoutAKeyIs401AndWithoutTheGrantIs403AndNeitherChangesAnything) {
  ASSERT_EQ(cluster_.Call(kUs, "PUT", "/profile/alice", R"({"name":"before"})")->status, 200);

  for (const Headers& headers : {Headers{{"Authorization", ""}}, Bearer("mk_not_a_key"),
                                 Headers{{"Authorization", "Basic eDp5"}}}) {
    auto r = cluster_.Call(kUs, "PUT", "/profile/alice", R"({"name":"intruder"})", headers);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 401) << r->body;
    EXPECT_EQ(Json::parse(r->body)["error"]["code"], "unauthenticated") << r->body;
    bool challenge = false;
    for (const auto& [name, value] : r->headers) {
      challenge = challenge || (name == "WWW-Authenticate" && value.starts_with("Bearer"));
    }
    EXPECT_TRUE(challenge) << "401 without WWW-Authenticate: Bearer";
  }
  // A read needs a key too.
  EXPECT_EQ(cluster_.Call(kUs, "GET", "/profile/alice", "", Bearer("mk_nope"))->status, 401);

  // The reader key (*:r) reads but may not write: 403 naming class, operation and key.
  auto read = cluster_.Call(kUs, "GET", "/profile/alice", "", Bearer(cluster_.reader_key()));
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->status, 200) << read->body;
  auto denied = cluster_.Call(kUs, "PUT", "/profile/alice", R"({"name":"reader"})",
                              Bearer(cluster_.reader_key()));
  ASSERT_TRUE(denied.ok());
  ASSERT_EQ(denied->status, 403) << denied->body;
  const Json missing = Json::parse(denied->body)["error"]["missing"];
  EXPECT_EQ(missing["class"], "profile") << denied->body;
  EXPECT_EQ(missing["op"], "write") << denied->body;
  EXPECT_EQ(missing["key"], "alice") << denied->body;
  auto incr = cluster_.Call(kUs, "POST", "/counter/visits/incr", "", Bearer(cluster_.reader_key()));
  EXPECT_EQ(incr->status, 403) << incr->body;
  auto claim = cluster_.Call(kUs, "PUT", "/handle/lock", R"({"owner":"reader"})",
                             Bearer(cluster_.reader_key()));
  EXPECT_EQ(claim->status, 403) << claim->body;
  // The admin role is not data access.
  EXPECT_EQ(cluster_.Call(kUs, "GET", "/profile/alice", "", Bearer(cluster_.admin_key()))->status,
            403);

  // Nothing changed.
  EXPECT_EQ(Profile("alice"), (Json{{"name", "before"}}));
  auto counter = cluster_.Call(kUs, "GET", "/counter/visits");
  EXPECT_EQ(Json::parse(counter->body)["value"], 0) << counter->body;
  auto handle = cluster_.Call(kUs, "GET", "/handle/lock");
  EXPECT_EQ(handle->status, 404) << handle->body;

  // /healthz and /metrics stay open for probes and scrapers.
  EXPECT_EQ(cluster_.Call(kUs, "GET", "/healthz", "", Headers{{"Authorization", ""}})->status, 200);
  EXPECT_EQ(cluster_.Call(kUs, "GET", "/metrics", "", Headers{{"Authorization", ""}})->status, 200);
}

TEST_F(AuthTest, AdminRoutesAreOnlyOnTheAdminListenerAndOnlyForTheAdminRole) {
  // Not on the client listener, whatever the key.
  for (const std::string& key : {cluster_.client_key(), cluster_.admin_key()}) {
    auto r = cluster_.Call(kUs, "POST", "/admin/skew?ms=5000", "", Bearer(key));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 404) << r->body;
  }
  // On the admin listener: no key 401, a data key 403.
  auto anonymous =
      cluster_.AdminCall(kUs, "POST", "/admin/skew?ms=5000", Headers{{"Authorization", ""}});
  ASSERT_TRUE(anonymous.ok());
  EXPECT_EQ(anonymous->status, 401) << anonymous->body;
  auto client =
      cluster_.AdminCall(kUs, "POST", "/admin/skew?ms=5000", Bearer(cluster_.client_key()));
  ASSERT_TRUE(client.ok());
  EXPECT_EQ(client->status, 403) << client->body;
  EXPECT_NE(client->body.find("admin role"), std::string::npos) << client->body;
  auto backup = cluster_.AdminCall(kUs, "POST", "/admin/backup?to=" + cluster_.dir() + "/b",
                                   Bearer(cluster_.client_key()));
  EXPECT_EQ(backup->status, 403) << backup->body;
  // The clock was not moved; the admin key moves it.
  auto skew = cluster_.AdminCall(kUs, "GET", "/admin/skew");
  ASSERT_TRUE(skew.ok());
  ASSERT_EQ(skew->status, 200) << skew->body;
  EXPECT_EQ(Json::parse(skew->body)["clock_skew_ms"], 0);
  auto moved = cluster_.AdminCall(kUs, "POST", "/admin/skew?ms=250");
  ASSERT_EQ(moved->status, 200) << moved->body;
  EXPECT_EQ(Json::parse(moved->body)["clock_skew_ms"], 250);
}

TEST_F(AuthTest, RespOnARegionNeedsAuthAndTheGrant) {
  RespTestClient c = Resp(cluster_.resp_port(kUs));
  EXPECT_EQ(*c.Call({"PING"}), "+PONG\r\n");
  EXPECT_EQ(*c.Call({"SET", "k", "anonymous"}), "-NOAUTH Authentication required.\r\n");
  EXPECT_TRUE(c.Call({"AUTH", "mk_wrong"})->starts_with("-WRONGPASS")) << *c.Call({"PING"});
  EXPECT_TRUE(c.Call({"AUTH", "default", "mk_wrong"})->starts_with("-WRONGPASS"));
  EXPECT_EQ(*c.Call({"GET", "k"}), "-NOAUTH Authentication required.\r\n");

  EXPECT_EQ(*c.Call({"AUTH", "default", cluster_.reader_key()}), "+OK\r\n");
  const std::string denied = *c.Call({"SET", "k", "reader"});
  EXPECT_TRUE(denied.starts_with("-NOPERM")) << denied;
  EXPECT_NE(denied.find("write on register key \"k\""), std::string::npos) << denied;
  EXPECT_TRUE(c.Call({"INCR", "n"})->starts_with("-NOPERM"));
  EXPECT_EQ(*c.Call({"GET", "k"}), "$-1\r\n");  // read allowed; nothing was written

  // HELLO 3 AUTH with the client key: authenticated and RESP3 in one step.
  RespTestClient w = Resp(cluster_.resp_port(kUs));
  EXPECT_TRUE(w.Call({"HELLO", "3", "AUTH", "default", "mk_wrong"})->starts_with("-WRONGPASS"));
  EXPECT_TRUE(w.Call({"HELLO", "3", "AUTH", "default", cluster_.client_key()})->starts_with("%"));
  EXPECT_EQ(*w.Call({"SET", "k", "client"}), "+OK\r\n");
  EXPECT_EQ(*c.Call({"GET", "k"}), "$6\r\nclient\r\n");
}

TEST_F(AuthTest, ThroughTheRouterOverHttpAndResp) {
  ASSERT_TRUE(cluster_.StartWan().ok());
  ASSERT_TRUE(cluster_.StartRouter("us").ok());

  // HTTP: Authorization passes through to the regions, and so do their 401 / 403.
  auto anonymous = ViaRouter("PUT", "/profile/bob", R"({"v":"x"})", {});
  ASSERT_TRUE(anonymous.ok());
  EXPECT_EQ(anonymous->status, 401) << anonymous->body;
  auto reader = ViaRouter("PUT", "/profile/bob", R"({"v":"x"})", Bearer(cluster_.reader_key()));
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ(reader->status, 403) << reader->body;
  EXPECT_EQ(Profile("bob"), Json::object());
  auto written = ViaRouter("PUT", "/profile/bob", R"({"v":"y"})", Bearer(cluster_.client_key()));
  ASSERT_TRUE(written.ok());
  EXPECT_EQ(written->status, 200) << written->body;
  EXPECT_EQ(ViaRouter("POST", "/admin/skew?ms=1", "", Bearer(cluster_.admin_key()))->status, 404);

  // RESP: the router enforces the client's grants itself before forwarding on its own
  // authenticated connections.
  RespTestClient c = Resp(cluster_.router_resp_port());
  EXPECT_EQ(*c.Call({"INCR", "r"}), "-NOAUTH Authentication required.\r\n");
  EXPECT_TRUE(c.Call({"AUTH", "mk_wrong"})->starts_with("-WRONGPASS"));
  EXPECT_EQ(*c.Call({"AUTH", cluster_.reader_key()}), "+OK\r\n");
  EXPECT_TRUE(c.Call({"INCR", "r"})->starts_with("-NOPERM"));
  EXPECT_EQ(*c.Call({"GET", "r"}), "$-1\r\n");
  EXPECT_EQ(*c.Call({"AUTH", cluster_.client_key()}), "+OK\r\n");
  EXPECT_EQ(*c.Call({"INCR", "r"}), ":1\r\n");
  EXPECT_EQ(*c.Call({"GET", "r"}), "$1\r\n1\r\n");
}

}  // namespace
}  // namespace meridian::testing
