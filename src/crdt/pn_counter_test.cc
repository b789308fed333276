#include "crdt/pn_counter.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <limits>

#include "crdt/crdt_test_util.h"

namespace meridian {
namespace {

using crdt_testing::Script;
using crdt_testing::Sim;

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

// Applies `delta` at `origin` the way a region accepts a local write: checked first.
void Accept(PnCounter& c, RegionId origin, int64_t delta) {
  ASSERT_TRUE(c.CheckDelta(origin, delta).ok()) << origin << " " << delta;
  c.Apply(origin, delta);
}

TEST(PnCounterTest, ValueIsIncrementsMinusDecrements) {
  PnCounter c;
  EXPECT_EQ(*c.Value(), 0);
  Accept(c, 0, 5);
  Accept(c, 1, -3);
  Accept(c, 0, -4);
  Accept(c, 2, 10);
  EXPECT_EQ(*c.Value(), 8);
  EXPECT_EQ(c.increments(0), 5u);
  EXPECT_EQ(c.decrements(0), 4u);
  EXPECT_EQ(c.decrements(1), 3u);
  EXPECT_EQ(c.increments(2), 10u);
}

TEST(PnCounterTest, MergeTakesEntryWiseMax) {
  PnCounter us, eu;
  Accept(us, 0, 3);
  Accept(eu, 1, 4);
  Accept(eu, 1, -1);
  PnCounter stale_us;  // an older copy of us's entries changes nothing
  Accept(stale_us, 0, 1);
  us.Merge(eu);
  us.Merge(stale_us);
  EXPECT_EQ(*us.Value(), 6);
  eu.Merge(us);
  EXPECT_EQ(us, eu);
}

TEST(PnCounterTest, CheckDeltaRefusesToLeaveInt64) {
  PnCounter c;
  Accept(c, 0, kMax);
  EXPECT_EQ(c.CheckDelta(0, 1).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(c.CheckDelta(1, 1).code(), StatusCode::kOutOfRange);
  EXPECT_TRUE(c.CheckDelta(1, -1).ok());
  PnCounter d;
  Accept(d, 0, kMin);  // |INT64_MIN| is representable as a total
  EXPECT_EQ(d.decrements(0), uint64_t{1} << 63);
  EXPECT_EQ(*d.Value(), kMin);
  EXPECT_EQ(d.CheckDelta(2, -1).code(), StatusCode::kOutOfRange);
}

TEST(PnCounterTest, CheckDeltaRefusesToWrapATotal) {
  PnCounter c;
  // Push region 0's increment total to 2^64 - 1 while keeping the value in range.
  Accept(c, 0, kMax);
  Accept(c, 1, kMin);
  Accept(c, 0, kMax);
  Accept(c, 0, 1);
  EXPECT_EQ(c.increments(0), std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(*c.Value(), kMax);
  Accept(c, 1, -1);  // value fine, and region 1's total has room
  const Status wrap = c.CheckDelta(0, 1);
  EXPECT_EQ(wrap.code(), StatusCode::kOutOfRange);
  EXPECT_NE(wrap.message().find("total"), std::string::npos);
  EXPECT_EQ(c.increments(0), std::numeric_limits<uint64_t>::max());  // no wraparound
  EXPECT_DEATH(c.Apply(0, 1), "MERIDIAN_ASSERT");
}

TEST(PnCounterTest, ConcurrentDeltasLeavingInt64AreReportedNotWrapped) {
  PnCounter us, eu;
  Accept(us, 0, kMax - 10);
  eu.Merge(us);
  Accept(us, 0, 10);  // each legal where it was accepted
  Accept(eu, 1, 10);
  us.Merge(eu);
  const auto value = us.Value();
  ASSERT_FALSE(value.ok());
  EXPECT_EQ(value.status().code(), StatusCode::kOutOfRange);
  // Further increments are refused; a decrement that brings the value back is accepted.
  EXPECT_FALSE(us.CheckDelta(0, 1).ok());
  EXPECT_FALSE(us.CheckDelta(0, -5).ok());
  Accept(us, 2, -10);
  EXPECT_EQ(*us.Value(), kMax);
}

TEST(PnCounterCodecTest, RejectsMalformed) {
  PnCounter c;
  Accept(c, 0, 3);
  Accept(c, 2, -4);
  pb::PnCounter good;
  c.Encode(&good);
  ASSERT_EQ(*PnCounter::Decode(good), c);

  pb::PnCounter bad_region = good;
  bad_region.mutable_entries(1)->set_region(kMaxRegions);
  pb::PnCounter unsorted = good;
  unsorted.mutable_entries()->SwapElements(0, 1);
  pb::PnCounter duplicate = good;
  duplicate.mutable_entries(1)->set_region(0);
  pb::PnCounter zero = good;
  zero.add_entries()->set_region(5);
  for (const pb::PnCounter* bad : {&bad_region, &unsorted, &duplicate, &zero}) {
    const auto decoded = PnCounter::Decode(*bad);
    ASSERT_FALSE(decoded.ok()) << bad->ShortDebugString();
    EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(PnCounterCodecTest, ZeroCounterEncodesToNothing) {
  EXPECT_TRUE(crdt_testing::Bytes(PnCounter{}).empty());
}

// --- Properties on states reached by simulated regions ------------------------------------------

struct PnOp {
  RegionId origin;
  int64_t delta;
};

struct PnModel {
  using State = PnCounter;
  using Op = PnOp;

  explicit PnModel(size_t) {}

  std::optional<Op> Make(const State& s, RegionId r, Dot, uint8_t a, uint8_t b) {
    int64_t delta = static_cast<int64_t>(a) - 128;
    if (b % 8 == 6) delta = kMax / 2;  // a few huge deltas make overflow reachable
    if (b % 8 == 7) delta = kMin / 2;
    if (!s.CheckDelta(r, delta).ok()) return std::nullopt;  // refused at the origin
    return PnOp{r, delta};
  }

  void Apply(State& s, const Op& op) { s.Apply(op.origin, op.delta); }
};

RC_GTEST_PROP(PnCounterProp, MergeIsCommutativeAssociativeIdempotent,
              (uint8_t regions, const Script& script)) {
  Sim<PnModel> sim(crdt_testing::RegionCount(regions));
  sim.Run(script);
  crdt_testing::CheckMergeLaws(sim);
}

RC_GTEST_PROP(PnCounterProp, OpsInCausalOrderAndMergeConverge,
              (uint8_t regions, const Script& script)) {
  Sim<PnModel> sim(crdt_testing::RegionCount(regions));
  sim.Run(script);
  crdt_testing::CheckOpsAndMergeConverge(sim);
  // The value is the sum of all accepted deltas, or OUT_OF_RANGE when that sum is not an int64.
  __extension__ using Wide = __int128;
  Wide sum = 0;
  for (const auto& logged : sim.log())
    sum += logged.op.delta;
  const auto value = sim.Reference().Value();
  RC_CLASSIFY(!value.ok(), "out of range");
  if (sum > kMax || sum < kMin) {
    RC_ASSERT(value.status().code() == StatusCode::kOutOfRange);
  } else {
    // Double parentheses: RC_ASSERT would not short-circuit `&&`.
    RC_ASSERT((value.ok() && static_cast<Wide>(*value) == sum));
  }
}

RC_GTEST_PROP(PnCounterProp, CodecRoundTripsAndIsCanonical,
              (uint8_t regions, const Script& script)) {
  Sim<PnModel> sim(crdt_testing::RegionCount(regions));
  sim.Run(script);
  crdt_testing::CheckStateCodec(sim);
}

// An op that carries its origin's total is idempotent and commutes with state merge: a streamed
// transfer may bring a state that already reflects an op the region then receives.
TEST(PnCounterTest, OpsCarryingTotalsApplyOnceWhateverTheyMeet) {
  PnCounter origin;
  const uint64_t after_first = origin.TotalAfter(0, 5);
  origin.ApplyTotal(0, 5, after_first);
  const uint64_t after_second = origin.TotalAfter(0, -2);
  origin.ApplyTotal(0, -2, after_second);
  PnCounter replica = origin;  // a state that already has both ops
  replica.ApplyTotal(0, 5, after_first);
  replica.ApplyTotal(0, -2, after_second);
  EXPECT_EQ(*replica.Value(), 3);
  PnCounter late;  // the ops out of order, then the state
  late.ApplyTotal(0, -2, after_second);
  late.ApplyTotal(0, 5, after_first);
  late.Merge(origin);
  EXPECT_EQ(late, origin);
}

}  // namespace
}  // namespace meridian
