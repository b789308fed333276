#include "crdt/rga.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "crdt/crdt_test_util.h"

namespace meridian {

namespace crdt_testing {
template <>
struct ProtoOf<Rga> {
  using type = pb::Rga;
};
}  // namespace crdt_testing

namespace {

using crdt_testing::Script;
using crdt_testing::Sim;

TextEdit Insert(uint64_t pos, std::string text) {
  return TextEdit{true, pos, std::move(text), 0};
}
TextEdit Delete(uint64_t pos, uint64_t len) {
  return TextEdit{false, pos, "", len};
}

// Prepares and applies one request at `origin`; returns the op (for delivery elsewhere).
RgaOp Edit(Rga& s, RegionId origin, std::vector<TextEdit> edits, uint64_t seq = 1) {
  auto op = s.Prepare(TextWrite{std::move(edits)}, origin);
  EXPECT_TRUE(op.ok()) << op.status().ToString();
  EXPECT_TRUE(s.CheckApplicable(*op, origin).ok());
  s.Apply(*op, Dot{origin, seq});
  return *op;
}

TEST(RgaTest, EditsByCodePointPosition) {
  Rga s;
  Edit(s, 0, {Insert(0, "hllo")});
  Edit(s, 0, {Insert(1, "é")});
  EXPECT_EQ(s.Text(), "héllo");
  EXPECT_EQ(s.Length(), 5u);
  Edit(s, 0, {Insert(5, " wörld"), Delete(0, 1), Insert(0, "H")});
  EXPECT_EQ(s.Text(), "Héllo wörld");
  Edit(s, 0, {Delete(5, 6)});
  EXPECT_EQ(s.Text(), "Héllo");
  EXPECT_EQ(s.TombstoneCount(), 7u);
}

TEST(RgaTest, RefusesBadEditsAndChangesNothing) {
  Rga s;
  Edit(s, 0, {Insert(0, "abc")});
  const Rga before = s;
  auto code = [&](std::vector<TextEdit> edits) {
    return s.Prepare(TextWrite{std::move(edits)}, 0).status().code();
  };
  EXPECT_EQ(code({}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({Insert(4, "x")}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({Insert(0, "")}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({Insert(0, "\xC3")}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({Insert(0, "\xED\xA0\x80")}), StatusCode::kInvalidArgument);  // a surrogate
  EXPECT_EQ(code({Delete(0, 0)}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({Delete(3, 1)}), StatusCode::kInvalidArgument);
  EXPECT_EQ(code({Delete(1, 3)}), StatusCode::kInvalidArgument);
  // Positions of a later edit count in the text the earlier ones left.
  EXPECT_EQ(code({Delete(0, 2), Insert(2, "x")}), StatusCode::kInvalidArgument);
  EXPECT_TRUE(s.Prepare(TextWrite{{Delete(0, 2), Insert(1, "x")}}, 0).ok());
  EXPECT_EQ(s, before);
}

// Two regions insert at the same position concurrently: whole runs, the same text everywhere.
TEST(RgaTest, ConcurrentRunsAtOnePositionDoNotInterleave) {
  Rga base;
  const RgaOp hi = Edit(base, 0, {Insert(0, "<>")});
  Rga a = base, b = base;
  const RgaOp from_a = Edit(a, 0, {Insert(1, "abc")}, 2);
  const RgaOp from_b = Edit(b, 1, {Insert(1, "xyz")}, 1);
  a.Apply(from_b, Dot{1, 1});
  b.Apply(from_a, Dot{0, 2});
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.Text(), "<xyzabc>");  // equal lamports: region 1 sorts first
}

// The documented anomaly: text typed backwards (every character at one position) is a set of
// sibling runs, and two regions doing it concurrently interleave.
TEST(RgaTest, ConcurrentBackwardsTypingInterleaves) {
  Rga a, b;
  std::vector<RgaOp> ops_a, ops_b;
  for (const char* c : {"c", "b", "a"})
    ops_a.push_back(Edit(a, 0, {Insert(0, c)}, ops_a.size() + 1));
  for (const char* c : {"z", "y", "x"})
    ops_b.push_back(Edit(b, 1, {Insert(0, c)}, ops_b.size() + 1));
  for (size_t i = 0; i < 3; ++i) {
    a.Apply(ops_b[i], Dot{1, i + 1});
    b.Apply(ops_a[i], Dot{0, i + 1});
  }
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.Text(), "xaybzc");
}

TEST(RgaTest, AnInsertAfterSeeingAnotherSortsBeforeIt) {
  Rga s;
  Edit(s, 0, {Insert(0, "b")});
  Edit(s, 1, {Insert(0, "a")});  // at the head again, later: first
  EXPECT_EQ(s.Text(), "ab");
}

TEST(RgaTest, CollectsStableLeafTombstonesOnly) {
  Rga s;
  Edit(s, 0, {Insert(0, "abcdef")}, 1);
  Edit(s, 0, {Delete(1, 1)}, 2);  // "b": "c" hangs after it, so it stays
  Edit(s, 0, {Delete(3, 2)}, 3);  // "ef": the end of the chain, collectable
  EXPECT_EQ(s.Text(), "acd");
  VersionVector stable;
  stable.Advance(Dot{0, 1});
  stable.Advance(Dot{0, 2});
  EXPECT_EQ(s.CollectGarbage(stable, {}), 0u);  // the delete of "ef" is not stable yet
  stable.Advance(Dot{0, 3});
  EXPECT_EQ(s.CollectGarbage(stable, {}), 2u);
  EXPECT_EQ(s.ElementCount(), 4u);
  EXPECT_EQ(s.Text(), "acd");
  Edit(s, 0, {Delete(1, 2)}, 4);  // "cd": now "b" "c" "d" is a deleted tail
  stable.Advance(Dot{0, 4});
  EXPECT_EQ(s.CollectGarbage(stable, {}), 3u);
  EXPECT_EQ(s.Text(), "a");
  // A new insert still takes a lamport above everything ever held.
  const RgaOp next = Edit(s, 0, {Insert(1, "z")}, 5);
  EXPECT_EQ(next.edits[0].lamport, 7u);
}

TEST(RgaTest, MergeDropsWhatTheOtherSideCollected) {
  Rga a;
  Edit(a, 0, {Insert(0, "xy")}, 1);
  const Rga before_delete = a;
  Edit(a, 0, {Delete(1, 1)}, 2);
  VersionVector stable;
  stable.Advance(Dot{0, 1});
  stable.Advance(Dot{0, 2});
  ASSERT_EQ(a.CollectGarbage(stable, {}), 1u);
  Rga b = before_delete;
  b.Merge(a);
  EXPECT_EQ(b.Text(), "x");
  Rga c = a;
  c.Merge(before_delete);
  EXPECT_EQ(c, a);
}

TEST(RgaTest, CheckApplicableRefusesWhatCausalDeliveryExcludes) {
  Rga a;
  const RgaOp first = Edit(a, 0, {Insert(0, "ab")}, 1);
  const RgaOp second = Edit(a, 0, {Insert(2, "c")}, 2);
  Rga b;
  EXPECT_FALSE(b.CheckApplicable(second, 0).ok());  // skips the first insert's dot
  EXPECT_FALSE(b.CheckApplicable(first, 1).ok());   // a dot of another origin
  ASSERT_TRUE(b.CheckApplicable(first, 0).ok());
  b.Apply(first, Dot{0, 1});
  RgaOp bad_anchor = second;
  bad_anchor.edits[0].anchor = RgaId{Dot{0, 1}, 7};
  EXPECT_FALSE(b.CheckApplicable(bad_anchor, 0).ok());
  RgaOp low_lamport = second;
  low_lamport.edits[0].lamport = 1;
  EXPECT_FALSE(b.CheckApplicable(low_lamport, 0).ok());
  RgaOp bad_delete{{RgaEdit{{}, 0, {}, U"", {RgaId{Dot{2, 1}, 0}}}}};
  EXPECT_FALSE(b.CheckApplicable(bad_delete, 0).ok());
  EXPECT_TRUE(b.CheckApplicable(second, 0).ok());
  EXPECT_TRUE(b.CheckApplicable(first, 0).ok());  // a duplicate: ignored by Apply
  EXPECT_FALSE(b.Apply(first, Dot{0, 1}));
}

TEST(RgaCodecTest, RejectsMalformedStates) {
  Rga s;
  Edit(s, 0, {Insert(0, "ab")}, 1);
  Edit(s, 1, {Insert(0, "c"), Delete(1, 1)}, 1);
  pb::Rga good;
  s.Encode(&good);
  ASSERT_EQ(*Rga::Decode(good), s);

  pb::Rga unordered = good;
  unordered.mutable_elements()->SwapElements(0, 1);
  pb::Rga no_anchor = good;
  no_anchor.mutable_elements(2)->mutable_anchor()->mutable_dot()->set_seq(5);
  pb::Rga uncovered = good;
  uncovered.mutable_elements(0)->mutable_id()->mutable_dot()->set_seq(9);
  pb::Rga low_lamport = good;
  low_lamport.mutable_elements(2)->set_lamport(1);
  pb::Rga surrogate = good;
  surrogate.mutable_elements(0)->set_code_point(0xD800);
  pb::Rga twice = good;
  *twice.add_elements() = good.elements(0);
  pb::Rga no_context = good;
  no_context.clear_context();
  for (const pb::Rga* bad :
       {&unordered, &no_anchor, &uncovered, &low_lamport, &surrogate, &twice, &no_context}) {
    const auto decoded = Rga::Decode(*bad);
    ASSERT_FALSE(decoded.ok()) << bad->ShortDebugString();
    EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  }
}

TEST(RgaCodecTest, OpsRoundTripAndMalformedOnesAreRefused) {
  Rga s;
  Edit(s, 0, {Insert(0, "ab")}, 1);
  const RgaOp op = *s.Prepare(TextWrite{{Insert(1, "中x"), Delete(0, 2)}}, 0);
  pb::RgaOp encoded;
  Encode(op, &encoded);
  ASSERT_EQ(*Decode(encoded), op);

  pb::RgaOp empty;
  pb::RgaOp bad_text = encoded;
  bad_text.mutable_edits(0)->set_text("\xFF");
  pb::RgaOp no_lamport = encoded;
  no_lamport.mutable_edits(0)->set_lamport(0);
  pb::RgaOp both = encoded;
  *both.mutable_edits(0)->add_removed() = encoded.edits(1).removed(0);
  pb::RgaOp unsorted = encoded;
  unsorted.mutable_edits(1)->mutable_removed()->SwapElements(0, 1);
  for (const pb::RgaOp* bad : {&empty, &bad_text, &no_lamport, &both, &unsorted})
    EXPECT_FALSE(Decode(*bad).ok()) << bad->ShortDebugString();
}

// --- Properties on states reached by simulated regions ------------------------------------------

// An op is one request: one or two position edits, or a delete of the whole text.
struct RgaModel {
  struct Op {
    RgaOp op;
    Dot dot;  // the replica-level dot, which tombstones record
    bool operator==(const Op&) const = default;
  };
  using State = Rga;

  explicit RgaModel(size_t) {}

  std::optional<Op> Make(const State& s, RegionId r, Dot dot, uint8_t a, uint8_t b) {
    static const char* const kTexts[] = {"a", "xy", "é中", "qrs"};
    if (a % 11 == 10) {
      RgaOp all = s.PrepareDeleteAll();
      if (all.edits.empty()) return std::nullopt;
      return Op{std::move(all), dot};
    }
    TextWrite w;
    const uint64_t length = s.Length();
    if (a % 3 == 0 && length > 0) {
      const uint64_t pos = b % length;
      w.edits.push_back(Delete(pos, 1 + (a / 3) % std::min<uint64_t>(3, length - pos)));
    } else {
      w.edits.push_back(Insert(b % (length + 1), kTexts[a % 4]));
    }
    if (a % 5 == 4) w.edits.push_back(Insert(0, "!"));
    auto op = s.Prepare(w, r);
    RC_ASSERT(op.ok());
    return Op{*std::move(op), dot};
  }

  void Apply(State& s, const Op& op) {
    RC_ASSERT(s.CheckApplicable(op.op, op.dot.origin).ok());
    (void)s.Apply(op.op, op.dot);
  }
};

RC_GTEST_PROP(RgaProp, MergeIsCommutativeAssociativeIdempotent,
              (uint8_t regions, const Script& script)) {
  Sim<RgaModel> sim(crdt_testing::RegionCount(regions));
  sim.Run(script);
  crdt_testing::CheckMergeLaws(sim);
}

// Any delivery order consistent with causality (each region sees its own interleaving), and any
// state merges, reach the text of one replica applying every op in log order.
RC_GTEST_PROP(RgaProp, OpsInCausalOrderAndMergeConverge, (uint8_t regions, const Script& script)) {
  Sim<RgaModel> sim(crdt_testing::RegionCount(regions));
  sim.Run(script);
  crdt_testing::CheckOpsAndMergeConverge(sim);
}

RC_GTEST_PROP(RgaProp, CodecRoundTripsAndIsCanonical, (uint8_t regions, const Script& script)) {
  Sim<RgaModel> sim(crdt_testing::RegionCount(regions));
  sim.Run(script);
  crdt_testing::CheckStateCodec(sim);
  for (const auto& logged : sim.log()) {
    pb::RgaOp encoded;
    Encode(logged.op.op, &encoded);
    auto decoded = Decode(encoded);
    RC_ASSERT(decoded.ok());
    RC_ASSERT(*decoded == logged.op.op);
  }
}

// Collecting at causal stability along the way (Sim's Collect steps) changes no text: every
// region, caught up, shows the reference text, and so does a merge of any earlier state into a
// collected one (what a state transfer or anti-entropy does).
RC_GTEST_PROP(RgaProp, GarbageCollectionAtStabilityKeepsTheText,
              (uint8_t regions, const Script& script)) {
  Sim<RgaModel> sim(crdt_testing::RegionCount(regions), /*collect_garbage=*/true);
  sim.Run(script);
  const Rga reference = sim.Reference();
  for (RegionId r = 0; r < sim.states().size(); ++r)
    sim.CatchUp(r);
  const VersionVector stable = sim.Stable();
  for (Rga& s : sim.mutable_states()) {
    RC_ASSERT(s.Text() == reference.Text());
    (void)s.CollectGarbage(stable, {});
    RC_ASSERT(s.Text() == reference.Text());
  }
  for (const Rga& s : sim.states())
    RC_ASSERT(s == sim.states().front());
  for (const Rga& earlier : sim.snapshots()) {
    Rga merged = sim.states().front();
    merged.Merge(earlier);
    RC_ASSERT(merged == sim.states().front());
    Rga other_way = earlier;
    other_way.Merge(sim.states().front());
    RC_ASSERT(other_way.Text() == reference.Text());
  }
}

}  // namespace
}  // namespace meridian
