#include "auth/key_store.h"

#include <gtest/gtest.h>

namespace meridian::auth {
namespace {

KeyEntry Entry(std::string name, std::string_view key, std::vector<std::string> grants) {
  KeyEntry e{std::move(name), HashApiKey(key), {}};
  for (const auto& g : grants)
    e.grants.push_back(*ParseGrant(g));
  return e;
}

TEST(KeyStoreTest, GeneratedKeysAreDistinctAndWellFormed) {
  const std::string a = GenerateApiKey();
  const std::string b = GenerateApiKey();
  EXPECT_NE(a, b);
  EXPECT_TRUE(a.starts_with("mk_"));
  EXPECT_EQ(a.size(), 3u + 64u);
}

TEST(KeyStoreTest, AuthenticatesOnlyTheKeyWhoseHashItHolds) {
  KeyStore store;
  const std::string client = GenerateApiKey();
  const std::string admin = GenerateApiKey();
  ASSERT_TRUE(store.Add(Entry("client", client, {"*:rw"})).ok());
  ASSERT_TRUE(store.Add(Entry("admin", admin, {"admin"})).ok());
  ASSERT_NE(store.Authenticate(client), nullptr);
  EXPECT_EQ(store.Authenticate(client)->name, "client");
  EXPECT_EQ(store.Authenticate(admin)->name, "admin");
  EXPECT_EQ(store.Authenticate(""), nullptr);
  EXPECT_EQ(store.Authenticate(client.substr(0, client.size() - 1)), nullptr);
  EXPECT_EQ(store.Authenticate(std::string(kPresentedKeyBytesMax + 1, 'a')), nullptr);
  // The file holds no plain key.
  EXPECT_EQ(store.Format().find(client), std::string::npos);
  EXPECT_EQ(store.Format().find(client.substr(3)), std::string::npos);
}

TEST(KeyStoreTest, FormatThenParseIsIdentity) {
  KeyStore store;
  ASSERT_TRUE(store.Add(Entry("a", "k1", {"profile:r:user/", "counter:rw"})).ok());
  ASSERT_TRUE(store.Add(Entry("b.2", "k2", {"admin", "*:r"})).ok());
  auto parsed = KeyStore::Parse(store.Format(), "keys");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(*parsed, store);
}

TEST(KeyStoreTest, RefusesDuplicatesAndBadLinesNamingTheLine) {
  KeyStore store;
  ASSERT_TRUE(store.Add(Entry("a", "k1", {"*:rw"})).ok());
  EXPECT_EQ(store.Add(Entry("a", "k2", {"*:rw"})).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store.Add(Entry("b", "k1", {"*:rw"})).code(), StatusCode::kAlreadyExists);
  EXPECT_FALSE(store.Add(Entry("bad name", "k3", {"*:rw"})).ok());
  EXPECT_FALSE(store.Add(Entry("c", "k3", {})).ok());

  const std::string hash = HashToHex(HashApiKey("x"));
  auto short_hash = KeyStore::Parse("# c\n\nname abcd *:rw\n", "f");
  ASSERT_FALSE(short_hash.ok());
  EXPECT_NE(short_hash.status().message().find("f:3"), std::string::npos);
  EXPECT_FALSE(KeyStore::Parse("name " + hash + "\n", "f").ok());
  EXPECT_FALSE(KeyStore::Parse("name " + hash + " nope:r\n", "f").ok());
  EXPECT_TRUE(KeyStore::Parse("name " + hash + " *:rw  # trailing\r\n", "f").ok());
}

TEST(KeyStoreTest, BearerTokenTakesTheCredential) {
  EXPECT_EQ(BearerToken("Bearer mk_abc"), "mk_abc");
  EXPECT_EQ(BearerToken("bearer  mk_abc "), "mk_abc");
  EXPECT_EQ(BearerToken("Basic dXNlcjpwYXNz"), "");
  EXPECT_EQ(BearerToken(""), "");
  EXPECT_EQ(BearerToken("Bearer "), "");
}

}  // namespace
}  // namespace meridian::auth
