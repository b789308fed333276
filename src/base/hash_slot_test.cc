#include "base/hash_slot.h"

#include <gtest/gtest.h>

namespace meridian {
namespace {

TEST(HashSlotTest, MatchesRedisCluster) {
  // Values from Redis' CLUSTER KEYSLOT.
  EXPECT_EQ(KeyHashSlot("foo"), 12182u);
  EXPECT_EQ(KeyHashSlot("bar"), 5061u);
  EXPECT_EQ(KeyHashSlot("123456789"), 0x31c3u % kHashSlots);
  EXPECT_EQ(KeyHashSlot(""), 0u);
  // A non-empty tag is hashed alone; "{}" and an unclosed "{" hash the whole key.
  EXPECT_EQ(KeyHashSlot("{user1000}.following"), KeyHashSlot("user1000"));
  EXPECT_EQ(KeyHashSlot("{user1000}.followers"), KeyHashSlot("{user1000}.following"));
  EXPECT_EQ(KeyHashSlot("foo{}{bar}"), KeyHashSlot("foo{}{bar}"));
  EXPECT_NE(KeyHashSlot("foo{}{bar}"), KeyHashSlot("bar"));
  EXPECT_EQ(KeyHashSlot("foo{{bar}}zap"), KeyHashSlot("{bar"));
  EXPECT_EQ(KeyHashSlot("foo{bar}{zap}"), KeyHashSlot("bar"));
}

TEST(HashSlotTest, EverySlotHasExactlyOneSliceAndRangesAreContiguous) {
  for (uint32_t count = 1; count <= kMaxSlices; ++count) {
    KeySlices slices{0, count};
    EXPECT_EQ(slices.FirstSlot(0), 0u);
    EXPECT_EQ(slices.FirstSlot(count), kHashSlots);
    for (uint32_t slot = 0; slot < kHashSlots; ++slot) {
      const uint32_t slice = slices.SliceOfSlot(slot);
      ASSERT_LT(slice, count);
      ASSERT_LE(slices.FirstSlot(slice), slot) << count << " " << slot;
      ASSERT_LT(slot, slices.FirstSlot(slice + 1)) << count << " " << slot;
    }
  }
}

TEST(HashSlotTest, OneSliceOwnsEverything) {
  const KeySlices one;
  EXPECT_FALSE(one.sliced());
  EXPECT_TRUE(one.Owns("foo"));
  const KeySlices first{0, 2}, second{1, 2};
  EXPECT_NE(first.Owns("foo"), second.Owns("foo"));  // 12182 is in the upper half
  EXPECT_TRUE(second.Owns("foo"));
  EXPECT_TRUE(first.Owns("bar"));  // 5061
}

}  // namespace
}  // namespace meridian
