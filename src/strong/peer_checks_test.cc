// One test per rule of peer_checks.h: a peer's handle message breaking it is dropped, counted,
// and changes nothing (no record, no answer); a correct one still gets its answer.
#include "strong/peer_checks.h"

#include <gtest/gtest.h>

#include "strong/handle_name.h"
#include "strong/strong_node.h"

namespace meridian {
namespace {

StrongOptions Options() {
  StrongOptions o;
  o.self = 0;
  o.region_count = 3;
  return o;
}

pb::StrongMessage Prepare(uint64_t counter, uint32_t region) {
  pb::StrongMessage m;
  m.set_from(1);
  m.mutable_prepare()->set_name("alice");
  m.mutable_prepare()->mutable_ballot()->set_counter(counter);
  m.mutable_prepare()->mutable_ballot()->set_region(region);
  return m;
}

// Delivers `m` from region 1; true when it was refused (counted, nothing persisted or sent).
bool Refused(StrongNode& node, const pb::StrongMessage& m) {
  const uint64_t before = node.stats().malformed_messages;
  StrongOutput out;
  node.OnMessage(1, m, &out);
  const bool refused = node.stats().malformed_messages == before + 1;
  if (refused) {
    EXPECT_TRUE(out.messages.empty());
  }
  return refused;
}

TEST(StrongPeerChecksTest, ACorrectPrepareIsAnswered) {
  StrongNode node(Options());
  StrongOutput out;
  node.OnMessage(1, Prepare(5, 1), &out);
  ASSERT_EQ(out.messages.size(), 1u);
  EXPECT_TRUE(out.messages[0].second.has_promise());
}

TEST(StrongPeerChecksTest, Rule2BallotCountersNearTheTopAreRefused) {
  StrongNode node(Options());
  EXPECT_TRUE(Refused(node, Prepare(UINT64_MAX, 1)));
  EXPECT_TRUE(Refused(node, Prepare(kBallotCounterMax + 1, 1)));
  EXPECT_FALSE(node.LocalValue("alice").has_value());
  // And the handle stays writable: this region's own round still gets a majority ballot.
  StrongOutput out;
  ASSERT_TRUE(node.OnClientRequest(1, {HandleOpKind::kClaim, "alice", "u1"}, 1000, &out).ok());
  bool proposed = false;  // round 1 (Accept) for a never-written handle
  for (const auto& [to, m] : out.messages) {
    if (m.has_prepare()) proposed = m.prepare().ballot().counter() >= 1;
    if (m.has_accept()) proposed = m.accept().ballot().counter() >= 1;
  }
  EXPECT_TRUE(proposed);
}

TEST(StrongPeerChecksTest, Rule1BallotsNameRegionsOfTheCluster) {
  StrongNode node(Options());
  pb::StrongMessage nack;
  nack.set_from(1);
  nack.mutable_nack()->set_name("alice");
  nack.mutable_nack()->mutable_ballot()->set_counter(1);
  nack.mutable_nack()->mutable_promised()->set_counter(2);
  nack.mutable_nack()->mutable_promised()->set_region(7);  // no such region
  EXPECT_TRUE(Refused(node, nack));

  pb::StrongMessage accept;
  accept.set_from(1);
  accept.mutable_accept()->set_name("alice");
  accept.mutable_accept()->mutable_ballot()->set_counter(3);
  accept.mutable_accept()->mutable_ballot()->set_region(1);
  auto* value = accept.mutable_accept()->mutable_value();
  value->set_owner("u1");
  value->set_version(1);
  auto* recent = value->add_recent();
  recent->set_version(1);
  recent->set_kind(1);
  recent->mutable_op_id()->set_counter(3);
  recent->mutable_op_id()->set_region(5);  // a history entry of a region that does not exist
  EXPECT_TRUE(Refused(node, accept));
  EXPECT_FALSE(node.LocalValue("alice").has_value());
}

TEST(StrongPeerChecksTest, Rule3OwnersWithinTheClientBound) {
  StrongNode node(Options());
  pb::StrongMessage accept;
  accept.set_from(1);
  accept.mutable_accept()->set_name("alice");
  accept.mutable_accept()->mutable_ballot()->set_counter(3);
  accept.mutable_accept()->mutable_ballot()->set_region(1);
  accept.mutable_accept()->mutable_value()->set_owner(std::string(kMaxHandleOwnerBytes + 1, 'o'));
  EXPECT_TRUE(Refused(node, accept));
  EXPECT_FALSE(node.LocalValue("alice").has_value());
}

}  // namespace
}  // namespace meridian
