// Residency in the region node (contract 6): three regions us, eu, eu2 and a rule pinning
// "gdpr:" to eu and eu2. Every message us receives and every byte us stores is inspected.
#include <gtest/gtest.h>

#include "node/node_test_trio.h"

namespace meridian {
namespace {

WriteCommand Incr(const std::string& key, int64_t by, WriteLevel level = WriteLevel::kCount) {
  WriteCommand w{ClientWrite{{DataClass::kCounter, key}, "", by}};
  w.level = level;
  return w;
}

ReadCommand Read(const std::string& key, std::optional<VersionVector> session = std::nullopt) {
  return ReadCommand{{DataClass::kCounter, key}, std::move(session), Consistency::kLocal};
}

int64_t CounterAt(const NodeReply& reply) {
  const auto* read = std::get_if<ReadResult>(&reply.result);
  EXPECT_NE(read, nullptr);
  if (read == nullptr || !read->state) return 0;
  auto value = std::get<PnCounter>(*read->state).Value();
  return value.ok() ? *value : -1;
}

// WAIT counts the peers of the write's own group: a pinned write's reply dot is in slot space,
// and only eu2 can hold eu's pinned write; an unpinned one, both other regions.
TEST(ResidencyTest, PeersHoldingCountsTheWritesOwnGroup) {
  Trio t;
  t.Settle();
  const NodeReply pinned = t.Command(kEu, Incr("gdpr:wait", 1));
  const NodeReply plain = t.Command(kEu, Incr("plain-wait", 1));
  const auto* pinned_reply = std::get_if<WriteReply>(&pinned.result);
  const auto* plain_reply = std::get_if<WriteReply>(&plain.result);
  ASSERT_NE(pinned_reply, nullptr);
  ASSERT_NE(plain_reply, nullptr);
  t.Settle();
  EXPECT_EQ(t.nodes_[kEu]->PeersHolding(pinned_reply->dot), 1u);
  EXPECT_EQ(t.nodes_[kEu]->PeersHolding(plain_reply->dot), 2u);
  EXPECT_EQ(t.nodes_[kEu]->PeersHolding(Dot{}), 0u);
}

TEST(ResidencyTest, APinnedKeyStaysInItsRegionsAndIsMisdirectedElsewhere) {
  Trio t;
  t.Settle();
  // eu takes a pinned write at w=majority: both members of {eu, eu2} hold it.
  NodeReply wrote = t.Command(kEu, Incr("gdpr:alice", 5, WriteLevel::kMajority));
  const auto* reply = std::get_if<WriteReply>(&wrote.result);
  ASSERT_NE(reply, nullptr) << std::get<Status>(wrote.result).ToString();
  EXPECT_EQ(reply->replicated_to, 2u);
  // The dot and token are in slot space: eu in the pinned group is slot 3 + 0.
  EXPECT_EQ(reply->dot.origin, 3u);
  const VersionVector token = reply->applied;
  t.Command(kUs, Incr("plain", 2));
  t.Settle();

  // eu2 reads it with the writer's token; us is told where to go and changes nothing.
  EXPECT_EQ(CounterAt(t.Command(kEu2, Read("gdpr:alice", token))), 5);
  const NodeReply refused = t.Command(kUs, Incr("gdpr:alice", 1));
  const auto* status = std::get_if<Status>(&refused.result);
  ASSERT_NE(status, nullptr);
  EXPECT_EQ(status->code(), StatusCode::kMisdirected);
  EXPECT_NE(status->message().find("eu, eu2"), std::string::npos) << status->message();
  EXPECT_EQ(status->message().find("alice"), std::string::npos) << "the key is not echoed";
  const NodeReply read_refused = t.Command(kUs, Read("gdpr:alice"));
  EXPECT_EQ(std::get<Status>(read_refused.result).code(), StatusCode::kMisdirected);
  EXPECT_EQ(t.nodes_[kUs]->stats().misdirected, 2u);

  // Unpinned keys reach every region; nothing of the pinned key ever reached us.
  EXPECT_EQ(CounterAt(t.Command(kEu2, Read("plain"))), 2);
  EXPECT_EQ(t.seen_by_us_.find("gdpr:"), std::string::npos);
  EXPECT_EQ(t.StoredBytes(kUs).find("gdpr:"), std::string::npos);
  EXPECT_NE(t.StoredBytes(kEu2).find("gdpr:alice"), std::string::npos);

  // eu2 restarts from its disk: the pinned group recovers from its own records.
  t.Restart(kEu2);
  t.Settle();
  EXPECT_EQ(CounterAt(t.Command(kEu2, Read("gdpr:alice"))), 5);
  // A scan in eu2 shows both groups' keys, in key order.
  const NodeReply page = t.Command(kEu2, ScanCommand{DataClass::kCounter, "", std::nullopt, 10});
  const auto& entries = std::get<ScanResult>(page.result).entries;
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].first.key, "gdpr:alice");
  EXPECT_EQ(entries[1].first.key, "plain");
}

