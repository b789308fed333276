#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "crdt/crdt_test_util.h"
#include "crdt/op_codec.h"
#include "crdt/or_set.h"

namespace meridian {
namespace {

using crdt_testing::Script;
using crdt_testing::Sim;
using Values = std::vector<std::string>;

// A stamp that grows with the write's per-key sequence, ties broken by origin (as WriteStamp's).
WriteStamp StampOf(const MvOp& op) {
  return WriteStamp{{op.dot.seq, 0}, op.dot.origin};
}

MvOp Write(MvRegister& r, const std::string& value, RegionId origin) {
  MvOp op = r.PrepareWrite(value, origin);
  EXPECT_TRUE(r.Apply(op, StampOf(op)));
  return op;
}

TEST(MvRegisterTest, SequentialWritesKeepOneValue) {
  MvRegister r;
  EXPECT_TRUE(r.Values().empty());
  Write(r, "a", 0);
  Write(r, "b", 0);
  EXPECT_EQ(r.Values(), (Values{"b"}));
}

TEST(MvRegisterTest, ConcurrentWritesBecomeSiblings) {
  MvRegister us, eu;
  const MvOp a = Write(us, "from-us", 0);
  const MvOp b = Write(eu, "from-eu", 1);
  us.Apply(b, StampOf(b));
  eu.Apply(a, StampOf(a));
  EXPECT_EQ(us.Values(), (Values{"from-us", "from-eu"}));  // dot order
  EXPECT_EQ(us.sibling_count(), 2u);
  EXPECT_EQ(us, eu);
}

// Strings read as last-writer-wins: the sibling with the highest stamp, whatever its dot, in
// every replica; the loser stays visible as a sibling until a write replaces both.
TEST(MvRegisterTest, LatestIsTheSiblingWithTheHighestStamp) {
  MvRegister us, eu;
  EXPECT_EQ(us.Latest(), std::nullopt);
  const MvOp early = us.PrepareWrite("us-later", 0);
  ASSERT_TRUE(us.Apply(early, WriteStamp{{200, 0}, 0}));
  const MvOp late = eu.PrepareWrite("eu-earlier", 1);
  ASSERT_TRUE(eu.Apply(late, WriteStamp{{100, 0}, 1}));
  us.Apply(late, WriteStamp{{100, 0}, 1});
  eu.Apply(early, WriteStamp{{200, 0}, 0});
  EXPECT_EQ(us.Values(), (Values{"us-later", "eu-earlier"}));
  EXPECT_EQ(us.Latest(), "us-later");
  EXPECT_EQ(eu.Latest(), "us-later");
  // Equal times: the region breaks the tie, as in every LWW comparison.
  MvRegister tie;
  tie.Apply(tie.PrepareWrite("from-0", 0), WriteStamp{{300, 0}, 0});
  MvRegister other;
  const MvOp from1 = other.PrepareWrite("from-1", 1);
  tie.Apply(from1, WriteStamp{{300, 0}, 1});
  EXPECT_EQ(tie.Latest(), "from-1");
  // The stamps survive the codec and a merge.
  pb::MvRegister encoded;
  us.Encode(&encoded);
  auto decoded = MvRegister::Decode(encoded);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, us);
  MvRegister merged;
  merged.Merge(eu);
  EXPECT_EQ(merged.Latest(), "us-later");
  // The next write observed both and replaces them.
  const MvOp resolved = us.PrepareWrite("resolved", 0);
  us.Apply(resolved, WriteStamp{{150, 0}, 0});
  EXPECT_EQ(us.Latest(), "resolved");
  EXPECT_EQ(us.sibling_count(), 1u);
}

TEST(MvRegisterTest, WriteThatObservedSiblingsCollapsesThem) {
  MvRegister us, eu, ap;
  const MvOp a = Write(us, "a", 0);
  const MvOp b = Write(eu, "b", 1);
  us.Apply(b, StampOf(b));
  const MvOp resolved = Write(us, "resolved", 0);  // saw both siblings
  EXPECT_EQ(resolved.observed, (std::vector<Dot>{{0, 1}, {1, 1}}));
  EXPECT_EQ(us.Values(), (Values{"resolved"}));
  for (const MvOp& op : {b, a, resolved})
    ap.Apply(op, StampOf(op));  // another causal order
  EXPECT_EQ(ap, us);
  eu.Merge(us);  // state transfer agrees
  EXPECT_EQ(eu, us);
}

TEST(MvRegisterTest, DuplicateWriteIsIgnored) {
  MvRegister us, eu;
  const MvOp a = Write(us, "a", 0);
  EXPECT_TRUE(eu.Apply(a, StampOf(a)));
  EXPECT_FALSE(eu.Apply(a, StampOf(a)));
  Write(eu, "b", 1);
  EXPECT_FALSE(eu.Apply(a, StampOf(a)));  // overwritten, then redelivered: stays overwritten
  EXPECT_EQ(eu.Values(), (Values{"b"}));
}

// Issue 19, item 8: a delete removes the siblings it saw and writes nothing; a concurrent write
// survives it, and a later write starts afresh.
TEST(MvRegisterTest, DeleteRemovesWhatItSawAndAConcurrentWriteSurvives) {
  MvRegister us, eu;
  const MvOp a = Write(us, "a", 0);
  eu.Apply(a, StampOf(a));
  const MvOp deleted = eu.PrepareDelete();
  EXPECT_TRUE(deleted.remove);
  EXPECT_EQ(deleted.observed, (std::vector<Dot>{{0, 1}}));
  EXPECT_TRUE(eu.Apply(deleted, StampOf(deleted)));
  EXPECT_EQ(eu.sibling_count(), 0u);
  EXPECT_FALSE(eu.Apply(deleted, StampOf(deleted)));  // nothing left to remove
  const MvOp concurrent = Write(us, "b", 0);          // us had not seen the delete
  us.Apply(deleted, StampOf(deleted));
  eu.Apply(concurrent, StampOf(concurrent));
  EXPECT_EQ(us, eu);
  EXPECT_EQ(eu.Values(), (Values{"b"}));
  // The codec: no dot, no value, the remove flag.
  pb::MvOp encoded;
  Encode(deleted, &encoded);
  EXPECT_FALSE(encoded.has_dot());
  auto decoded = Decode(encoded);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, deleted);
  pb::MvOp with_dot = encoded;
  with_dot.mutable_dot()->set_seq(3);
  EXPECT_FALSE(Decode(with_dot).ok());
}

