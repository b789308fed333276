#include "api/http_auth.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace meridian {
namespace {

class HttpAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = auth::GenerateApiKey();
    ASSERT_TRUE(
        keys_.Add({"app", auth::HashApiKey(key_), {*auth::ParseGrant("profile:r:user:")}}).ok());
  }
  HttpRequest Request(std::string authorization) {
    HttpRequest r;
    r.method = "GET";
    r.path = r.target = "/profile/user:1";
    if (!authorization.empty()) r.headers["authorization"] = authorization;
    return r;
  }
  auth::KeyStore keys_;
  std::string key_;
};

TEST_F(HttpAuthTest, MissingOrUnknownKeyIs401WithChallenge) {
  for (const std::string header : {"", "Basic abc", "Bearer mk_nope"}) {
    auto result = AuthenticateHttp(keys_, Request(header));
    ASSERT_TRUE(std::holds_alternative<HttpResponse>(result)) << header;
    const HttpResponse& r = std::get<HttpResponse>(result);
    EXPECT_EQ(r.status, 401);
    ASSERT_EQ(r.headers.size(), 1u);
    EXPECT_EQ(r.headers[0].first, "WWW-Authenticate");
    EXPECT_EQ(nlohmann::json::parse(r.body)["error"]["code"], "unauthenticated");
  }
  EXPECT_NE(std::get<HttpResponse>(AuthenticateHttp(keys_, Request(""))).body.find("missing"),
            std::string::npos);
}

TEST_F(HttpAuthTest, KnownKeyAuthenticates) {
  auto result = AuthenticateHttp(keys_, Request("Bearer " + key_));
  ASSERT_TRUE(std::holds_alternative<const auth::KeyEntry*>(result));
  EXPECT_EQ(std::get<const auth::KeyEntry*>(result)->name, "app");
}

TEST_F(HttpAuthTest, ForbiddenNamesClassOpAndKey) {
  const HttpResponse r = Forbidden(keys_.entries()[0], {"profile", auth::Op::kWrite, "user:1"});
  EXPECT_EQ(r.status, 403);
  const auto body = nlohmann::json::parse(r.body);
  EXPECT_EQ(body["error"]["missing"]["class"], "profile");
  EXPECT_EQ(body["error"]["missing"]["op"], "write");
  EXPECT_EQ(body["error"]["missing"]["key"], "user:1");
}

TEST_F(HttpAuthTest, OnlyHealthAndMetricsAreOpen) {
  HttpRequest r;
  r.method = "GET";
  for (const char* open : {"/healthz", "/metrics"}) {
    r.path = open;
    EXPECT_TRUE(IsOpenRoute(r)) << open;
  }
  for (const char* closed : {"/conflicts", "/profile/a", "/admin/skew", "/handle/x"}) {
    r.path = closed;
    EXPECT_FALSE(IsOpenRoute(r)) << closed;
  }
}

TEST_F(HttpAuthTest, AccessForMapsCommandsToPermissions) {
  auto read = ParseApiRequest(Request(""));
  auto access = AccessFor(read);
  ASSERT_TRUE(access.has_value());
  EXPECT_EQ(access->data_class, "profile");
  EXPECT_EQ(access->op, auth::Op::kRead);
  EXPECT_EQ(access->key, "user:1");
  HttpRequest health;
  health.method = "GET";
  health.path = "/healthz";
  EXPECT_FALSE(AccessFor(ParseApiRequest(health)).has_value());
}

}  // namespace
}  // namespace meridian
