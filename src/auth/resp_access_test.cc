#include "auth/resp_access.h"

#include <gtest/gtest.h>

#include <initializer_list>

namespace meridian::auth {
namespace {

std::vector<Grant> Grants(std::initializer_list<const char*> texts) {
  std::vector<Grant> out;
  for (const char* t : texts)
    out.push_back(*ParseGrant(t));
  return out;
}

std::string Missing(const std::vector<Grant>& grants, std::vector<std::string_view> args) {
  return MissingRespPermission(grants, args, "handle:");
}

TEST(RespAccessTest, DataCommandsNeedTheirClassOperationAndKey) {
  const auto reader = Grants({"*:r"});
  EXPECT_EQ(Missing(reader, {"get", "k"}), "");
  EXPECT_EQ(Missing(reader, {"HGETALL", "k"}), "");
  EXPECT_EQ(Missing(reader, {"SET", "k", "v"}), "write on register key \"k\"");
  EXPECT_EQ(Missing(reader, {"INCR", "c"}), "write on counter key \"c\"");
  EXPECT_EQ(Missing(reader, {"DEL", "k"}), "write on every class key \"k\"");

  const auto hashes = Grants({"profile:rw:user/"});
  EXPECT_EQ(Missing(hashes, {"HSET", "user/1", "f", "v"}), "");
  EXPECT_EQ(Missing(hashes, {"HSET", "other", "f", "v"}), "write on profile key \"other\"");
  EXPECT_EQ(Missing(hashes, {"GET", "user/1"}), "read on register key \"user/1\"");
  // MSET checks every key it writes, not only the first.
  EXPECT_EQ(Missing(Grants({"register:w:a"}), {"MSET", "a1", "v", "b1", "v"}),
            "write on register key \"b1\"");
}

TEST(RespAccessTest, HandlesAreTheirOwnClass) {
  EXPECT_EQ(Missing(Grants({"handle:rw"}), {"SET", "handle:h", "me", "NX"}), "");
  EXPECT_EQ(Missing(Grants({"register:rw"}), {"SET", "handle:h", "me", "NX"}),
            "write on handle key \"handle:h\"");
}

TEST(RespAccessTest, IdemWrapsAndUnknownCommandsAreDenied) {
  EXPECT_EQ(Missing(Grants({"counter:w"}), {"MERIDIAN.IDEM", "i1", "INCR", "c"}), "");
  EXPECT_EQ(Missing(Grants({"counter:r"}), {"MERIDIAN.IDEM", "i1", "INCR", "c"}),
            "write on counter key \"c\"");
  EXPECT_NE(Missing(Grants({"*:r"}), {"FLUSHALL"}), "");
  EXPECT_EQ(Missing(Grants({"*:rw"}), {"FLUSHALL"}), "");  // the region answers "unknown"
  EXPECT_EQ(Missing(Grants({"admin"}), {"PING"}), "");
  EXPECT_NE(Missing(Grants({"profile:r"}), {"DBSIZE"}), "");
  // The router's session wrapper needs what the command it wraps needs; WAITFOR, nothing.
  EXPECT_EQ(Missing(Grants({"counter:r"}),
                    {"MERIDIAN.SESSIONED", "-", "MERIDIAN.IDEM", "i1", "INCR", "c"}),
            "write on counter key \"c\"");
  EXPECT_EQ(Missing(Grants({"tags:r"}), {"MERIDIAN.SESSIONED", "tok", "SCARD", "s"}), "");
  EXPECT_EQ(Missing(Grants({"tags:r"}), {"MERIDIAN.WAITFOR", "0.1", "1", "0"}), "");
}

TEST(RespAccessTest, OnlyConnectionSetupBeforeAuth) {
  for (const char* ok : {"AUTH", "hello", "PING", "quit"})
    EXPECT_TRUE(AllowedBeforeAuth(ok)) << ok;
  for (const char* no : {"GET", "SET", "CLIENT", "MERIDIAN.IDEM", "ECHO"})
    EXPECT_FALSE(AllowedBeforeAuth(no)) << no;
}

}  // namespace
}  // namespace meridian::auth