TEST(MvRegisterCodecTest, RejectsMalformed) {
  MvRegister us, eu, ap;
  us.Apply(Write(eu, "e", 1), WriteStamp{{1, 0}, 1});
  Write(us, "u", 0);                                   // (0,1) replaces (1,1)
  us.Apply(Write(ap, "p", 2), WriteStamp{{1, 0}, 2});  // (2,1) concurrent: a sibling
  ASSERT_EQ(us.sibling_count(), 2u);
  pb::MvRegister good;
  us.Encode(&good);
  ASSERT_EQ(*MvRegister::Decode(good), us);

  pb::MvRegister unsorted = good;
  unsorted.mutable_siblings()->SwapElements(0, 1);
  pb::MvRegister uncovered = good;
  uncovered.mutable_siblings(0)->mutable_dot()->set_seq(7);
  pb::MvRegister bad_origin = good;
  bad_origin.mutable_siblings(0)->mutable_dot()->set_origin(kMaxRegions);
  pb::MvRegister no_dot = good;
  no_dot.mutable_siblings(0)->clear_dot();
  pb::MvRegister no_context = good;
  no_context.clear_context();
  for (const pb::MvRegister* bad : {&unsorted, &uncovered, &bad_origin, &no_dot, &no_context}) {
    const auto decoded = MvRegister::Decode(*bad);
    ASSERT_FALSE(decoded.ok()) << bad->ShortDebugString();
    EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  }
  // A sibling need not be its origin's latest write (issue 16: writes with a context).
  pb::MvRegister origin_wrote_since = good;
  origin_wrote_since.mutable_context()->set_values(0, 5);
  EXPECT_TRUE(MvRegister::Decode(origin_wrote_since).ok());
}

