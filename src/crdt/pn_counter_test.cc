#include "crdt/pn_counter.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
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

// Issue 19, item 3: one region's totals passed 2^64 - 1 while the value stayed near zero, and
// from then on that region refused every delta of that sign although the result was in range.
TEST(PnCounterTest, TheIssuesReproIsNotRefused) {
  PnCounter c;
  Accept(c, 0, kMax);
  Accept(c, 0, -kMax);
  Accept(c, 0, -kMax);
  Accept(c, 0, -1);
  Accept(c, 0, kMax);
  Accept(c, 0, 1);
  EXPECT_EQ(*c.Value(), 0);
  EXPECT_TRUE(c.CheckDelta(0, 1).ok()) << c.CheckDelta(0, 1).ToString();
  EXPECT_TRUE(c.CheckDelta(0, -1).ok()) << c.CheckDelta(0, -1).ToString();
  Accept(c, 0, 1);
  Accept(c, 0, -1);
  Accept(c, 0, -1);
  EXPECT_EQ(*c.Value(), -1);
}

TEST(PnCounterTest, TotalsPastTwoToTheSixtyFourKeepCountingAndMerging) {
  PnCounter us, eu;
  for (int i = 0; i < 6; ++i) {  // each total reaches 6 * (2^63 - 1), well past 2^64
    Accept(us, 0, kMax);
    Accept(us, 0, -kMax);
  }
  Accept(eu, 1, 3);
  eu.Merge(us);
  us.Merge(eu);
  EXPECT_EQ(us, eu);
  EXPECT_EQ(*us.Value(), 3);
  EXPECT_EQ(us.increments(0), PnCounter::Total{6} * static_cast<uint64_t>(kMax));
  // State transfer carries the wide totals (max per region), and the codec round-trips them.
  pb::PnCounter encoded;
  us.Encode(&encoded);
  auto decoded = PnCounter::Decode(encoded);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, us);
  PnCounter stale;
  Accept(stale, 0, 1);
  decoded->Merge(stale);
  EXPECT_EQ(*decoded, us);
}

TEST(PnCounterTest, CheckDeltaRefusesToWrapATotalAtItsBound) {
  // The bound is out of reach in practice (2^61 deltas of 2^63 each); reach it by decoding.
  pb::PnCounter near;
  auto* entry = near.add_entries();
  entry->set_region(0);
  entry->set_increments(UINT64_MAX);
  entry->set_increments_high((uint64_t{1} << (PnCounter::kTotalBits - 64)) - 1);  // P = max
  entry->set_decrements(UINT64_MAX);
  entry->set_decrements_high((uint64_t{1} << (PnCounter::kTotalBits - 64)) - 1);
  auto c = PnCounter::Decode(near);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->increments(0), PnCounter::kTotalMax);
  EXPECT_EQ(*c->Value(), 0);
  const Status wrap = c->CheckDelta(0, 1);
  EXPECT_EQ(wrap.code(), StatusCode::kOutOfRange);
  EXPECT_NE(wrap.message().find("total"), std::string::npos);
  EXPECT_TRUE(c->CheckDelta(1, 1).ok());  // region 1's totals have room
  EXPECT_DEATH(c->Apply(0, 1), "MERIDIAN_ASSERT");
  // A total beyond the bound is not a state any region can reach: refused on decode.
  near.mutable_entries(0)->set_increments_high(uint64_t{1} << (PnCounter::kTotalBits - 64));
  EXPECT_EQ(PnCounter::Decode(near).status().code(), StatusCode::kInvalidArgument);
}

TEST(PnCounterCodecTest, DecodesTotalsWrittenBeforeTheyWereWide) {
  // Entries persisted by earlier versions have no high words: they mean what they meant.
  pb::PnCounter old;
  auto* entry = old.add_entries();
  entry->set_region(1);
  entry->set_increments(UINT64_MAX);
  entry->set_decrements(UINT64_MAX - 5);
  auto c = PnCounter::Decode(old);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c->Value(), 5);
  EXPECT_EQ(c->increments(1), PnCounter::Total{UINT64_MAX});
  pb::PnCounter again;
  c->Encode(&again);
  EXPECT_EQ(again.SerializeAsString(), old.SerializeAsString());  // canonical: no zero high words
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

