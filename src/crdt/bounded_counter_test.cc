#include "crdt/bounded_counter.h"

#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "crdt/crdt_test_util.h"

namespace meridian {
namespace {

using crdt_testing::Script;
using crdt_testing::Sim;

// Prepares and applies a local op the way a region accepts a write.
Status Do(BoundedCounter& c, StockOpKind kind, uint64_t amount, RegionId origin, RegionId to = 0) {
  auto op = c.Prepare(kind, amount, origin, to);
  if (!op.ok()) return op.status();
  c.Apply(*op, origin);
  return Status::Ok();
}

TEST(BoundedCounterTest, RightsFollowAddsTakesAndLends) {
  BoundedCounter c;
  ASSERT_TRUE(Do(c, StockOpKind::kAdd, 10, 0).ok());
  EXPECT_EQ(c.Value(), 10);
  EXPECT_EQ(c.Rights(0), 10);
  EXPECT_EQ(c.Rights(1), 0);
  ASSERT_TRUE(Do(c, StockOpKind::kLend, 4, 0, 1).ok());
  EXPECT_EQ(c.Rights(0), 6);
  EXPECT_EQ(c.Rights(1), 4);
  ASSERT_TRUE(Do(c, StockOpKind::kTake, 3, 1).ok());
  EXPECT_EQ(c.Value(), 7);
  EXPECT_EQ(c.Rights(1), 1);
  EXPECT_EQ(c.lent(0, 1), 4u);
  EXPECT_EQ(c.taken(1), 3u);
}

TEST(BoundedCounterTest, ATakeOrLendBeyondTheRightsHereIsAbortedAndChangesNothing) {
  BoundedCounter c;
  ASSERT_TRUE(Do(c, StockOpKind::kAdd, 5, 0).ok());
  const BoundedCounter before = c;
  const Status take = Do(c, StockOpKind::kTake, 6, 0);
  EXPECT_EQ(take.code(), StatusCode::kAborted);
  EXPECT_NE(take.message().find("5 units of rights here"), std::string::npos) << take.message();
  EXPECT_EQ(Do(c, StockOpKind::kTake, 1, 1).code(), StatusCode::kAborted);  // region 1 has none
  EXPECT_EQ(Do(c, StockOpKind::kLend, 6, 0, 1).code(), StatusCode::kAborted);
  EXPECT_EQ(Do(c, StockOpKind::kLend, 1, 0, 0).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(c, before);
}

// Two regions each see 5 units in stock, but only the region holding the rights may sell them:
// the concurrent takes a PN-counter would let both make (value -5) are refused at the other.
TEST(BoundedCounterTest, ConcurrentTakesCannotOversell) {
  BoundedCounter us;
  ASSERT_TRUE(Do(us, StockOpKind::kAdd, 5, 0).ok());
  BoundedCounter eu = us;  // eu has seen the add
  ASSERT_TRUE(Do(us, StockOpKind::kTake, 5, 0).ok());
  EXPECT_EQ(Do(eu, StockOpKind::kTake, 5, 1).code(), StatusCode::kAborted);
  us.Merge(eu);
  EXPECT_EQ(us.Value(), 0);
}

// The seeded bug: a lender that forgets its lends lends the same units twice, and the value
// goes below zero once both borrowers take them.
TEST(BoundedCounterTest, TheDoubleLendBugDrivesTheValueBelowZero) {
  BoundedCounter c;
  ASSERT_TRUE(Do(c, StockOpKind::kAdd, 3, 0).ok());
  ASSERT_TRUE(Do(c, StockOpKind::kLend, 3, 0, 1).ok());
  auto twice = c.Prepare(StockOpKind::kLend, 3, 0, 2, /*ignore_lent=*/true);
  ASSERT_TRUE(twice.ok());
  c.Apply(*twice, 0);
  ASSERT_TRUE(Do(c, StockOpKind::kTake, 3, 1).ok());
  ASSERT_TRUE(Do(c, StockOpKind::kTake, 3, 2).ok());
  EXPECT_EQ(c.Value(), -3);
  EXPECT_EQ(c.Rights(0), -3);
}

TEST(BoundedCounterTest, OpsCarryTotalsSoTheyApplyOnceWhateverTheyMeet) {
  BoundedCounter origin;
  auto add = origin.Prepare(StockOpKind::kAdd, 7, 0);
  origin.Apply(*add, 0);
  auto lend = origin.Prepare(StockOpKind::kLend, 2, 0, 1);
  origin.Apply(*lend, 0);
  BoundedCounter late;  // the ops twice and out of order, then the state
  late.Apply(*lend, 0);
  late.Apply(*add, 0);
  late.Apply(*add, 0);
  late.Merge(origin);
  EXPECT_EQ(late, origin);
  EXPECT_EQ(late.Value(), 7);
}

TEST(BoundedCounterCodecTest, RejectsMalformed) {
  const auto decode = [](const char* text) {
    pb::BoundedCounter in;
    EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &in)) << text;
    return BoundedCounter::Decode(in).status();
  };
  EXPECT_TRUE(decode("rows { region: 1 added: 3 lent { to: 0 total: 2 } }").ok());
  EXPECT_FALSE(decode("rows { region: 9 added: 1 }").ok());
  EXPECT_FALSE(decode("rows { region: 1 added: 1 } rows { region: 1 added: 2 }").ok());
  EXPECT_FALSE(decode("rows { region: 1 }").ok());
  EXPECT_FALSE(decode("rows { region: 1 added: 1 lent { to: 1 total: 1 } }").ok());
  EXPECT_FALSE(decode("rows { region: 1 added: 1 lent { to: 0 total: 0 } }").ok());
  EXPECT_FALSE(decode("rows { region: 0 added: 4611686018427387904 }").ok());
  pb::StockOp op;
  op.set_kind(4);
  op.set_amount(1);
  op.set_total_after(1);
  EXPECT_FALSE(Decode(op).ok());
  op.set_kind(2);
  op.set_total_after(0);
  EXPECT_FALSE(Decode(op).ok());
}

struct StockModel {
  using State = BoundedCounter;
  struct Op {
    RegionId origin;
    StockOp op;
  };
  explicit StockModel(size_t regions) : regions_(regions) {}

