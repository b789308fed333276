#include "lab/erasure_plan.h"

#include <gtest/gtest.h>

#include <set>

namespace meridian {
namespace {

const std::vector<std::string> kRegions = {"us", "eu", "ap", "eu2"};
const std::vector<std::string> kAllowed = {"eu", "eu2"};

ErasureSubject Subject(bool pinned) {
  return ErasureSubject{"lab-erased-1", pinned ? "gdpr:user:lab-erased-1:" : "",
                        "user:lab-erased-1:", "erased-1-secret"};
}

TEST(ErasurePlanTest, EveryClassUnderBothPrefixesThroughTheRouterAndDirectly) {
  const auto plan = PlanSubjectWrites(Subject(true), kRegions, kAllowed);
  ASSERT_EQ(plan.size(), 4 * 2 * kErasureWritesPerClass);
  std::set<std::pair<ResidencyClass, bool>> classes;
  size_t direct = 0, routed = 0;
  std::set<std::string> clients;
  for (const PlannedWrite& planned : plan) {
    const ResidencyWrite& w = planned.write;
    classes.insert({w.kind, w.pinned});
    EXPECT_TRUE(w.key.starts_with(w.pinned ? "gdpr:user:lab-erased-1:" : "user:lab-erased-1:"))
        << w.key;
    clients.insert(w.client);
    if (planned.direct_to.empty()) {
      ++routed;
    } else {
      ++direct;
      // A region outside the rule's set would refuse a pinned key (421).
      if (w.pinned) {
        EXPECT_TRUE(planned.direct_to == "eu" || planned.direct_to == "eu2");
      }
    }
    EXPECT_EQ(w.value.empty(), w.kind == ResidencyClass::kCounter) << w.key;
  }
  EXPECT_EQ(classes.size(), 8u);
  EXPECT_EQ(direct, routed);
  EXPECT_EQ(clients.size(), kRegions.size());
}

TEST(ErasurePlanTest, ValuesAreDistinctAndNoneIsAPrefixOfAnother) {
  std::vector<ResidencyWrite> writes;
  for (PlannedWrite& planned : PlanSubjectWrites(Subject(true), kRegions, kAllowed))
    writes.push_back(planned.write);
  const std::vector<std::string> values = WrittenValues(writes);
  EXPECT_EQ(values.size(), 3 * 2 * kErasureWritesPerClass);  // counters carry no value
  for (const std::string& a : values) {
    EXPECT_TRUE(a.starts_with("erased-1-secret-")) << a;
    for (const std::string& b : values) {
      if (&a != &b) {
        EXPECT_FALSE(b.starts_with(a)) << a << " / " << b;
      }
    }
  }
  // One entry per key: a register key per two writes, one profile, counter and set per prefix.
  EXPECT_EQ(DistinctKeys(writes).size(), 2 * (kErasureWritesPerClass / 2 + 3));
}

TEST(ErasurePlanTest, WithoutAPinnedPrefixOnlyUnpinnedWrites) {
  const auto plan = PlanSubjectWrites(Subject(false), kRegions, kAllowed);
  ASSERT_EQ(plan.size(), 4 * kErasureWritesPerClass);
  for (const PlannedWrite& planned : plan)
    EXPECT_FALSE(planned.write.pinned);
}

TEST(ErasurePlanTest, TheSameInputsGiveTheSameWrites) {
  const auto a = PlanSubjectWrites(Subject(true), kRegions, kAllowed);
  const auto b = PlanSubjectWrites(Subject(true), kRegions, kAllowed);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].write.key, b[i].write.key);
    EXPECT_EQ(a[i].write.value, b[i].write.value);
    EXPECT_EQ(a[i].direct_to, b[i].direct_to);
  }
}

}  // namespace
}  // namespace meridian
