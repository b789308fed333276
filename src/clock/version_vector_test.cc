#include "clock/version_vector.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "clock/clock_codec.h"

namespace meridian {
namespace {

VersionVector Make(std::initializer_list<uint64_t> values) {
  VersionVector vv;
  RegionId r = 0;
  for (uint64_t v : values)
    vv.Set(r++, v);
  return vv;
}

VersionVector FromGen(const std::vector<uint8_t>& raw) {
  VersionVector vv;
  for (size_t i = 0; i < raw.size() && i < kMaxRegions; ++i)
    vv.Set(i, raw[i] % 5);
  return vv;
}

TEST(VersionVectorTest, Compare) {
  EXPECT_EQ(Make({1, 2}).Compare(Make({1, 2})), CausalOrder::kEqual);
  EXPECT_EQ(Make({1, 2}).Compare(Make({1, 3})), CausalOrder::kBefore);
  EXPECT_EQ(Make({2, 3}).Compare(Make({1, 3})), CausalOrder::kAfter);
  EXPECT_EQ(Make({2, 1}).Compare(Make({1, 3})), CausalOrder::kConcurrent);
}

TEST(VersionVectorTest, AdvanceRequiresNoHoles) {
  VersionVector vv;
  vv.Advance({1, 1});
  vv.Advance({1, 2});
  EXPECT_TRUE(vv.Covers({1, 2}));
  EXPECT_FALSE(vv.Covers({1, 3}));
  EXPECT_DEATH(vv.Advance({1, 4}), "MERIDIAN_ASSERT");
}

RC_GTEST_PROP(VersionVectorProp, MergeIsLeastUpperBound,
              (const std::vector<uint8_t>& x, const std::vector<uint8_t>& y)) {
  VersionVector a = FromGen(x), b = FromGen(y);
  VersionVector m = a;
  m.Merge(b);
  RC_ASSERT(m.Dominates(a));
  RC_ASSERT(m.Dominates(b));
  VersionVector m2 = b;
  m2.Merge(a);
  RC_ASSERT(m == m2);  // commutative
  VersionVector lo = VersionVector::Min(a, b);
  RC_ASSERT(a.Dominates(lo) && b.Dominates(lo));
}

RC_GTEST_PROP(VersionVectorProp, CompareIsAntisymmetric,
              (const std::vector<uint8_t>& x, const std::vector<uint8_t>& y)) {
  VersionVector a = FromGen(x), b = FromGen(y);
  CausalOrder ab = a.Compare(b), ba = b.Compare(a);
  if (ab == CausalOrder::kBefore) RC_ASSERT(ba == CausalOrder::kAfter);
  if (ab == CausalOrder::kAfter) RC_ASSERT(ba == CausalOrder::kBefore);
  if (ab == CausalOrder::kEqual) RC_ASSERT(ba == CausalOrder::kEqual && a == b);
  if (ab == CausalOrder::kConcurrent) RC_ASSERT(ba == CausalOrder::kConcurrent);
}

RC_GTEST_PROP(VersionVectorProp, CodecRoundTrips, (const std::vector<uint8_t>& x)) {
  VersionVector a = FromGen(x);
  pb::VersionVector encoded;
  Encode(a, &encoded);
  auto decoded = Decode(encoded);
  RC_ASSERT(decoded.ok());
  RC_ASSERT(*decoded == a);
}

TEST(VersionVectorCodecTest, RejectsMalformed) {
  pb::VersionVector bad;
  bad.add_regions(kMaxRegions);
  bad.add_values(1);
  EXPECT_FALSE(Decode(bad).ok());
  pb::VersionVector unsorted;
  unsorted.add_regions(2);
  unsorted.add_values(1);
  unsorted.add_regions(1);
  unsorted.add_values(1);
  EXPECT_FALSE(Decode(unsorted).ok());
  pb::VersionVector ragged;
  ragged.add_regions(1);
  EXPECT_FALSE(Decode(ragged).ok());
}

}  // namespace
}  // namespace meridian
