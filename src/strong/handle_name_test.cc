#include "strong/handle_name.h"

#include <gtest/gtest.h>

#include <vector>

namespace meridian {
namespace {

TEST(HandleNameTest, CaseFoldsToCanonical) {
  auto name = CanonicalHandleName("Alice.B-2_x");
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(*name, "alice.b-2_x");
  EXPECT_EQ(*CanonicalHandleName(std::string(64, 'Z')), std::string(64, 'z'));
}

TEST(HandleNameTest, RefusesNamesOutsideTheAlphabet) {
  for (const std::string& bad :
       std::vector<std::string>{"", "a b", "a/b", "a%20", "caf\xc3\xa9", "a:b",
                                std::string(65, 'a'), std::string("a\0b", 3), "a+b", "\xff"}) {
    auto name = CanonicalHandleName(bad);
    EXPECT_FALSE(name.ok()) << bad;
    EXPECT_EQ(name.status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(HandleNameTest, ValidatesOwners) {
  EXPECT_TRUE(ValidateHandleOwner("user-123").ok());
  EXPECT_FALSE(ValidateHandleOwner("").ok());
  EXPECT_FALSE(ValidateHandleOwner(std::string(257, 'o')).ok());
  EXPECT_FALSE(ValidateHandleOwner(std::string("a\0", 2)).ok());
}

}  // namespace
}  // namespace meridian