// Issue 19, item 8: a counter can be deleted. The delete removes the totals its region had seen;
// an increment it had not seen survives, in every region, whatever the order.
TEST(PnCounterTest, DeleteRemovesWhatItSawAndAConcurrentIncrementSurvives) {
  PnCounter us, eu;
  Accept(us, 0, 5);
  Accept(us, 0, -2);
  eu.Merge(us);
  EXPECT_TRUE(eu.Present());
  const PnCounterDelete deleted = eu.PrepareDelete();  // eu deletes what it shows: 3
  eu.ApplyDelete(deleted);
  EXPECT_EQ(*eu.Value(), 0);
  EXPECT_FALSE(eu.Present());
  Accept(us, 0, 4);  // concurrent with the delete
  Accept(us, 2, 1);
  PnCounter op_order = us;  // us gets the delete after its own increments
  op_order.ApplyDelete(deleted);
  eu.Merge(us);
  EXPECT_EQ(op_order, eu);
  EXPECT_EQ(*eu.Value(), 5);
  EXPECT_TRUE(eu.Present());
  // Deleting again removes the rest; increments after that count from zero.
  eu.ApplyDelete(eu.PrepareDelete());
  EXPECT_EQ(*eu.Value(), 0);
  EXPECT_FALSE(eu.Present());
  Accept(eu, 1, -7);
  EXPECT_EQ(*eu.Value(), -7);
  EXPECT_TRUE(eu.Present());
}

TEST(PnCounterTest, ADeleteThatArrivesTwiceOrLateChangesNothingMore) {
  PnCounter a;
  Accept(a, 0, 10);
  const PnCounterDelete first = a.PrepareDelete();
  a.ApplyDelete(first);
  Accept(a, 1, 3);
  const PnCounter before = a;
  a.ApplyDelete(first);   // duplicate
  PnCounterDelete older;  // a delete that saw less: the baseline takes the max
  older.increments[0] = 4;
  a.ApplyDelete(older);
  EXPECT_EQ(a, before);
  EXPECT_EQ(*a.Value(), 3);
}

TEST(PnCounterCodecTest, DeletedBaselineRoundTripsAndIsValidated) {
  PnCounter c;
  Accept(c, 0, 7);
  Accept(c, 1, -2);
  c.ApplyDelete(c.PrepareDelete());
  Accept(c, 0, 1);
  pb::PnCounter encoded;
  c.Encode(&encoded);
  ASSERT_EQ(encoded.deleted_size(), 2);
  auto decoded = PnCounter::Decode(encoded);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, c);
  EXPECT_EQ(*decoded->Value(), 1);
  // A baseline above its total is no state any region reaches (invariant 4).
  pb::PnCounter above = encoded;
  above.mutable_deleted(0)->set_increments(9);
  EXPECT_EQ(PnCounter::Decode(above).status().code(), StatusCode::kInvalidArgument);
  pb::PnCounter unsorted = encoded;
  unsorted.mutable_deleted()->SwapElements(0, 1);
  EXPECT_EQ(PnCounter::Decode(unsorted).status().code(), StatusCode::kInvalidArgument);
  // The op: the observed totals, canonical, round-tripping.
  const PnCounterDelete d = c.PrepareDelete();
  pb::PnCounterDelete op;
  Encode(d, &op);
  auto back = Decode(op);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, d);
  pb::PnCounterDelete zero_entry;
  zero_entry.add_observed()->set_region(3);
  EXPECT_EQ(Decode(zero_entry).status().code(), StatusCode::kInvalidArgument);
}

