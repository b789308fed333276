#include "crdt/lww_map.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "clock/hlc.h"
#include "crdt/crdt_test_util.h"

namespace meridian {
namespace {

using crdt_testing::Script;
using crdt_testing::Sim;

using Fields = std::map<std::string, std::string>;

WriteStamp Stamp(uint64_t ms, RegionId region) {
  return WriteStamp{{ms, 0}, region};
}

LwwMapOp Set(const std::string& field, const std::string& value) {
  return LwwMapOp{false, {{field, value}}};
}
LwwMapOp Delete(const std::string& field) {
  return LwwMapOp{false, {{field, std::nullopt}}};
}
LwwMapOp Clear() {
  return LwwMapOp{true, {}};
}

// --- Semantics -----------------------------------------------------------------------------------

TEST(LwwMapTest, ConcurrentEditsToDifferentFieldsBothSurvive) {
  LwwMap us, eu;
  us.Apply(Set("name", "ada"), Stamp(10, 0), {0, 1}, nullptr);
  eu.Apply(Set("city", "rome"), Stamp(10, 1), {1, 1}, nullptr);
  us.Merge(eu);
  eu.Merge(us);
  EXPECT_EQ(us.Visible(), (Fields{{"city", "rome"}, {"name", "ada"}}));
  EXPECT_EQ(us, eu);
}

TEST(LwwMapTest, SameFieldHigherStampWins) {
  LwwMap m;
  m.Apply(Set("name", "new"), Stamp(20, 0), {0, 1}, nullptr);
  m.Apply(Set("name", "old"), Stamp(10, 1), {1, 1}, nullptr);
  EXPECT_EQ(m.Visible(), (Fields{{"name", "new"}}));
}

TEST(LwwMapTest, SameTimeTieBrokenByRegion) {
  LwwMap a, b;
  a.Apply(Set("name", "from-eu"), Stamp(10, 1), {1, 1}, nullptr);
  a.Apply(Set("name", "from-us"), Stamp(10, 0), {0, 1}, nullptr);
  b.Apply(Set("name", "from-us"), Stamp(10, 0), {0, 1}, nullptr);
  b.Apply(Set("name", "from-eu"), Stamp(10, 1), {1, 1}, nullptr);
  EXPECT_EQ(a.Visible(), (Fields{{"name", "from-eu"}}));
  EXPECT_EQ(a, b);
}

TEST(LwwMapTest, ContestsAreReported) {
  LwwMap m;
  std::vector<LwwContest> contests;
  m.Apply(Set("name", "a"), Stamp(10, 0), {0, 1}, &contests);
  EXPECT_TRUE(contests.empty());
  m.Apply(Set("name", "b"), Stamp(5, 1), {1, 1}, &contests);  // loses
  ASSERT_EQ(contests.size(), 1u);
  EXPECT_EQ(contests[0].field, "name");
  EXPECT_EQ(contests[0].winner.value, "a");
  EXPECT_EQ(contests[0].loser.value, "b");
  m.Apply(Set("name", "c"), Stamp(20, 1), {1, 2}, &contests);  // wins
  ASSERT_EQ(contests.size(), 2u);
  EXPECT_EQ(contests[1].winner.value, "c");
  EXPECT_EQ(contests[1].loser.value, "a");
  m.Apply(Set("name", "c"), Stamp(20, 1), {1, 2}, &contests);  // redelivery: not a contest
  EXPECT_EQ(contests.size(), 2u);
}

TEST(LwwMapTest, FieldDeleteHidesOlderWritesEvenWhenTheyArriveLater) {
  LwwMap m;
  m.Apply(Set("name", "ada"), Stamp(10, 0), {0, 1}, nullptr);
  m.Apply(Delete("name"), Stamp(20, 0), {0, 2}, nullptr);
  EXPECT_TRUE(m.Visible().empty());
  m.Apply(Set("name", "late"), Stamp(15, 1), {1, 1},
          nullptr);  // concurrent, older: no resurrection
  EXPECT_TRUE(m.Visible().empty());
  EXPECT_EQ(m.TombstoneCount(), 1u);
  m.Apply(Set("name", "newer"), Stamp(25, 1), {1, 2}, nullptr);
  EXPECT_EQ(m.Visible(), (Fields{{"name", "newer"}}));
}

TEST(LwwMapTest, ClearHidesOlderWritesEvenWhenTheyArriveLater) {
  LwwMap m;
  m.Apply(LwwMapOp{false, {{"a", "1"}, {"b", "2"}}}, Stamp(10, 0), {0, 1}, nullptr);
  std::vector<LwwContest> contests;
  m.Apply(Clear(), Stamp(20, 0), {0, 2}, &contests);
  EXPECT_TRUE(m.Visible().empty());
  EXPECT_TRUE(m.registers().empty());  // invariant 2: nothing below the mark is stored
  EXPECT_EQ(contests.size(), 2u);      // both erased fields reported
  m.Apply(Set("c", "late"), Stamp(15, 1), {1, 1}, &contests);
  EXPECT_TRUE(m.Visible().empty());
  EXPECT_EQ(contests.size(), 3u);
  EXPECT_EQ(contests.back().winner, *m.clear_mark());
  m.Apply(Set("c", "after"), Stamp(30, 1), {1, 2}, nullptr);
  EXPECT_EQ(m.Visible(), (Fields{{"c", "after"}}));
}

TEST(LwwMapTest, ClearSurvivesMergeWithStaleState) {
  LwwMap stale, cleared;
  stale.Apply(Set("a", "1"), Stamp(10, 0), {0, 1}, nullptr);
  cleared = stale;
  cleared.Apply(Clear(), Stamp(20, 1), {1, 1}, nullptr);
  stale.Apply(Set("b", "2"), Stamp(15, 0), {0, 2}, nullptr);  // concurrent with the clear, older
  LwwMap x = stale, y = cleared;
  x.Merge(cleared);
  y.Merge(stale);
  EXPECT_TRUE(x.Visible().empty());
  EXPECT_EQ(x, y);
}

TEST(LwwMapTest, BlobPutLosesConcurrentFieldEditWithLowerStamp) {
  const LwwMapOp blob{true, {{"name", "ada"}, {"city", "rome"}}};
  const LwwMapOp edit = Set("email", "ada@example.com");
  LwwMap a, b;
  a.Apply(edit, Stamp(10, 1), {1, 1}, nullptr);
  a.Apply(blob, Stamp(12, 0), {0, 1}, nullptr);
  b.Apply(blob, Stamp(12, 0), {0, 1}, nullptr);
  b.Apply(edit, Stamp(10, 1), {1, 1}, nullptr);
  EXPECT_EQ(a.Visible(), (Fields{{"city", "rome"}, {"name", "ada"}}));  // the lost update
  EXPECT_EQ(a, b);
  // The same edit in field mode, stamped after the blob, survives next to it.
  a.Apply(edit, Stamp(13, 1), {1, 2}, nullptr);
  EXPECT_EQ(a.Visible().count("email"), 1u);
}

TEST(LwwMapTest, CollectGarbageDropsOnlyStableTombstonesAndKeepsVisible) {
  LwwMap m;
  m.Apply(Clear(), Stamp(5, 1), {1, 1}, nullptr);
  m.Apply(Set("a", "1"), Stamp(10, 0), {0, 1}, nullptr);
  m.Apply(Delete("b"), Stamp(11, 0), {0, 2}, nullptr);
  m.Apply(Delete("c"), Stamp(12, 0), {0, 3}, nullptr);
  m.Apply(Set("d", "4"), Stamp(13, 0), {0, 4}, nullptr);
  ASSERT_EQ(m.TombstoneCount(), 3u);
  const Fields visible = m.Visible();
  VersionVector stable;
  stable.Set(0, 2);  // covers the delete of b, not of c; not the clear (region 1)
  EXPECT_EQ(m.CollectGarbage(stable, stable), 1u);
  EXPECT_EQ(m.Visible(), visible);
  EXPECT_EQ(m.registers().count("b"), 0u);
  EXPECT_EQ(m.registers().count("c"), 1u);
  EXPECT_TRUE(m.clear_mark().has_value());
  stable.Set(0, 4);
  stable.Set(1, 1);
  EXPECT_EQ(m.CollectGarbage(stable, stable), 2u);
  EXPECT_EQ(m.Visible(), visible);
  EXPECT_EQ(m.TombstoneCount(), 0u);
  EXPECT_FALSE(m.clear_mark().has_value());
  EXPECT_EQ(m.CollectGarbage(stable, stable), 0u);
}

// A region that collected a delete's tombstone hands its map to a region that never applied
// the delete (a new disk, a transfer in progress): the older write, arriving later, or held in
// an old copy, must not come back (crdt/lww_map.h, `collected`).
TEST(LwwMapTest, CollectedVectorKeepsADeletedValueDeadAfterTheTombstoneIsGone) {
  LwwMap holder;
  holder.Apply(Set("f", "old"), Stamp(10, 0), {0, 1}, nullptr);
  holder.Apply(Delete("f"), Stamp(20, 1), {1, 1}, nullptr);
  VersionVector applied;
  applied.Set(0, 1);
  applied.Set(1, 1);
  ASSERT_EQ(holder.CollectGarbage(applied, applied), 1u);
  ASSERT_TRUE(holder.registers().empty());
  EXPECT_EQ(holder.collected(), applied);

  // A new region takes the map, then the old write arrives as an op: already reflected.
  LwwMap fresh;
  fresh.Merge(holder);
  fresh.Apply(Set("f", "old"), Stamp(10, 0), {0, 1}, nullptr);
  EXPECT_TRUE(fresh.Visible().empty());

  // A copy restored from before the delete merges in either order without resurrecting it.
  LwwMap restored;
  restored.Apply(Set("f", "old"), Stamp(10, 0), {0, 1}, nullptr);
  LwwMap a = restored, b = holder;
  a.Merge(holder);
  b.Merge(restored);
  EXPECT_TRUE(a.Visible().empty());
  EXPECT_TRUE(b.Visible().empty());

  // A write the collected vector does not cover still wins as usual.
  a.Apply(Set("f", "new"), Stamp(30, 0), {0, 2}, nullptr);
  EXPECT_EQ(a.Visible().at("f"), "new");
}

TEST(LwwMapTest, CollectedVectorIsBookkeepingOutsideTheContentEncoding) {
  LwwMap m;
  m.Apply(Delete("f"), Stamp(20, 1), {1, 1}, nullptr);
  VersionVector applied;
  applied.Set(1, 1);
  ASSERT_EQ(m.CollectGarbage(applied, applied), 1u);
  pb::LwwMap with, without;
  m.Encode(&with);
  m.Encode(&without, /*with_collected=*/false);
  EXPECT_TRUE(with.has_collected());
  EXPECT_FALSE(without.has_collected());
  auto decoded = LwwMap::Decode(with);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, m);
}

TEST(LwwMapTest, MaxStampCoversFieldsAndClearMark) {
  LwwMap m;
  EXPECT_FALSE(m.MaxStamp().has_value());
  m.Apply(Set("a", "1"), Stamp(10, 0), {0, 1}, nullptr);
  m.Apply(Delete("b"), Stamp(12, 1), {1, 1}, nullptr);
  EXPECT_EQ(m.MaxStamp(), Stamp(12, 1));
  m.Apply(Clear(), Stamp(20, 0), {0, 2}, nullptr);
  EXPECT_EQ(m.MaxStamp(), Stamp(20, 0));
}

TEST(LwwMapTest, BadOpsAreBugs) {
  LwwMap m;
  EXPECT_DEATH(m.Apply(Set("a", "1"), Stamp(1, 1), {0, 1}, nullptr), "MERIDIAN_ASSERT");
  EXPECT_DEATH(m.Apply(LwwMapOp{false, {{"a", "1"}, {"a", "2"}}}, Stamp(1, 0), {0, 1}, nullptr),
               "MERIDIAN_ASSERT");
}

// --- Codec -----------------------------------------------------------------------------------

pb::LwwMap Encoded(const LwwMap& m) {
  pb::LwwMap out;
  m.Encode(&out);
  return out;
}

TEST(LwwMapCodecTest, RejectsMalformed) {
  LwwMap m;
  m.Apply(Clear(), Stamp(5, 1), {1, 1}, nullptr);
  m.Apply(LwwMapOp{false, {{"a", "1"}, {"b", std::nullopt}}}, Stamp(10, 0), {0, 1}, nullptr);
  const pb::LwwMap good = Encoded(m);
  ASSERT_TRUE(LwwMap::Decode(good).ok());

  pb::LwwMap unsorted = good;
  unsorted.mutable_fields()->SwapElements(0, 1);
  pb::LwwMap duplicate = good;
  duplicate.mutable_fields(1)->set_name("a");
  pb::LwwMap bad_region = good;
  bad_region.mutable_fields(0)->mutable_reg()->mutable_stamp()->set_region(kMaxRegions);
  bad_region.mutable_fields(0)->mutable_reg()->mutable_writer()->set_origin(kMaxRegions);
  pb::LwwMap writer_mismatch = good;
  writer_mismatch.mutable_fields(0)->mutable_reg()->mutable_writer()->set_origin(1);
  pb::LwwMap zero_seq = good;
  zero_seq.mutable_fields(0)->mutable_reg()->mutable_writer()->set_seq(0);
  pb::LwwMap no_stamp = good;
  no_stamp.mutable_fields(0)->mutable_reg()->clear_stamp();
  pb::LwwMap no_writer = good;
  no_writer.mutable_fields(0)->mutable_reg()->clear_writer();
  pb::LwwMap no_register = good;
  no_register.mutable_fields(0)->clear_reg();
  pb::LwwMap below_clear = good;
  below_clear.mutable_fields(0)->mutable_reg()->mutable_stamp()->mutable_time()->set_physical_ms(1);
  pb::LwwMap valued_clear = good;
  valued_clear.mutable_cleared()->set_value("x");

  for (const pb::LwwMap* bad : {&unsorted, &duplicate, &bad_region, &writer_mismatch, &zero_seq,
                                &no_stamp, &no_writer, &no_register, &below_clear, &valued_clear}) {
    const auto decoded = LwwMap::Decode(*bad);
    ASSERT_FALSE(decoded.ok()) << bad->ShortDebugString();
    EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
    EXPECT_FALSE(decoded.status().message().empty());
  }
}

TEST(LwwMapCodecTest, EmptyAndTombstoneEncodeDistinctly) {
  LwwMap empty_value, tombstone;
  empty_value.Apply(Set("a", ""), Stamp(1, 0), {0, 1}, nullptr);
  tombstone.Apply(Delete("a"), Stamp(1, 0), {0, 1}, nullptr);
  EXPECT_NE(crdt_testing::Bytes(empty_value), crdt_testing::Bytes(tombstone));
  EXPECT_EQ(*LwwMap::Decode(Encoded(empty_value)), empty_value);
  EXPECT_EQ(*LwwMap::Decode(Encoded(tombstone)), tombstone);
}

// Issue 19, item 8: deleting a profile tombstones the fields it saw, at its own stamp. A field
// it did not see survives; a concurrent write to a field it saw meets the tombstone under LWW.
TEST(LwwMapTest, DeleteAllRemovesTheFieldsItSawAndNothingElse) {
  LwwMap us, eu;
  us.Apply(Set("name", "ann"), Stamp(10, 0), {0, 1}, nullptr);
  us.Apply(Set("city", "oslo"), Stamp(11, 0), {0, 2}, nullptr);
  eu.Merge(us);
  const LwwMapOp deleted = eu.PrepareDeleteAll();
  EXPECT_FALSE(deleted.clear);
  ASSERT_EQ(deleted.fields.size(), 2u);
  eu.Apply(deleted, Stamp(20, 1), {1, 1}, nullptr);
  EXPECT_FALSE(eu.HasLiveField());
  EXPECT_TRUE(eu.Visible().empty());
  // Concurrent at us, stamped below the delete: a field the delete never saw, and one it did.
  us.Apply(Set("bio", "hi"), Stamp(15, 0), {0, 3}, nullptr);
  us.Apply(Set("name", "bob"), Stamp(16, 0), {0, 4}, nullptr);
  LwwMap ops_at_us = us;
  ops_at_us.Apply(deleted, Stamp(20, 1), {1, 1}, nullptr);
  eu.Merge(us);
  EXPECT_EQ(eu.Visible(), ops_at_us.Visible());
  EXPECT_EQ(eu.Visible(), (std::map<std::string, std::string>{{"bio", "hi"}}));
  EXPECT_TRUE(eu.HasLiveField());
  EXPECT_TRUE(LwwMap{}.PrepareDeleteAll().fields.empty());
}

// --- Properties on states reached by simulated regions ------------------------------------------

struct LwwOp {
  LwwMapOp op;
  WriteStamp stamp;
  Dot dot;
};

struct LwwModel {
  using State = LwwMap;
  using Op = LwwOp;

