#include "crdt/op_codec.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "crdt/crdt_test_util.h"

namespace meridian {
namespace {

using crdt_testing::Script;
using crdt_testing::Sim;

template <typename Op, typename Proto>
void CheckRoundTrip(const Op& op) {
  Proto encoded;
  Encode(op, &encoded);
  std::string bytes;
  RC_ASSERT(encoded.SerializeToString(&bytes));
  Proto parsed;
  RC_ASSERT(parsed.ParseFromString(bytes));
  auto decoded = Decode(parsed);
  RC_ASSERT(decoded.ok());
  RC_ASSERT(*decoded == op);
}

// Ops as the origins prepare them: every add, remove and write of a simulated run.
struct OrSetModel {
  using State = OrSet;
  using Op = OrSetOp;
  explicit OrSetModel(size_t) {}
  std::optional<Op> Make(const State& s, RegionId r, Dot, uint8_t a, uint8_t b) {
    const std::string element(1, static_cast<char>(b % 4));  // bytes, not only text
    return a % 3 == 0 ? s.PrepareRemove(element) : s.PrepareAdd(element, r);
  }
  void Apply(State& s, const Op& op) { (void)s.Apply(op); }
};

struct MvModel {
  using State = MvRegister;
  using Op = MvOp;
  explicit MvModel(size_t) {}
  std::optional<Op> Make(const State& s, RegionId r, Dot dot, uint8_t, uint8_t) {
    return s.PrepareWrite(std::string(dot.seq % 3, '\0'), r);
  }
  void Apply(State& s, const Op& op) {
    (void)s.Apply(op, WriteStamp{{op.dot.seq, 0}, op.dot.origin});
  }
};

RC_GTEST_PROP(OpCodecProp, LwwMapOpRoundTrips,
              (bool clear, const std::map<std::string, std::pair<bool, std::string>>& fields)) {
  LwwMapOp op{clear, {}};
  for (auto it = fields.rbegin(); it != fields.rend(); ++it) {  // any order, unique names
    const auto& [is_set, value] = it->second;
    op.fields.emplace_back(it->first, is_set ? std::optional(value) : std::nullopt);
  }
  CheckRoundTrip<LwwMapOp, pb::LwwMapOp>(op);
}

RC_GTEST_PROP(OpCodecProp, OrSetOpRoundTrips, (uint8_t regions, const Script& script)) {
  Sim<OrSetModel> sim(crdt_testing::RegionCount(regions));
  sim.Run(script);
  for (const auto& logged : sim.log())
    CheckRoundTrip<OrSetOp, pb::OrSetOp>(logged.op);
}

RC_GTEST_PROP(OpCodecProp, MvOpRoundTrips, (uint8_t regions, const Script& script)) {
  Sim<MvModel> sim(crdt_testing::RegionCount(regions));
  sim.Run(script);
  for (const auto& logged : sim.log())
    CheckRoundTrip<MvOp, pb::MvOp>(logged.op);
}

template <typename Proto>
void ExpectRejected(const Proto& bad) {
  const auto decoded = Decode(bad);
  ASSERT_FALSE(decoded.ok()) << bad.ShortDebugString();
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(decoded.status().message().empty());
}

TEST(OpCodecTest, LwwMapOpKeepsDeletesApartFromEmptyValues) {
  const LwwMapOp op{true, {{"b", ""}, {"a", std::nullopt}}};
  pb::LwwMapOp encoded;
  Encode(op, &encoded);
  EXPECT_EQ(*Decode(encoded), op);
}

TEST(OpCodecTest, LwwMapOpRejectsDuplicateNames) {
  pb::LwwMapOp bad;
  bad.add_fields()->set_name("a");
  bad.add_fields()->set_name("a");
  ExpectRejected(bad);
}

TEST(OpCodecTest, OrSetOpRejectsMalformed) {
  OrSet s;
  s.Apply(s.PrepareAdd("x", 0));
  s.Apply(s.PrepareAdd("x", 1));
  pb::OrSetOp add, remove;
  Encode(s.PrepareAdd("x", 0), &add);  // dot (0,2), observes (1,1)
  Encode(s.PrepareRemove("x"), &remove);
  ASSERT_TRUE(Decode(add).ok());
  ASSERT_TRUE(Decode(remove).ok());

  pb::OrSetOp no_dot = add;
  no_dot.clear_dot();
  pb::OrSetOp zero_seq = add;
  zero_seq.mutable_dot()->set_seq(0);
  pb::OrSetOp bad_origin = add;
  bad_origin.mutable_dot()->set_origin(kMaxRegions);
  pb::OrSetOp remove_with_dot = remove;
  *remove_with_dot.mutable_dot() = add.dot();
  pb::OrSetOp unsorted = remove;
  *unsorted.add_observed() = remove.observed(0);
  pb::OrSetOp bad_observed = remove;
  bad_observed.mutable_observed(0)->set_origin(kMaxRegions);
  pb::OrSetOp observes_itself = add;
  *observes_itself.add_observed() = add.dot();
  pb::OrSetOp observes_future = add;
  observes_future.mutable_observed(0)->set_origin(0);
  observes_future.mutable_observed(0)->set_seq(3);
  for (const pb::OrSetOp* bad : {&no_dot, &zero_seq, &bad_origin, &remove_with_dot, &unsorted,
                                 &bad_observed, &observes_itself, &observes_future}) {
    ExpectRejected(*bad);
  }
}

TEST(OpCodecTest, MvOpRejectsMalformed) {
  MvRegister r;
  r.Apply(r.PrepareWrite("a", 1), WriteStamp{{1, 0}, 1});
  pb::MvOp good;
  Encode(r.PrepareWrite("b", 0), &good);  // dot (0,1), observes (1,1)
  ASSERT_TRUE(Decode(good).ok());

  pb::MvOp no_dot = good;
  no_dot.clear_dot();
  pb::MvOp bad_origin = good;
  bad_origin.mutable_dot()->set_origin(kMaxRegions);
  pb::MvOp unsorted = good;
  *unsorted.add_observed() = good.observed(0);
  pb::MvOp zero_observed = good;
  zero_observed.mutable_observed(0)->set_seq(0);
  pb::MvOp observes_itself = good;
  *observes_itself.mutable_observed(0) = good.dot();
  for (const pb::MvOp* bad : {&no_dot, &bad_origin, &unsorted, &zero_observed, &observes_itself}) {
    ExpectRejected(*bad);
  }
}

TEST(OpCodecTest, EncodingABadOpIsABug) {
  pb::OrSetOp out;
  EXPECT_DEATH(Encode(OrSetOp{"x", true, Dot{0, 0}, {}}, &out), "MERIDIAN_ASSERT");
  pb::MvOp mv;
  EXPECT_DEATH(Encode(MvOp{"v", Dot{0, 1}, {Dot{1, 1}, Dot{0, 3}}}, &mv), "MERIDIAN_ASSERT");
}

}  // namespace
}  // namespace meridian
