#include "gen/workload.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <vector>

#include "gen/request.h"

namespace meridian {
namespace {

WorkloadSpec SmallSpec(uint64_t seed) {
  WorkloadSpec spec;
  spec.seed = seed;
  spec.regions = 3;
  spec.clients = 12;
  spec.hopping_fraction = 0.25;
  spec.mix = Mix{{40, 30, 30, 5, 5}};
  spec.steps = {RateStep{2000, 1'000'000'000}, RateStep{4000, 500'000'000}};
  return spec;
}

std::vector<PlannedOp> Drain(Planner& planner) {
  std::vector<PlannedOp> ops;
  while (std::optional<PlannedOp> op = planner.Next())
    ops.push_back(std::move(*op));
  return ops;
}

TEST(PlannerTest, SameSeedSameSequence) {
  Planner a(SmallSpec(5)), b(SmallSpec(5));
  const std::vector<PlannedOp> x = Drain(a), y = Drain(b);
  ASSERT_EQ(x.size(), 4000u);
  EXPECT_EQ(x, y);
}

TEST(PlannerTest, DifferentSeedDifferentSequence) {
  Planner a(SmallSpec(5)), b(SmallSpec(6));
  const std::vector<PlannedOp> x = Drain(a), y = Drain(b);
  ASSERT_EQ(x.size(), y.size());
  size_t same_key = 0;
  for (size_t i = 0; i < x.size(); ++i)
    same_key += x[i].key == y[i].key ? 1 : 0;
  EXPECT_NE(x, y);
  EXPECT_LT(same_key, x.size() / 2);  // rank 1 is hot, but far from every draw
}

TEST(PlannerTest, OrderedScheduleAndPinnedClients) {
  Planner planner(SmallSpec(11));
  const std::vector<PlannedOp> ops = Drain(planner);
  EXPECT_EQ(ops.size(), planner.TotalOps());
  std::map<OpClass, int> classes;
  std::set<uint32_t> hopper_regions;
  for (size_t i = 0; i < ops.size(); ++i) {
    const PlannedOp& op = ops[i];
    EXPECT_EQ(op.index, i);
    if (i > 0) {
      EXPECT_GE(op.intended_ns, ops[i - 1].intended_ns);
    }
    EXPECT_EQ(op.step, i < 2000 ? 0u : 1u);
    ASSERT_LT(op.client, 12u);
    ASSERT_LT(op.region, 3u);
    if (!planner.IsHopping(op.client)) {
      EXPECT_EQ(op.region, op.client % 3);
    } else {
      hopper_regions.insert(op.region);
    }
    ++classes[op.op_class];
    EXPECT_EQ(op.key.rfind("k", 0), 0u);
  }
  EXPECT_EQ(hopper_regions.size(), 3u);  // hoppers reach every region
  EXPECT_EQ(classes.size(), 5u);
  EXPECT_GT(classes[OpClass::kProfile], classes[OpClass::kHandle]);
  // Step 2 starts at 1 s and runs at 4000/s.
  EXPECT_EQ(ops[2000].intended_ns, 1'000'000'000u);
  EXPECT_EQ(ops[2001].intended_ns, 1'000'250'000u);
}

TEST(PlannerTest, ConflictPairsAreReproducibleAndSubRtt) {
  WorkloadSpec spec = SmallSpec(21);
  spec.conflict_pairs = 300;
  spec.conflict_gap_us_max = 5000;
  spec.steps = {RateStep{1000, 1'000'000'000}};  // pairs every 2 ms, gaps up to 5 ms: interleaved
  Planner a(spec), b(spec);
  const std::vector<PlannedOp> x = Drain(a);
  EXPECT_EQ(x, Drain(b));
  ASSERT_EQ(x.size(), 600u);
  std::map<int64_t, std::vector<PlannedOp>> pairs;
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(x[i].index, i);
    if (i > 0) {
      EXPECT_GE(x[i].intended_ns, x[i - 1].intended_ns);
    }
    EXPECT_NE(x[i].kind, OpKind::kRead);
    pairs[x[i].pair].push_back(x[i]);
  }
  ASSERT_EQ(pairs.size(), 300u);
  for (const auto& [pair, ops] : pairs) {
    ASSERT_EQ(ops.size(), 2u);
    EXPECT_EQ(ops[0].key, ops[1].key);
    EXPECT_EQ(ops[0].key, "kpair" + std::to_string(pair));
    EXPECT_EQ(ops[0].op_class, ops[1].op_class);
    EXPECT_NE(ops[0].region, ops[1].region);
    EXPECT_EQ(ops[0].client % 3, ops[0].region);  // written by clients homed there
    EXPECT_EQ(ops[1].client % 3, ops[1].region);
    EXPECT_LE(ops[1].intended_ns - ops[0].intended_ns, 5'000'000u);
    if (ops[0].op_class == OpClass::kProfile) {
      EXPECT_EQ(ops[0].field, ops[1].field);
    }
    if (ops[0].op_class != OpClass::kCounter) {
      EXPECT_NE(ops[0].value, ops[1].value);
    }
  }
}

TEST(PlannerTest, ConflictReadBackReadsEveryPairInEveryRegion) {
  WorkloadSpec spec = SmallSpec(4);
  spec.conflict_pairs = 20;
  spec.conflict_read_back_ns = 500'000'000;
  spec.steps = {RateStep{1000, 1'000'000'000}};
  Planner planner(spec);
  const std::vector<PlannedOp> ops = Drain(planner);
  ASSERT_EQ(ops.size(), 40u + 20u * 3u);
  EXPECT_EQ(planner.TotalOps(), ops.size());
  std::map<int64_t, OpClass> written;
  std::set<std::pair<int64_t, uint32_t>> read;
  uint64_t last_write_ns = 0;
  for (const PlannedOp& op : ops) {
    if (op.kind == OpKind::kRead) {
      EXPECT_EQ(op.op_class, written.at(op.pair));
      EXPECT_GE(op.intended_ns, last_write_ns + 500'000'000u);
      read.insert({op.pair, op.region});
    } else {
      EXPECT_TRUE(read.empty());  // every read comes after every write
      written[op.pair] = op.op_class;
      last_write_ns = std::max(last_write_ns, op.intended_ns);
    }
  }
  EXPECT_EQ(read.size(), 60u);
}

TEST(MixTest, ParsesAndRejects) {
  Result<Mix> mix = ParseMix("profile=40,counter=30,tags=30");
  ASSERT_TRUE(mix.ok()) << mix.status().ToString();
  EXPECT_EQ(FormatMix(*mix), "profile=40,counter=30,tags=30");
  Result<Mix> with_handles = ParseMix("handle=1,register=2");
  ASSERT_TRUE(with_handles.ok());
  EXPECT_EQ(with_handles->weights[static_cast<size_t>(OpClass::kHandle)], 1u);
  EXPECT_FALSE(ParseMix("profile=0").ok());
  EXPECT_FALSE(ParseMix("bogus=3").ok());
  EXPECT_FALSE(ParseMix("profile").ok());
  EXPECT_FALSE(ParseMix("profile=x").ok());
  EXPECT_FALSE(ParseMix("").ok());
}

TEST(ValidateWorkloadTest, NamesTheProblem) {
  WorkloadSpec spec = SmallSpec(1);
  spec.clients = 2;
  EXPECT_FALSE(ValidateWorkload(spec).ok());
  spec = SmallSpec(1);
  spec.regions = 1;
  spec.conflict_pairs = 3;
  EXPECT_FALSE(ValidateWorkload(spec).ok());
  spec = SmallSpec(1);
  spec.hopping_fraction = 1.5;
  EXPECT_FALSE(ValidateWorkload(spec).ok());
  EXPECT_TRUE(ValidateWorkload(SmallSpec(1)).ok());
}

TEST(RequestTest, RoutesOfEachClass) {
  PlannedOp op;
  op.key = "k 1/x";
  op.kind = OpKind::kRead;
  op.op_class = OpClass::kTags;
  GenRequest r = BuildRequest(op);
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.target, "/tags/k%201%2Fx");
  op.key = "k7";
  op.kind = OpKind::kWrite;
  op.op_class = OpClass::kProfile;
  op.field = "f1";
  op.value = "v\"1";
  r = BuildRequest(op);
  EXPECT_EQ(r.method, "PUT");
  EXPECT_EQ(r.target, "/profile/k7");
  EXPECT_EQ(r.body, R"({"f1":"v\"1"})");
  op.op_class = OpClass::kCounter;
  op.by = 3;
  r = BuildRequest(op);
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/counter/k7/incr?by=3");
  EXPECT_TRUE(r.body.empty());
  op.op_class = OpClass::kTags;
  op.kind = OpKind::kRemove;
  op.value = "t3";
  r = BuildRequest(op);
  EXPECT_EQ(r.body, R"({"remove":["t3"]})");
  op.op_class = OpClass::kHandle;
  op.kind = OpKind::kWrite;
  op.value = "client-4";
  r = BuildRequest(op);
  EXPECT_EQ(r.method, "PUT");
  EXPECT_EQ(r.target, "/handle/k7");
  EXPECT_EQ(r.body, R"({"owner":"client-4"})");
  op.op_class = OpClass::kRegister;
  op.value = "x";
  r = BuildRequest(op);
  EXPECT_EQ(r.body, R"({"value":"x"})");
}

TEST(RequestTest, JsonQuoteEscapes) {
  EXPECT_EQ(JsonQuote("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\u000a\\u0001\"");
}

}  // namespace
}  // namespace meridian