  explicit LwwModel(size_t regions) : clocks(regions) {}

  std::optional<Op> Make(const State& s, RegionId r, Dot dot, uint8_t a, uint8_t b) {
    now_ms += a % 3;  // regions often share a millisecond, so the region tiebreak gets exercised
    const WriteStamp stamp{clocks[r].Now(now_ms + r % 2), r};
    // Stamps follow causality. (Double parentheses: RC_ASSERT would not short-circuit `||`.)
    RC_ASSERT((!s.MaxStamp().has_value() || *s.MaxStamp() < stamp));
    static const char* const kFields[] = {"a", "b", "c"};
    const std::string field = kFields[b % 3];
    const std::string value = "r" + std::to_string(r) + "#" + std::to_string(dot.seq);
    LwwMapOp op;
    if (b % 11 == 10) {  // a delete of the whole profile (no op when it shows no field)
      op = s.PrepareDeleteAll();
      if (op.fields.empty()) return std::nullopt;
      return LwwOp{op, stamp, dot};
    }
    switch (a / 3 % 6) {
      case 0:
      case 1:
        op.fields = {{field, value}};
        break;
      case 2:
        op.fields = {{field, std::nullopt}};
        break;
      case 3:
        op.clear = true;
        break;
      case 4:  // blob put: the whole object at one stamp
        op.clear = true;
        op.fields = {{field, value}, {kFields[(b + 1) % 3], value}};
        break;
      default:  // a field-mode PUT of several fields
        op.fields = {{kFields[(b + 2) % 3], value}, {field, std::nullopt}};
        break;
    }
    return LwwOp{op, stamp, dot};
  }

