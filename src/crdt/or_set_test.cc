#include "crdt/or_set.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "crdt/crdt_test_util.h"

namespace meridian {
namespace {

using crdt_testing::Script;
using crdt_testing::Sim;
using Elements = std::vector<std::string>;

// Prepares and applies a local op, as the origin region does; returns the op to replicate.
OrSetOp Add(OrSet& s, const std::string& element, RegionId origin) {
  OrSetOp op = s.PrepareAdd(element, origin);
  EXPECT_TRUE(s.Apply(op));
  return op;
}
OrSetOp Remove(OrSet& s, const std::string& element) {
  OrSetOp op = s.PrepareRemove(element);
  s.Apply(op);
  return op;
}

size_t DotCount(const OrSet& s) {
  size_t n = 0;
  for (const auto& [element, dots] : s.entries())
    n += dots.size();
  return n;
}

TEST(OrSetTest, AddAndRemove) {
  OrSet s;
  Add(s, "go", 0);
  Add(s, "cpp", 0);
  EXPECT_EQ(s.Elements(), (Elements{"cpp", "go"}));
  EXPECT_TRUE(s.Contains("go"));
  Remove(s, "go");
  EXPECT_EQ(s.Elements(), (Elements{"cpp"}));
  EXPECT_FALSE(s.Apply(s.PrepareRemove("absent")));
}

TEST(OrSetTest, ConcurrentAddWinsOverRemove) {
  OrSet us, eu;
  const OrSetOp first = Add(us, "x", 0);
  eu.Apply(first);
  const OrSetOp remove = Remove(us, "x");  // observed only (0,1)
  const OrSetOp readd = Add(eu, "x", 1);   // concurrent: a dot the remove never saw
  us.Apply(readd);
  eu.Apply(remove);
  EXPECT_EQ(us.Elements(), (Elements{"x"}));
  EXPECT_EQ(us, eu);
  EXPECT_EQ(us.entries().at("x"), (std::vector<Dot>{{1, 1}}));
}

TEST(OrSetTest, RemoveOnlyRemovesObservedDots) {
  OrSet us, eu;
  eu.Apply(Add(us, "x", 0));
  const OrSetOp remove = eu.PrepareRemove("x");
  EXPECT_EQ(remove.observed, (std::vector<Dot>{{0, 1}}));
  Add(us, "x", 0);  // (0,2), replacing (0,1): unseen by the remove
  us.Apply(remove);
  EXPECT_TRUE(us.Contains("x"));
  EXPECT_EQ(us.entries().at("x"), (std::vector<Dot>{{0, 2}}));
}

TEST(OrSetTest, ReAddAfterRemove) {
  OrSet s;
  Add(s, "x", 0);
  Remove(s, "x");
  EXPECT_FALSE(s.Contains("x"));
  Add(s, "x", 1);
  EXPECT_TRUE(s.Contains("x"));
  OrSet other;
  other.Merge(s);
  EXPECT_EQ(other, s);
}

TEST(OrSetTest, DuplicateAddIsIgnored) {
  OrSet us, eu;
  const OrSetOp add = Add(us, "x", 0);
  EXPECT_TRUE(eu.Apply(add));
  const OrSet before = eu;
  EXPECT_FALSE(eu.Apply(add));  // redelivered while live
  EXPECT_EQ(eu, before);
  Remove(eu, "x");
  EXPECT_FALSE(eu.Apply(add));  // redelivered after its remove: no resurrection
  EXPECT_FALSE(eu.Contains("x"));
}

TEST(OrSetTest, NoTombstonesAfterRemoves) {
  OrSet s;
  for (int i = 0; i < 50; ++i)
    Add(s, "e" + std::to_string(i), i % 3);
  for (int i = 0; i < 50; ++i)
    Remove(s, "e" + std::to_string(i));
  EXPECT_TRUE(s.entries().empty());
  EXPECT_EQ(s.context().Total(), 50u);  // one vector remembers every removed dot
  pb::OrSet encoded;
  s.Encode(&encoded);
  EXPECT_EQ(encoded.entries_size(), 0);
  // Re-adding one element many times keeps one dot: each add replaces what it observed.
  for (int i = 0; i < 20; ++i)
    Add(s, "x", i % 3);
  EXPECT_EQ(DotCount(s), 1u);
}

TEST(OrSetTest, MergeMatchesOps) {
  OrSet us, eu;
  eu.Apply(Add(us, "x", 0));
  Add(us, "y", 0);
  Remove(eu, "x");
  Add(eu, "z", 1);
  OrSet a = us, b = eu;
  a.Merge(eu);
  b.Merge(us);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.Elements(), (Elements{"y", "z"}));
}

TEST(OrSetTest, OutOfCausalOrderIsABug) {
  OrSet s;
  OrSetOp skip{"x", true, Dot{0, 2}, {}};
  EXPECT_DEATH(s.Apply(skip), "MERIDIAN_ASSERT");
  OrSetOp unseen{"x", false, Dot{}, {Dot{0, 1}}};
  EXPECT_DEATH(s.Apply(unseen), "MERIDIAN_ASSERT");
}

// Issue 19, item 8: deleting a whole set removes every add it saw; an add it did not see (even
// of an element it removed) survives.
TEST(OrSetTest, DeleteRemovesWhatItSawAndAConcurrentAddSurvives) {
  OrSet us, eu;
  Add(us, "a", 0);
  Add(us, "b", 0);
  eu.Merge(us);
  const std::vector<OrSetOp> deleted = eu.PrepareRemoveAll();
  ASSERT_EQ(deleted.size(), 2u);
  for (const OrSetOp& t : deleted)
    eu.Apply(t);
  EXPECT_TRUE(eu.entries().empty());
  Add(us, "b", 0);  // concurrent with the delete: a new dot
  Add(us, "c", 0);
  OrSet ops_at_us = us;
  for (const OrSetOp& t : deleted)
    ops_at_us.Apply(t);
  eu.Merge(us);
  EXPECT_EQ(ops_at_us, eu);
  EXPECT_EQ(eu.Elements(), (std::vector<std::string>{"b", "c"}));
  EXPECT_TRUE(OrSet{}.PrepareRemoveAll().empty());
}

TEST(OrSetCodecTest, RejectsMalformed) {
  OrSet s;
  Add(s, "a", 0);
  Add(s, "b", 1);
  Add(s, "b", 2);  // replaces (1,1)
  Add(s, "c", 1);
  pb::OrSet good;
  s.Encode(&good);
  ASSERT_EQ(*OrSet::Decode(good), s);

  pb::OrSet unsorted = good;
  unsorted.mutable_entries()->SwapElements(0, 1);
  pb::OrSet duplicate_element = good;
  duplicate_element.mutable_entries(1)->set_element("a");
  pb::OrSet uncovered = good;
  uncovered.mutable_entries(0)->mutable_dots(0)->set_seq(9);
  pb::OrSet bad_origin = good;
  bad_origin.mutable_entries(0)->mutable_dots(0)->set_origin(kMaxRegions);
  pb::OrSet zero_seq = good;
  zero_seq.mutable_entries(0)->mutable_dots(0)->set_seq(0);
  pb::OrSet empty_entry = good;
  empty_entry.mutable_entries(0)->clear_dots();
  pb::OrSet shared_dot = good;
  *shared_dot.mutable_entries(2)->mutable_dots(0) = good.entries(0).dots(0);
  pb::OrSet unsorted_dots = good;
  *unsorted_dots.mutable_entries(0)->add_dots() = good.entries(0).dots(0);
  pb::OrSet no_context = good;
  no_context.clear_context();
  pb::OrSet bad_context = good;
  bad_context.mutable_context()->add_regions(kMaxRegions);
  bad_context.mutable_context()->add_values(1);

  for (const pb::OrSet* bad :
       {&unsorted, &duplicate_element, &uncovered, &bad_origin, &zero_seq, &empty_entry,
        &shared_dot, &unsorted_dots, &no_context, &bad_context}) {
    const auto decoded = OrSet::Decode(*bad);
    ASSERT_FALSE(decoded.ok()) << bad->ShortDebugString();
    EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  }
}

// --- Properties on states reached by simulated regions ------------------------------------------

// An op is what one request makes: one add or remove, or a delete of the set (a remove of every
// element it shows; none when it shows nothing, as the replica makes no op then).
struct OrSetModel {
  using State = OrSet;
  using Op = std::vector<OrSetOp>;

