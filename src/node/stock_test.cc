// Stocks on three region nodes (RegionNode contract 9): a take beyond the rights here is served
// by a peer's lend, a take no reachable peer covers is refused after the wait with nothing taken,
// a take the stock does not cover is refused at once, pinned stocks lend inside their set, and
// the seeded double-lend bug really oversells (so the simulator's check can fail).
#include <gtest/gtest.h>

#include "node/node_test_trio.h"

namespace meridian {
namespace {

WriteCommand Stock(const std::string& key, StockOpKind kind, uint64_t amount) {
  return WriteCommand{ClientWrite{{DataClass::kStock, key}, "", StockWrite{kind, amount, 0}}};
}

// The stock as `region` shows it (an empty one when it holds nothing of it).
BoundedCounter Shown(Trio& t, RegionId region, const std::string& key) {
  const NodeReply reply =
      t.Command(region, ReadCommand{{DataClass::kStock, key}, std::nullopt, Consistency::kLocal});
  const auto* read = std::get_if<ReadResult>(&reply.result);
  EXPECT_NE(read, nullptr);
  if (read == nullptr || !read->state) return {};
  return std::get<BoundedCounter>(*read->state);
}

StatusCode CodeOf(const NodeReply& reply) {
  const auto* status = std::get_if<Status>(&reply.result);
  return status ? status->code() : StatusCode::kOk;
}

TEST(RegionNodeStockTest, ATakeBeyondTheRightsHereIsServedByALend) {
  Trio t;
  ASSERT_EQ(CodeOf(t.Command(kUs, Stock("item", StockOpKind::kAdd, 10))), StatusCode::kOk);
  t.Settle();
  EXPECT_EQ(Shown(t, kEu, "item").Rights(kEu), 0);
  const NodeReply take = t.Command(kEu, Stock("item", StockOpKind::kTake, 4));
  EXPECT_EQ(CodeOf(take), StatusCode::kOk);
  EXPECT_GE(t.nodes_[kEu]->stats().rights_requests, 1u);
  EXPECT_EQ(t.nodes_[kUs]->stats().rights_lent, 4u);
  EXPECT_EQ(t.nodes_[kEu]->stats().stock_waits, 0u);
  t.Settle();
  for (RegionId r : {kUs, kEu, kEu2}) {
    const BoundedCounter shown = Shown(t, r, "item");
    EXPECT_EQ(shown.Value(), 6) << r;
    EXPECT_EQ(shown.Rights(kUs), 6) << r;
    EXPECT_EQ(shown.Rights(kEu), 0) << r;
  }
}

TEST(RegionNodeStockTest, ATakeNoReachablePeerCoversIsRefusedAfterTheWaitTakingNothing) {
  Trio t;
  ASSERT_EQ(CodeOf(t.Command(kUs, Stock("item", StockOpKind::kAdd, 5))), StatusCode::kOk);
  t.Settle();
  t.Cut(kUs);  // us holds every right
  const uint64_t asked_at = t.now_ms_;
  const NodeReply take = t.Command(kEu, Stock("item", StockOpKind::kTake, 1));
  ASSERT_EQ(CodeOf(take), StatusCode::kAborted);
  EXPECT_NE(std::get<Status>(take.result).message().find("nothing was taken"), std::string::npos);
  EXPECT_GE(t.now_ms_ - asked_at, 1000u);  // it waited for lends (stock_wait_ms)
  EXPECT_EQ(t.nodes_[kEu]->stats().stock_refused, 1u);
  EXPECT_EQ(Shown(t, kEu, "item").Value(), 5);
  t.Heal(kUs);
  t.Settle();
  EXPECT_EQ(Shown(t, kUs, "item").Value(), 5);
}

TEST(RegionNodeStockTest, ATakeTheStockDoesNotCoverIsRefusedAtOnce) {
  Trio t;
  ASSERT_EQ(CodeOf(t.Command(kUs, Stock("item", StockOpKind::kAdd, 5))), StatusCode::kOk);
  t.Settle();
  NodeOutput out;
  t.nodes_[kEu]->OnCommand(99, Stock("item", StockOpKind::kTake, 6), t.now(), &out);
  ASSERT_EQ(out.replies.size(), 1u);
  EXPECT_EQ(CodeOf(out.replies[0]), StatusCode::kAborted);
  EXPECT_TRUE(out.messages.empty());  // nobody was asked
  EXPECT_EQ(t.nodes_[kEu]->stats().stock_waits, 0u);
}

TEST(RegionNodeStockTest, APinnedStockLendsInsideItsSet) {
  Trio t;
  ASSERT_EQ(CodeOf(t.Command(kEu, Stock("gdpr:item", StockOpKind::kAdd, 3))), StatusCode::kOk);
  t.Settle();
  EXPECT_EQ(CodeOf(t.Command(kEu2, Stock("gdpr:item", StockOpKind::kTake, 2))), StatusCode::kOk);
  t.Settle();
  EXPECT_EQ(Shown(t, kEu, "gdpr:item").Value(), 1);
  EXPECT_EQ(Shown(t, kEu2, "gdpr:item").Value(), 1);
  EXPECT_EQ(t.seen_by_us_.find("gdpr:item"), std::string::npos);  // never left the set
}

// Two borrowers ask one lender in turn: with the seeded bug it lends the same units twice.
int64_t ValueAfterTwoBorrowers(bool double_lend) {
  Trio t([double_lend](RegionNodeOptions& o) { o.replica.bugs.escrow_double_lend = double_lend; });
  EXPECT_EQ(CodeOf(t.Command(kUs, Stock("item", StockOpKind::kAdd, 3))), StatusCode::kOk);
  t.Settle();
  EXPECT_EQ(CodeOf(t.Command(kEu, Stock("item", StockOpKind::kTake, 3))), StatusCode::kOk);
  t.Cut(kEu);  // eu2 does not hear of eu's take before it asks
  const StatusCode second = CodeOf(t.Command(kEu2, Stock("item", StockOpKind::kTake, 3)));
  EXPECT_EQ(second, double_lend ? StatusCode::kOk : StatusCode::kAborted);
  t.Heal(kEu);
  t.Settle();
  return Shown(t, kUs, "item").Value();
}

TEST(RegionNodeStockTest, TheDoubleLendBugOversellsAndTheRealRuleDoesNot) {
  EXPECT_EQ(ValueAfterTwoBorrowers(false), 0);
  EXPECT_EQ(ValueAfterTwoBorrowers(true), -3);
}

}  // namespace
}  // namespace meridian