  void Apply(State& s, const Op& op) { s.Apply(op.op, op.stamp, op.dot, nullptr); }
  // The region's HLC observes every stamp it applies, by op or by merge (as the replica must).
  void Delivered(RegionId at, const Op& op) { clocks[at].Observe(op.stamp.time, now_ms); }
  void Synced(RegionId at, const State& s) {
    if (s.MaxStamp().has_value()) clocks[at].Observe(s.MaxStamp()->time, now_ms);
  }

  std::vector<HybridClock> clocks;
  uint64_t now_ms = 1000;
};

RC_GTEST_PROP(LwwMapProp, MergeIsCommutativeAssociativeIdempotent,
              (uint8_t regions, const Script& script)) {
  Sim<LwwModel> sim(crdt_testing::RegionCount(regions));
  sim.Run(script);
  crdt_testing::CheckMergeLaws(sim);
}

RC_GTEST_PROP(LwwMapProp, OpsInCausalOrderAndMergeConverge,
              (uint8_t regions, const Script& script)) {
  Sim<LwwModel> sim(crdt_testing::RegionCount(regions));
  sim.Run(script);
  crdt_testing::CheckOpsAndMergeConverge(sim);
}

RC_GTEST_PROP(LwwMapProp, CodecRoundTripsAndIsCanonical, (uint8_t regions, const Script& script)) {
  Sim<LwwModel> sim(crdt_testing::RegionCount(regions));
  sim.Run(script);
  crdt_testing::CheckStateCodec(sim);
}

// Garbage collection at stable vectors, interleaved with everything else, never resurrects a
// deleted value: after catching up, every region shows what one replica applying all ops shows.
RC_GTEST_PROP(LwwMapProp, CollectGarbageAtStableVectorsKeepsVisibleConvergent,
              (uint8_t regions, const Script& script)) {
  Sim<LwwModel> sim(crdt_testing::RegionCount(regions), /*collect_garbage=*/true);
  sim.Run(script);
  const LwwMap reference = sim.Reference();
  RC_ASSERT(sim.MergeAll().Visible() == reference.Visible());
  // Collecting drops exactly the covered tombstones and never changes what is visible.
  const VersionVector stable = sim.Stable();
  for (LwwMap s : sim.states()) {
    const auto visible = s.Visible();
    const size_t before = s.TombstoneCount();
    const size_t dropped = s.CollectGarbage(stable, stable);
    RC_CLASSIFY(dropped > 0, "collected");
    RC_ASSERT(s.TombstoneCount() == before - dropped);
    RC_ASSERT(s.Visible() == visible);
    for (const auto& [name, reg] : s.registers()) {
      RC_ASSERT((!reg.IsTombstone() || !stable.Covers(reg.writer)));
    }
    RC_ASSERT((!s.clear_mark().has_value() || !stable.Covers(s.clear_mark()->writer)));
  }
  for (RegionId r = 0; r < sim.states().size(); ++r)
    sim.CatchUp(r);
  // Once every region has everything, everything is stable and no tombstone needs to stay.
  const VersionVector all = sim.Stable();
  for (LwwMap& s : sim.mutable_states()) {
    RC_ASSERT(s.Visible() == reference.Visible());
    (void)s.CollectGarbage(all, all);
    RC_ASSERT(s.TombstoneCount() == 0u);
    RC_ASSERT(s.Visible() == reference.Visible());
  }
}

}  // namespace
}  // namespace meridian