TEST(PnCounterCodecTest, ZeroCounterEncodesToNothing) {
  EXPECT_TRUE(crdt_testing::Bytes(PnCounter{}).empty());
}

// --- Properties on states reached by simulated regions ------------------------------------------

struct PnOp {
  RegionId origin;
  int64_t delta;             // 0: a delete of the counter
  PnCounterDelete observed;  // a delete's baseline
};

// The value after `delta`, if it is an int64.
bool ResultInRange(const PnCounter& s, int64_t delta) {
  __extension__ using Wide = __int128;
  const auto value = s.Value();
  if (!value.ok()) return false;
  const Wide after = static_cast<Wide>(*value) + delta;
  return after >= kMin && after <= kMax;
}

struct PnModel {
  using State = PnCounter;
  using Op = PnOp;

  // `huge_in_8`: how many of eight deltas are +-(2^62) rather than small; a few make overflow of
  // the value reachable, many drive one region's totals far past 2^64. One step in sixteen is a
  // delete.
  explicit PnModel(size_t, int huge_in_8 = 2) : huge_in_8_(huge_in_8) {}

  std::optional<Op> Make(const State& s, RegionId r, Dot, uint8_t a, uint8_t b) {
    if (b % 16 == 15) return PnOp{r, 0, s.PrepareDelete()};
    int64_t delta = static_cast<int64_t>(a) - 128;
    if (b % 8 < huge_in_8_) delta = (b & 8) ? kMax / 2 : kMin / 2;
    if (delta == 0) delta = 1;
    if (!s.CheckDelta(r, delta).ok()) {  // refused at the origin
      if (ResultInRange(s, delta)) ++refused_in_range;
      return std::nullopt;
    }
    return PnOp{r, delta, {}};
  }

  void Apply(State& s, const Op& op) {
    if (op.delta == 0) {
      s.ApplyDelete(op.observed);
    } else {
      s.Apply(op.origin, op.delta);
    }
  }

  int huge_in_8_;
  int refused_in_range = 0;  // deltas refused although the value after them was an int64
};

struct HugePnModel : PnModel {
  explicit HugePnModel(size_t regions) : PnModel(regions, 7) {}
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
  // The value is the sum of the accepted deltas that no delete had applied when it was made
  // (observed-remove), or OUT_OF_RANGE when that sum is not an int64; the counter is present
  // exactly when such a delta exists.
  __extension__ using Wide = __int128;
  Wide sum = 0;
  bool present = false;
  for (const auto& logged : sim.log()) {
    if (logged.op.delta == 0) continue;
    bool deleted = false;
    for (const auto& d : sim.log())
      deleted = deleted || (d.op.delta == 0 && d.deps.Covers(logged.dot));
    if (deleted) continue;
    sum += logged.op.delta;
    present = true;
  }
  RC_CLASSIFY(std::any_of(sim.log().begin(), sim.log().end(),
                          [](const auto& logged) { return logged.op.delta == 0; }),
              "with deletes");
  RC_ASSERT(sim.Reference().Present() == present);
  const auto value = sim.Reference().Value();
  RC_CLASSIFY(!value.ok(), "out of range");
  if (sum > kMax || sum < kMin) {
    RC_ASSERT(value.status().code() == StatusCode::kOutOfRange);
  } else {
    // Double parentheses: RC_ASSERT would not short-circuit `&&`.
    RC_ASSERT((value.ok() && static_cast<Wide>(*value) == sum));
  }
}

RC_GTEST_PROP(PnCounterProp, AnInRangeResultIsNeverRefused,
              (uint8_t regions, const Script& script)) {
  Sim<HugePnModel> sim(crdt_testing::RegionCount(regions));
  sim.Run(script);
  RC_ASSERT(sim.model().refused_in_range == 0);
  crdt_testing::CheckMergeLaws(sim);
  crdt_testing::CheckOpsAndMergeConverge(sim);
  crdt_testing::CheckStateCodec(sim);
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
