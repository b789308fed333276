#include "auth/grant.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

namespace meridian::auth {
namespace {

Grant Make(std::string data_class, bool read, bool write, std::string prefix = "") {
  Grant g;
  g.data_class = std::move(data_class);
  g.read = read;
  g.write = write;
  g.key_prefix = std::move(prefix);
  return g;
}

Grant G(std::string_view text) {
  auto grant = ParseGrant(text);
  EXPECT_TRUE(grant.ok()) << grant.status().ToString();
  return grant.ok() ? *grant : Grant{};
}

TEST(GrantTest, ParsesEachForm) {
  EXPECT_TRUE(G("admin").admin);
  EXPECT_EQ(G("*:rw"), Make("*", true, true));
  EXPECT_EQ(G("profile:r:user/"), Make("profile", true, false, "user/"));
  // A prefix may hold ':' (keys like "user:1").
  EXPECT_EQ(G("counter:w:a:b").key_prefix, "a:b");
}

TEST(GrantTest, RefusesMalformedGrantsNamingTheProblem) {
  for (const char* bad : {"", "profile", "nope:r", "profile:x", "profile:", "*:rw:a b",
                          "profile:r:\x01", "admin:rw"}) {
    auto grant = ParseGrant(bad);
    EXPECT_FALSE(grant.ok()) << bad;
  }
  EXPECT_NE(ParseGrant("nope:r").status().message().find("nope"), std::string::npos);
}

TEST(GrantTest, ChecksClassOperationAndPrefix) {
  const std::vector<Grant> grants = {G("profile:r:user/"), G("counter:rw")};
  EXPECT_TRUE(Allows(grants, {"profile", Op::kRead, "user/1"}));
  EXPECT_FALSE(Allows(grants, {"profile", Op::kWrite, "user/1"}));
  EXPECT_FALSE(Allows(grants, {"profile", Op::kRead, "admin/1"}));
  EXPECT_FALSE(Allows(grants, {"tags", Op::kRead, "user/1"}));
  EXPECT_TRUE(Allows(grants, {"counter", Op::kWrite, "anything"}));
  // Every key of a class needs a grant without a prefix.
  EXPECT_FALSE(Allows(grants, {"profile", Op::kRead, "", true}));
  EXPECT_TRUE(Allows({G("*:r")}, {"*", Op::kRead, "", true}));
  EXPECT_FALSE(Allows({G("profile:r")}, {"*", Op::kRead, "", true}));
}

TEST(GrantTest, AdminIsNotDataAccess) {
  EXPECT_FALSE(Allows({G("admin")}, {"profile", Op::kRead, "k"}));
  EXPECT_TRUE(HasAdmin({G("profile:r"), G("admin")}));
  EXPECT_FALSE(HasAdmin({G("*:rw")}));
}

TEST(GrantTest, DescribesTheMissingPermission) {
  EXPECT_EQ(DescribeAccess({"profile", Op::kWrite, "alice"}), "write on profile key \"alice\"");
  EXPECT_EQ(DescribeAccess({"*", Op::kRead, "", true}), "read on every class, every key");
}

rc::Gen<Grant> ArbitraryGrant() {
  return rc::gen::build<Grant>(
      rc::gen::set(&Grant::data_class, rc::gen::element<std::string>("profile", "counter", "tags",
                                                                     "register", "handle", "*")),
      rc::gen::set(&Grant::read, rc::gen::arbitrary<bool>()),
      rc::gen::set(&Grant::write, rc::gen::arbitrary<bool>()),
      rc::gen::set(&Grant::key_prefix,
                   rc::gen::container<std::string>(rc::gen::element('a', 'b', '/', ':'))));
}

RC_GTEST_PROP(GrantProperty, FormatThenParseIsIdentity, ()) {
  Grant grant = *ArbitraryGrant();
  RC_PRE(grant.read || grant.write);
  auto parsed = ParseGrant(FormatGrant(grant));
  RC_ASSERT(parsed.ok());
  RC_ASSERT(*parsed == grant);
}

RC_GTEST_PROP(GrantProperty, AddingAGrantNeverRemovesAPermission, ()) {
  const auto grants = *rc::gen::container<std::vector<Grant>>(ArbitraryGrant());
  const Grant extra = *ArbitraryGrant();
  const std::string key = *rc::gen::container<std::string>(rc::gen::element('a', 'b', '/', ':'));
  const std::string cls =
      *rc::gen::element<std::string>("profile", "counter", "tags", "register", "handle");
  const Access access{cls, *rc::gen::element(Op::kRead, Op::kWrite), key};
  auto more = grants;
  more.push_back(extra);
  if (Allows(grants, access)) RC_ASSERT(Allows(more, access));
  // And a grant that matches class, operation and a prefix of the key always allows.
  const Grant exact =
      Make(cls, access.op == Op::kRead, access.op == Op::kWrite, key.substr(0, key.size() / 2));
  more.push_back(exact);
  RC_ASSERT(Allows(more, access));
}

}  // namespace
}  // namespace meridian::auth
