#include "sim/checker_residency.h"

#include <gtest/gtest.h>

#include "replica/storage_keys.h"
#include "sim/sim_options.h"

namespace meridian {
namespace {

// The simulator's default rules over three regions: gdpr: in {0, 1}, gdpr: counters in {1, 2}.
ResidencyChecker MakeChecker() {
  auto residency = Residency::Make(DefaultResidencyRules(3), 3);
  EXPECT_TRUE(residency.ok());
  const std::vector<StateKey> keys = {{DataClass::kProfile, PinnedKey(DataClass::kProfile, 0)},
                                      {DataClass::kCounter, PinnedKey(DataClass::kCounter, 0)}};
  return ResidencyChecker(*residency, 3, keys);
}

pb::PeerMessage OpMessage(RegionMask group, DataClass c, const std::string& key) {
  pb::PeerMessage m;
  m.set_group(group);
  pb::Op* op = m.mutable_ops()->add_ops();
  op->set_data_class(static_cast<uint32_t>(c));
  op->set_key(key);
  return m;
}

void Deliver(ResidencyChecker& checker, RegionId from, RegionId to, const pb::PeerMessage& m) {
  checker.OnDeliver(from, to, m, m.SerializeAsString());
}

TEST(ResidencyCheckerTest, DefaultRulesPinTwoOverlappingGroups) {
  auto residency = Residency::Make(DefaultResidencyRules(3), 3);
  ASSERT_TRUE(residency.ok());
  ASSERT_EQ(residency->groups().size(), 3u);
  EXPECT_EQ(residency->groups()[residency->GroupOf({DataClass::kProfile, "gdpr:profile1"})].mask,
            0b011u);
  // The per-class rule wins for its class.
  EXPECT_EQ(residency->groups()[residency->GroupOf({DataClass::kCounter, "gdpr:counter1"})].mask,
            0b110u);
  EXPECT_EQ(residency->GroupOf({DataClass::kCounter, "k1"}), 0u);
  // Five regions: both groups' slots do not fit in kMaxRegions; the every-class rule stays.
  EXPECT_EQ(DefaultResidencyRules(5).size(), 1u);
  EXPECT_TRUE(DefaultResidencyRules(1).empty());
}

TEST(ResidencyCheckerTest, MembersTrafficPasses) {
  ResidencyChecker checker = MakeChecker();
  const std::string profile = PinnedKey(DataClass::kProfile, 0);
  const std::string counter = PinnedKey(DataClass::kCounter, 0);
  Deliver(checker, 0, 1, OpMessage(0b011, DataClass::kProfile, profile));
  Deliver(checker, 2, 1, OpMessage(0b110, DataClass::kCounter, counter));
  Deliver(checker, 0, 2, OpMessage(0, DataClass::kProfile, "k1"));  // unpinned, every region
  pb::PeerMessage ack;
  ack.set_group(0b110);
  ack.mutable_ack();
  Deliver(checker, 1, 2, ack);
  EXPECT_TRUE(checker.violations().empty()) << checker.violations().front();
  EXPECT_EQ(checker.messages_checked(), 4u);
  EXPECT_EQ(checker.pinned_messages(), 3u);
}

TEST(ResidencyCheckerTest, EveryKindOfLeakIsReported) {
  const std::string profile = PinnedKey(DataClass::kProfile, 0);
  {
    ResidencyChecker checker = MakeChecker();  // a group's ack to a region outside it
    pb::PeerMessage ack;
    ack.set_group(0b011);
    ack.mutable_ack();
    Deliver(checker, 0, 2, ack);
    ASSERT_EQ(checker.violations().size(), 1u);
    EXPECT_NE(checker.violations()[0].find("pinned group {0+1}"), std::string::npos);
  }
  {
    ResidencyChecker checker = MakeChecker();  // a pinned op relayed in every region's group
    Deliver(checker, 0, 1, OpMessage(0, DataClass::kProfile, profile));
    ASSERT_EQ(checker.violations().size(), 1u);
    EXPECT_NE(checker.violations()[0].find("instead of its own"), std::string::npos);
  }
  {
    ResidencyChecker checker = MakeChecker();  // a state-transfer chunk outside the set
    pb::PeerMessage m;
    pb::KeyStateEntry* entry = m.mutable_snapshot()->add_entries();
    entry->set_storage_key(storage_keys::State({DataClass::kProfile, profile}));
    Deliver(checker, 1, 2, m);
    ASSERT_FALSE(checker.violations().empty());
    EXPECT_NE(checker.violations()[0].find("a state-transfer chunk of pinned key"),
              std::string::npos);
  }
  {
    ResidencyChecker checker = MakeChecker();  // a quorum-read request outside the set
    pb::PeerMessage m;
    m.mutable_read_request()->set_data_class(static_cast<uint32_t>(DataClass::kCounter));
    m.mutable_read_request()->set_key(PinnedKey(DataClass::kCounter, 0));
    Deliver(checker, 1, 0, m);
    ASSERT_FALSE(checker.violations().empty());
    EXPECT_NE(checker.violations()[0].find("quorum-read request"), std::string::npos);
  }
  {
    ResidencyChecker checker = MakeChecker();  // the raw bytes: a field the walk does not know
    pb::PeerMessage m;
    m.mutable_strong()->mutable_forward_reply()->set_message("about " + profile);
    Deliver(checker, 0, 2, m);
    ASSERT_EQ(checker.violations().size(), 1u);
    EXPECT_NE(checker.violations()[0].find("contain pinned key " + profile), std::string::npos);
  }
}

TEST(ResidencyCheckerTest, StorageOutsideTheSetIsScanned) {
  ResidencyChecker checker = MakeChecker();
  const std::string profile = PinnedKey(DataClass::kProfile, 0);
  MemoryStorage::Contents fine = {{"g00000003/m:vv", ""}, {"sk1", "x"}};
  checker.CheckStorage(1, fine, "its disk");
  EXPECT_TRUE(checker.violations().empty());
  checker.CheckStorage(2, {{"g00000003/m:vv", ""}}, "its disk");
  checker.CheckStorage(2, {{"o1", "an op of " + profile}}, "its backup");
  ASSERT_EQ(checker.violations().size(), 2u);
  EXPECT_NE(checker.violations()[0].find("record of pinned group {0+1}"), std::string::npos);
  EXPECT_NE(checker.violations()[1].find("holds pinned key " + profile + " in its backup"),
            std::string::npos);
  EXPECT_EQ(checker.records_checked(), 4u);
}

}  // namespace
}  // namespace meridian