  // Adds, takes and lends of 1-8 units, to a neighbour; refused ones are dropped, as a region
  // refuses them.
  std::optional<Op> Make(const State& s, RegionId r, Dot, uint8_t a, uint8_t b) {
    const auto kind = static_cast<StockOpKind>(1 + a % 3);
    const RegionId to = static_cast<RegionId>((r + 1 + b / 8) % regions_);
    auto op = s.Prepare(kind, 1 + b % 8, r, to);
    if (!op.ok()) return std::nullopt;
    return Op{r, *op};
  }
  void Apply(State& s, const Op& op) { s.Apply(op.op, op.origin); }

  size_t regions_;
};

RC_GTEST_PROP(BoundedCounterProp, MergeIsCommutativeAssociativeIdempotent,
              (uint8_t regions, const Script& script)) {
  Sim<StockModel> sim(crdt_testing::RegionCount(regions));
  sim.Run(script);
  crdt_testing::CheckMergeLaws(sim);
  crdt_testing::CheckStateCodec(sim);
}

// The invariant: in every state any region reached, after every step, the value and every
// region's rights are >= 0; and everything converges to the sum of the accepted ops.
RC_GTEST_PROP(BoundedCounterProp, NoViewEverShowsAValueOrRightsBelowZero,
              (uint8_t regions, const Script& script)) {
  Sim<StockModel> sim(crdt_testing::RegionCount(regions));
  sim.Run(script);
  for (const BoundedCounter& s : sim.snapshots()) {
    RC_ASSERT(s.Value() >= 0);
    for (RegionId r = 0; r < kMaxRegions; ++r)
      RC_ASSERT(s.Rights(r) >= 0);
  }
  crdt_testing::CheckOpsAndMergeConverge(sim);
  int64_t expected = 0;
  for (const auto& logged : sim.log()) {
    if (logged.op.op.kind == StockOpKind::kAdd) expected += logged.op.op.amount;
    if (logged.op.op.kind == StockOpKind::kTake) expected -= logged.op.op.amount;
  }
  RC_CLASSIFY(expected == 0, "sold out");
  RC_ASSERT(sim.Reference().Value() == expected);
}

}  // namespace
}  // namespace meridian