TEST(ResidencyTest, RulesAreValidated) {
  EXPECT_FALSE(Residency::Make({{"", std::nullopt, {1}}}, 3).ok());
  EXPECT_FALSE(Residency::Make({{"a", std::nullopt, {}}}, 3).ok());
  EXPECT_FALSE(Residency::Make({{"a", std::nullopt, {5}}}, 3).ok());
  EXPECT_FALSE(Residency::Make({{"a", std::nullopt, {0}}, {"a", std::nullopt, {1}}}, 3).ok());
  // Longest prefix wins; a class rule wins over an every-class rule of the same prefix.
  auto r = Residency::Make(
      {{"a", std::nullopt, {0}}, {"ab", std::nullopt, {1}}, {"ab", DataClass::kTags, {2}}}, 3);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->RuleFor({DataClass::kCounter, "abc"})->regions, std::vector<RegionId>{1});
  EXPECT_EQ(r->RuleFor({DataClass::kTags, "abc"})->regions, std::vector<RegionId>{2});
  EXPECT_EQ(r->RuleFor({DataClass::kTags, "b"}), nullptr);
  EXPECT_EQ(r->slot_count(), 6u);
  // Handles: every-class rules and handle rules apply, a handle rule wins over an every-class
  // rule of the same prefix, and a handle rule pins no key.
  auto h = Residency::Make({{"a", std::nullopt, {0}},
                            {"ab", std::nullopt, {1}},
                            {"ab", std::nullopt, {2}, /*handle=*/true},
                            {"x", std::nullopt, {0, 1}, /*handle=*/true}},
                           3);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->RuleForHandle("abc")->regions, std::vector<RegionId>{2});
  EXPECT_EQ(h->RuleForHandle("a1")->regions, std::vector<RegionId>{0});
  EXPECT_EQ(h->RuleForHandle("b"), nullptr);
  EXPECT_EQ(h->GroupOfHandle("b"), 0u);
  EXPECT_EQ(h->groups()[h->GroupOfHandle("xy")].mask, 0b011u);
  EXPECT_EQ(h->RuleFor({DataClass::kCounter, "x"}), nullptr);
  EXPECT_EQ(h->RuleFor({DataClass::kCounter, "abc"})->regions, std::vector<RegionId>{1});
  EXPECT_FALSE(Residency::Make({{"a", DataClass::kTags, {0}, /*handle=*/true}}, 3).ok());
  EXPECT_FALSE(
      Residency::Make({{"a", std::nullopt, {0}, true}, {"a", std::nullopt, {1}, true}}, 3).ok());
}

HandleCommand Handle(HandleOpKind kind, const std::string& name, const std::string& owner = "") {
  return HandleCommand{HandleRequest{kind, name, owner}};
}

