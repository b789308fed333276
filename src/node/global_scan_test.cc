// Global scans (RegionNode contract 8) on three regions us, eu, eu2 with "gdpr:" pinned to eu and
// eu2, with replication switched off in the network so that each region holds its own writes:
// the merged pages, their cursors, deletes seen by one region, unreachable and silent regions,
// and pinned keys.
#include <gtest/gtest.h>

#include "node/node_test_trio.h"

namespace meridian {
namespace {

WriteCommand Set(const std::string& key, const std::string& value) {
  return WriteCommand{ClientWrite{{DataClass::kRegister, key}, "", value}};
}

WriteCommand Incr(const std::string& key, int64_t by) {
  return WriteCommand{ClientWrite{{DataClass::kCounter, key}, "", by}};
}

ScanCommand Global(DataClass data_class, std::string prefix = "", size_t limit = 100,
                   std::optional<StateKey> after = std::nullopt) {
  return ScanCommand{data_class, std::move(prefix), std::move(after), limit, ScanScope::kGlobal};
}

const ScanResult& PageOf(const NodeReply& reply) {
  static const ScanResult kNone;
  const auto* page = std::get_if<ScanResult>(&reply.result);
  EXPECT_NE(page, nullptr) << std::get<Status>(reply.result).ToString();
  return page == nullptr ? kNone : *page;
}

std::vector<std::string> Keys(const ScanResult& page) {
  std::vector<std::string> keys;
  for (const auto& [key, state] : page.entries)
    keys.push_back(key.key);
  return keys;
}

void ExpectWritten(const NodeReply& reply) {
  EXPECT_NE(std::get_if<WriteReply>(&reply.result), nullptr)
      << std::get<Status>(reply.result).ToString();
}

// Replication off: only the scans' own messages (and handles, keyrings) cross the network.
bool Replication(const pb::PeerMessage& m) {
  return m.has_ops() || m.has_repair() || m.has_snapshot() || m.has_summary_request() ||
         m.has_summary_reply() || m.has_ack();
}

TEST(GlobalScanTest, MergesEveryRegionsPageInKeyOrderWithStableCursors) {
  Trio t;
  t.Settle();
  ExpectWritten(t.Command(kUs, Set("z", "seen everywhere")));
  t.Settle();  // z reaches every region before replication stops
  t.drop_ = Replication;
  ExpectWritten(t.Command(kUs, Set("a1", "us")));
  ExpectWritten(t.Command(kEu, Set("a2", "eu")));
  ExpectWritten(t.Command(kEu2, Set("a3", "eu2")));
  ExpectWritten(t.Command(kUs, Set("a4", "us")));
  ExpectWritten(t.Command(kUs, Incr("c", 2)));
  ExpectWritten(t.Command(kEu, Incr("c", 3)));
  ExpectWritten(
      t.Command(kEu, WriteCommand{ClientWrite{{DataClass::kRegister, "z"}, "", KeyDelete{}}}));

  // Locally us shows its own keys, and z, whose delete it has not seen.
  ScanCommand local = Global(DataClass::kRegister);
  local.scope = ScanScope::kLocal;
  EXPECT_EQ(Keys(PageOf(t.Command(kUs, local))), (std::vector<std::string>{"a1", "a4", "z"}));

  // Globally: every region's keys in order, two per page, the cursor carried between pages; z
  // is hidden by eu's delete.
  const ScanResult first = PageOf(t.Command(kUs, Global(DataClass::kRegister, "", 2)));
  EXPECT_EQ(first.scope, ScanScope::kGlobal);
  EXPECT_TRUE(first.missing_regions.empty());
  EXPECT_EQ(Keys(first), (std::vector<std::string>{"a1", "a2"}));
  ASSERT_TRUE(first.next.has_value());
  const ScanResult second = PageOf(t.Command(kUs, Global(DataClass::kRegister, "", 2, first.next)));
  EXPECT_EQ(Keys(second), (std::vector<std::string>{"a3", "a4"}));
  if (second.next) {
    EXPECT_TRUE(
        Keys(PageOf(t.Command(kUs, Global(DataClass::kRegister, "", 2, second.next)))).empty());
  }
  // A counter's increments in two regions add up.
  const ScanResult counters = PageOf(t.Command(kEu2, Global(DataClass::kCounter)));
  ASSERT_EQ(counters.entries.size(), 1u);
  EXPECT_EQ(std::get<PnCounter>(counters.entries[0].second).Value().value(), 5);
  EXPECT_EQ(t.nodes_[kUs]->stats().global_scans, 0u);
}

TEST(GlobalScanTest, NamesTheRegionsWhosePageIsMissing) {
  Trio t;
  t.Settle();
  t.drop_ = Replication;
  ExpectWritten(t.Command(kUs, Set("a1", "us")));
  ExpectWritten(t.Command(kEu2, Set("a3", "eu2")));
  // Unreachable: answered at once without it.
  t.Cut(kEu2);
  const ScanResult cut = PageOf(t.Command(kUs, Global(DataClass::kRegister)));
  EXPECT_EQ(cut.missing_regions, std::vector<std::string>{"eu2"});
  EXPECT_EQ(Keys(cut), std::vector<std::string>{"a1"});
  t.Heal(kEu2);
  t.Settle();
  // Reachable but silent (its answers lost): answered after quorum_timeout_ms, naming both.
  t.drop_ = [](const pb::PeerMessage& m) { return Replication(m) || m.has_scan_reply(); };
  const uint64_t asked_ms = t.now_ms_;
  const ScanResult silent = PageOf(t.Command(kUs, Global(DataClass::kRegister)));
  EXPECT_GE(t.now_ms_ - asked_ms, 2000u);
  EXPECT_EQ(silent.missing_regions, (std::vector<std::string>{"eu", "eu2"}));
  EXPECT_EQ(Keys(silent), std::vector<std::string>{"a1"});
  EXPECT_EQ(t.nodes_[kUs]->stats().global_scans, 0u);
}

TEST(GlobalScanTest, PinnedKeysComeOnlyFromTheirRegionsAndOnlyToThem) {
  Trio t;
  t.Settle();
  t.drop_ = Replication;
  ExpectWritten(t.Command(kEu2, Set("gdpr:x", "eu2 only")));
  ExpectWritten(t.Command(kUs, Set("gdpr", "not pinned")));
  // eu merges eu2's page of the pinned group: gdpr:x is there.
  EXPECT_EQ(Keys(PageOf(t.Command(kEu, Global(DataClass::kRegister, "gdpr")))),
            (std::vector<std::string>{"gdpr", "gdpr:x"}));
  // us is outside the set: it neither asks for nor receives the pinned group's pages.
  const ScanResult at_us = PageOf(t.Command(kUs, Global(DataClass::kRegister, "gdpr")));
  EXPECT_EQ(Keys(at_us), std::vector<std::string>{"gdpr"});
  EXPECT_TRUE(at_us.missing_regions.empty());
  t.Settle();
  EXPECT_EQ(t.seen_by_us_.find("gdpr:"), std::string::npos);
}

}  // namespace
}  // namespace meridian