// --- Writes with a client's context (issue 16) ---------------------------------------------------

MvOp WriteSeen(MvRegister& r, const std::string& value, RegionId origin,
               const VersionVector& seen) {
  MvOp op = r.PrepareWrite(value, origin, &seen);
  EXPECT_TRUE(r.Apply(op, StampOf(op)));
  return op;
}

// A client read the register empty; another write lands in the same region before the client
// writes: the client's write keeps it as a sibling, so one origin holds two siblings. Every
// causal order and a state transfer agree, the state survives the codec, and a write carrying
// the context of a read that showed both resolves them.
TEST(MvRegisterContextTest, TwoSiblingsOfOneOrigin) {
  MvRegister us, eu, ap;
  const VersionVector read_empty = us.context();
  const MvOp other = Write(us, "other-client", 0);
  const MvOp mine = WriteSeen(us, "mine", 0, read_empty);
  EXPECT_TRUE(mine.observed.empty());
  EXPECT_EQ(mine.dot, (Dot{0, 2}));
  EXPECT_EQ(us.Values(), (Values{"other-client", "mine"}));
  for (const MvOp& op : {other, mine}) {
    ASSERT_TRUE(eu.CheckApplicable(op).ok());  // no longer refused: "leaves its origin's sibling"
    eu.Apply(op, StampOf(op));
  }
  EXPECT_EQ(eu, us);
  ap.Merge(us);
  EXPECT_EQ(ap, us);
  pb::MvRegister encoded;
  us.Encode(&encoded);
  auto decoded = MvRegister::Decode(encoded);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, us);
  const VersionVector read_both = eu.context();
  const MvOp resolved = WriteSeen(eu, "resolved", 1, read_both);
  EXPECT_EQ(resolved.observed, (std::vector<Dot>{{0, 1}, {0, 2}}));
  us.Apply(resolved, StampOf(resolved));
  EXPECT_EQ(us.Values(), (Values{"resolved"}));
  EXPECT_EQ(us, eu);
}

// A write with a context replaces what the context covers; a sibling written after the read
// (not covered) survives, in every region, and a delete with a context does the same.
TEST(MvRegisterContextTest, WriteAndDeleteReplaceOnlyWhatTheContextCovers) {
  MvRegister us, eu;
  const MvOp a = Write(us, "a", 0);
  eu.Apply(a, StampOf(a));
  const VersionVector read_a = eu.context();
  const MvOp b = Write(us, "b", 0);  // after the read: b replaced a at us
  eu.Apply(b, StampOf(b));
  const MvOp c = WriteSeen(eu, "c", 1, read_a);  // a is gone already; b is not covered
  EXPECT_TRUE(c.observed.empty());
  EXPECT_EQ(eu.Values(), (Values{"b", "c"}));
  us.Apply(c, StampOf(c));
  EXPECT_EQ(us, eu);
  // Delete with the context of a read that showed only c: b survives.
  VersionVector read_c;
  read_c.Advance(Dot{1, 1});
  const MvOp deleted = eu.PrepareDelete(&read_c);
  EXPECT_EQ(deleted.observed, (std::vector<Dot>{{1, 1}}));
  eu.Apply(deleted, StampOf(deleted));
  us.Apply(deleted, StampOf(deleted));
  EXPECT_EQ(eu.Values(), (Values{"b"}));
  EXPECT_EQ(us, eu);
  // Without a context the write still replaces everything shown.
  const MvOp all = Write(us, "all", 0);
  EXPECT_EQ(all.observed, (std::vector<Dot>{{0, 2}}));
  EXPECT_EQ(us.Values(), (Values{"all"}));
}