HandleOutcome OutcomeOf(const NodeReply& reply) {
  const auto* handle = std::get_if<HandleReply>(&reply.result);
  EXPECT_NE(handle, nullptr) << std::get<Status>(reply.result).ToString();
  return handle == nullptr ? HandleOutcome::kUnavailable : handle->outcome;
}

// A handle pinned to eu and eu2 is decided by both (a majority of two), lives only in their
// records and messages, survives a member's restart, and is misdirected at us; an unpinned
// handle still takes a majority of all three.
TEST(ResidencyTest, APinnedHandleIsDecidedByItsRegionsAlone) {
  Trio t([](RegionNodeOptions& o) {
    o.residency = Residency::Make({{"gdpr:", std::nullopt, {kEu, kEu2}},
                                   {"eu.", std::nullopt, {kEu, kEu2}, /*handle=*/true}},
                                  3)
                      .value();
  });
  t.Settle();
  EXPECT_EQ(OutcomeOf(t.Command(kEu, Handle(HandleOpKind::kClaim, "eu.alice", "ann"))),
            HandleOutcome::kClaimed);
  const NodeReply read = t.Command(kEu2, Handle(HandleOpKind::kRead, "EU.Alice"));
  EXPECT_EQ(OutcomeOf(read), HandleOutcome::kValue);
  EXPECT_EQ(std::get<HandleReply>(read.result).record.owner, "ann");

  const NodeReply refused = t.Command(kUs, Handle(HandleOpKind::kClaim, "eu.alice", "ben"));
  const auto* status = std::get_if<Status>(&refused.result);
  ASSERT_NE(status, nullptr);
  EXPECT_EQ(status->code(), StatusCode::kMisdirected);
  EXPECT_NE(status->message().find("eu, eu2"), std::string::npos) << status->message();
  EXPECT_EQ(status->message().find("alice"), std::string::npos) << "the name is not echoed";
  EXPECT_EQ(t.nodes_[kUs]->stats().misdirected, 1u);
  EXPECT_EQ(t.nodes_[kUs]->group_strong(1), nullptr);
  // An unpinned handle is everyone's: us claims it with a majority of three.
  EXPECT_EQ(OutcomeOf(t.Command(kUs, Handle(HandleOpKind::kClaim, "plain", "cat"))),
            HandleOutcome::kClaimed);
  t.Settle();
  EXPECT_EQ(t.seen_by_us_.find("eu.alice"), std::string::npos);
  EXPECT_EQ(t.StoredBytes(kUs).find("eu.alice"), std::string::npos);
  EXPECT_NE(t.StoredBytes(kEu2).find("eu.alice"), std::string::npos);

  // Without eu2 the pinned handle has no majority (at once, not after a timeout), while the
  // unpinned one still has us and eu.
  t.Cut(kEu2);
  const NodeReply alone = t.Command(kEu, Handle(HandleOpKind::kClaim, "eu.bob", "ann"));
  ASSERT_NE(std::get_if<Status>(&alone.result), nullptr);
  EXPECT_EQ(std::get<Status>(alone.result).code(), StatusCode::kUnavailable);
  EXPECT_NE(std::get<Status>(alone.result).message().find("eu, eu2"), std::string::npos);
  EXPECT_EQ(OutcomeOf(t.Command(kEu, Handle(HandleOpKind::kRelease, "plain", "cat"))),
            HandleOutcome::kReleased);

  // eu2 restarts from its disk and still knows whose the pinned handle is.
  t.Heal(kEu2);
  t.Restart(kEu2);
  t.Settle();
  EXPECT_EQ(OutcomeOf(t.Command(kEu2, Handle(HandleOpKind::kClaim, "eu.alice", "ben"))),
            HandleOutcome::kTaken);
  EXPECT_EQ(t.seen_by_us_.find("eu.alice"), std::string::npos);
}

}  // namespace
}  // namespace meridian