  explicit OrSetModel(size_t) {}

  std::optional<Op> Make(const State& s, RegionId r, Dot, uint8_t a, uint8_t b) {
    static const char* const kElements[] = {"x", "y", "z"};
    const std::string element = kElements[b % 3];
    if (a % 7 == 6) {
      Op all = s.PrepareRemoveAll();
      if (all.empty()) return std::nullopt;
      return all;
    }
    return Op{a % 3 == 0 ? s.PrepareRemove(element) : s.PrepareAdd(element, r)};
  }

  void Apply(State& s, const Op& op) {
    for (const OrSetOp& t : op)
      (void)s.Apply(t);
  }
};

RC_GTEST_PROP(OrSetProp, MergeIsCommutativeAssociativeIdempotent,
              (uint8_t regions, const Script& script)) {
  Sim<OrSetModel> sim(crdt_testing::RegionCount(regions));
  sim.Run(script);
  crdt_testing::CheckMergeLaws(sim);
}

RC_GTEST_PROP(OrSetProp, OpsInCausalOrderAndMergeConverge,
              (uint8_t regions, const Script& script)) {
  Sim<OrSetModel> sim(crdt_testing::RegionCount(regions));
  sim.Run(script);
  crdt_testing::CheckOpsAndMergeConverge(sim);
}

RC_GTEST_PROP(OrSetProp, CodecRoundTripsAndIsCanonical, (uint8_t regions, const Script& script)) {
  Sim<OrSetModel> sim(crdt_testing::RegionCount(regions));
  sim.Run(script);
  crdt_testing::CheckStateCodec(sim);
}

// No per-removed-element state: live dots are bounded by one per (element, origin).
RC_GTEST_PROP(OrSetProp, StateHoldsNoTombstones, (uint8_t regions, const Script& script)) {
  Sim<OrSetModel> sim(crdt_testing::RegionCount(regions));
  sim.Run(script);
  for (const OrSet& s : sim.snapshots()) {
    for (const auto& [element, dots] : s.entries()) {
      RC_ASSERT(!dots.empty());
      for (size_t i = 1; i < dots.size(); ++i)
        RC_ASSERT(dots[i - 1].origin != dots[i].origin);
    }
  }
}

}  // namespace
}  // namespace meridian