// --- Properties on states reached by simulated regions ------------------------------------------

struct MvModel {
  using State = MvRegister;
  using Op = MvOp;

  explicit MvModel(size_t) {}

  std::optional<Op> Make(const State& s, RegionId r, Dot dot, uint8_t a, uint8_t) {
    if (a % 5 == 4) {  // a delete (no op when there is nothing to delete)
      if (s.sibling_count() == 0) return std::nullopt;
      return s.PrepareDelete();
    }
    return s.PrepareWrite("r" + std::to_string(r) + "#" + std::to_string(dot.seq), r);
  }

  void Apply(State& s, const Op& op) { (void)s.Apply(op, StampOf(op)); }
};

// As MvModel, but some writes and deletes carry a client's context that misses the latest write
// of one origin (a read made before it): several siblings of one origin then coexist.
struct MvContextModel : MvModel {
  using MvModel::MvModel;

  std::optional<Op> Make(const State& s, RegionId r, Dot dot, uint8_t a, uint8_t b) {
    if (b % 3 != 0) return MvModel::Make(s, r, dot, a, b);
    VersionVector seen;
    const RegionId stale = static_cast<RegionId>(b / 3 % kMaxRegions);
    for (RegionId o = 0; o < kMaxRegions; ++o) {
      const uint64_t n = s.context().Get(o) - (o == stale && s.context().Get(o) > 0 ? 1 : 0);
      seen.Set(o, n);
    }
    if (a % 5 == 4) {
      if (s.sibling_count() == 0) return std::nullopt;
      return s.PrepareDelete(&seen);
    }
    return s.PrepareWrite("r" + std::to_string(r) + "#" + std::to_string(dot.seq), r, &seen);
  }
};

RC_GTEST_PROP(MvRegisterProp, WithContextsMergeLawsConvergenceAndCodecHold,
              (uint8_t regions, const Script& script)) {
  Sim<MvContextModel> sim(crdt_testing::RegionCount(regions));
  sim.Run(script);
  crdt_testing::CheckMergeLaws(sim);
  crdt_testing::CheckOpsAndMergeConverge(sim);
  crdt_testing::CheckStateCodec(sim);
}

RC_GTEST_PROP(MvRegisterProp, MergeIsCommutativeAssociativeIdempotent,
              (uint8_t regions, const Script& script)) {
  Sim<MvModel> sim(crdt_testing::RegionCount(regions));
  sim.Run(script);
  crdt_testing::CheckMergeLaws(sim);
}

RC_GTEST_PROP(MvRegisterProp, OpsInCausalOrderAndMergeConverge,
              (uint8_t regions, const Script& script)) {
  Sim<MvModel> sim(crdt_testing::RegionCount(regions));
  sim.Run(script);
  crdt_testing::CheckOpsAndMergeConverge(sim);
}

RC_GTEST_PROP(MvRegisterProp, CodecRoundTripsAndIsCanonical,
              (uint8_t regions, const Script& script)) {
  Sim<MvModel> sim(crdt_testing::RegionCount(regions));
  sim.Run(script);
  crdt_testing::CheckStateCodec(sim);
}

// Without clients' contexts, siblings are pairwise concurrent writes, so there are never more than
// there are regions (with contexts, one region may hold several: MvContextModel).
RC_GTEST_PROP(MvRegisterProp, SiblingsAreBoundedByRegions,
              (uint8_t regions, const Script& script)) {
  const size_t n = crdt_testing::RegionCount(regions);
  Sim<MvModel> sim(n);
  sim.Run(script);
  size_t most = 0;
  for (const MvRegister& r : sim.snapshots())
    most = std::max(most, r.sibling_count());
  RC_ASSERT(most <= n);
  RC_TAG(most);
}

}  // namespace
}  // namespace meridian
