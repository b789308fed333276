#include "replica/replica.h"

#include <gtest/gtest.h>

#include "store/memory_storage.h"

namespace meridian {
namespace {

ReplicaOptions Options(RegionId self, RegionId count = 2) {
  ReplicaOptions o;
  o.self = self;
  o.region_count = count;
  return o;
}

ClientWrite Incr(const std::string& key, int64_t by, std::string idempotency_key = "") {
  return ClientWrite{{DataClass::kCounter, key}, std::move(idempotency_key), by};
}

int64_t CounterValue(const Replica& r, const std::string& key) {
  auto state = r.Read({DataClass::kCounter, key}).state;
  return state ? *std::get<PnCounter>(*state).Value() : 0;
}

// Delivers every message in `out` addressed to `to`, returning what that produced.
Output Deliver(const Output& out, Replica& to, uint64_t now = 1000) {
  Output produced;
  for (const auto& [dest, m] : out.messages) {
    if (dest == to.self()) to.OnMessage(m.from(), m, now, &produced);
  }
  return produced;
}

TEST(ReplicaTest, LocalWriteIsReadableAndPersisted) {
  Replica r(Options(0));
  Output out;
  auto reply = r.OnClientWrite(Incr("c", 5), 1000, &out);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->dot, (Dot{0, 1}));
  EXPECT_EQ(CounterValue(r, "c"), 5);
  EXPECT_FALSE(out.records.empty());
  ASSERT_EQ(out.applied.size(), 1u);
}

TEST(ReplicaTest, BadWritesChangeNothing) {
  Replica r(Options(0));
  Output out;
  EXPECT_FALSE(r.OnClientWrite(Incr("", 1), 1000, &out).ok());
  EXPECT_FALSE(r.OnClientWrite(Incr("c", 0), 1000, &out).ok());
  ClientWrite mismatch{{DataClass::kTags, "t"}, "", int64_t{1}};
  EXPECT_FALSE(r.OnClientWrite(mismatch, 1000, &out).ok());
  EXPECT_TRUE(out.records.empty());
  EXPECT_TRUE(r.applied().IsZero());
}

TEST(ReplicaTest, ReplicatesAndIgnoresDuplicates) {
  Replica a(Options(0)), b(Options(1));
  Output out;
  ASSERT_TRUE(a.OnClientWrite(Incr("c", 3), 1000, &out).ok());
  Deliver(out, b);
  Deliver(out, b);  // the same batch again
  EXPECT_EQ(CounterValue(b, "c"), 3);
  EXPECT_EQ(b.stats().duplicates_ignored, 1u);
  EXPECT_EQ(b.applied(), a.applied());
}

TEST(ReplicaTest, OutOfOrderOpsWaitForTheirDependencies) {
  Replica a(Options(0)), b(Options(1));
  Output first, second;
  ASSERT_TRUE(a.OnClientWrite(Incr("c", 1), 1000, &first).ok());
  ASSERT_TRUE(a.OnClientWrite(Incr("c", 10), 1001, &second).ok());
  Deliver(second, b);  // (0,2) before (0,1): held back
  EXPECT_EQ(CounterValue(b, "c"), 0);
  EXPECT_EQ(b.buffered_ops(), 1u);
  Deliver(first, b);
  EXPECT_EQ(CounterValue(b, "c"), 11);
  EXPECT_EQ(b.buffered_ops(), 0u);
}

TEST(ReplicaTest, RecoverRestoresVectorStateAndClock) {
  MemoryStorage disk;
  Replica a(Options(0));
  for (int i = 0; i < 3; ++i) {
    Output out;
    ASSERT_TRUE(a.OnClientWrite(Incr("c", 2), 5000, &out).ok());
    ASSERT_TRUE(disk.Write(out.records).ok());
  }
  auto recovered = Replica::Recover(Options(0), disk);
  ASSERT_TRUE(recovered.ok()) << recovered.status().ToString();
  EXPECT_EQ((*recovered)->applied(), a.applied());
  EXPECT_EQ(CounterValue(**recovered, "c"), 6);
  EXPECT_GE((*recovered)->clock().last(), a.clock().last());
  EXPECT_EQ((*recovered)->oplog_size(), 3u);
}

TEST(ReplicaTest, RetryWithIdempotencyKeyInSameRegionCountsOnce) {
  Replica a(Options(0));
  Output out;
  ASSERT_TRUE(a.OnClientWrite(Incr("c", 7, "req-1"), 1000, &out).ok());
  auto again = a.OnClientWrite(Incr("c", 7, "req-1"), 1001, &out);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->deduplicated);
  EXPECT_EQ(CounterValue(a, "c"), 7);
  EXPECT_FALSE(a.OnClientWrite(Incr("other", 7, "req-1"), 1002, &out).ok());
}

TEST(ReplicaTest, RetryInAnotherRegionCountsOnceAfterMerge) {
  Replica a(Options(0)), b(Options(1));
  Output from_a, from_b;
  ASSERT_TRUE(a.OnClientWrite(Incr("c", 7, "req-1"), 1000, &from_a).ok());
  ASSERT_TRUE(b.OnClientWrite(Incr("c", 7, "req-1"), 1000, &from_b).ok());  // failover retry
  Output a_next = Deliver(from_b, a);
  Output b_next = Deliver(from_a, b);
  // The loser's origin compensates; let the compensation travel too.
  for (int round = 0; round < 3; ++round) {
    Output x = Deliver(b_next, a), y = Deliver(a_next, b);
    a_next = std::move(x);
    b_next = std::move(y);
  }
  EXPECT_EQ(CounterValue(a, "c"), 7);
  EXPECT_EQ(CounterValue(b, "c"), 7);
  EXPECT_EQ(a.stats().compensations + b.stats().compensations, 1u);
}

TEST(ReplicaTest, ConcurrentLwwWritesAreLoggedAsConflicts) {
  Replica a(Options(0)), b(Options(1));
  Output from_a, from_b;
  LwwMapOp set_a{false, {{"name", "ann"}}}, set_b{false, {{"name", "bob"}}};
  ASSERT_TRUE(a.OnClientWrite({{DataClass::kProfile, "p"}, "", set_a}, 1000, &from_a).ok());
  ASSERT_TRUE(b.OnClientWrite({{DataClass::kProfile, "p"}, "", set_b}, 1000, &from_b).ok());
  Deliver(from_b, a);
  Deliver(from_a, b);
  auto va = std::get<LwwMap>(*a.Read({DataClass::kProfile, "p"}).state).Visible();
  auto vb = std::get<LwwMap>(*b.Read({DataClass::kProfile, "p"}).state).Visible();
  EXPECT_EQ(va, vb);
  EXPECT_EQ(va.at("name"), "bob");  // same HLC: region 1 wins the tie
  EXPECT_EQ(a.conflicts().count(DataClass::kProfile, ConflictOutcome::kLwwOverwrite), 1u);
  ASSERT_EQ(a.conflicts().recent().size(), 1u);
  EXPECT_EQ(a.conflicts().recent().front().loser_value, "ann");
}

// Scripted (it was the simulator's seed 45): a region whose clock runs far ahead writes a field;
// the receiver clamps the stamp (HlcOptions::max_offset_ms), so its own clock stays behind what
// it has just applied. Its delete of that field, causally later, was stamped below the write and
// lost to it everywhere (and where the tombstone was collected, the field came back). A local
// write is stamped above every stamp its key has held.
TEST(ReplicaTest, AWriteBeatsWhatItsWriterSawThoughAClampedSkewLeftItsClockBehind) {
  Replica a(Options(0)), b(Options(1));
  const StateKey key{DataClass::kProfile, "p"};
  Output from_b;
  LwwMapOp set{false, {{"name", "bob"}}};
  ASSERT_TRUE(b.OnClientWrite({key, "", set}, 100'000, &from_b).ok());
  Deliver(from_b, a, 1000);
  ASSERT_GT(a.clock().clamped_total(), 0u);
  ASSERT_EQ(std::get<LwwMap>(*a.Read(key).state).Visible().count("name"), 1u);

  Output from_a;
  LwwMapOp remove{false, {{"name", std::nullopt}}};
  ASSERT_TRUE(a.OnClientWrite({key, "", remove}, 1000, &from_a).ok());
  Deliver(from_a, b, 100'000);
  EXPECT_EQ(std::get<LwwMap>(*a.Read(key).state).Visible().count("name"), 0u);
  EXPECT_EQ(std::get<LwwMap>(*b.Read(key).state).Visible().count("name"), 0u);
}

// One keyspace over RESP: two regions creating one key as two types at once is a conflict both
// record; a region that creates it over a type it had seen (HTTP allows that) made a choice.
TEST(ReplicaTest, OneKeyCreatedConcurrentlyAsTwoTypesIsATypeClash) {
  Replica a(Options(0)), b(Options(1));
  Output from_a, from_b;
  ASSERT_TRUE(
      a.OnClientWrite({{DataClass::kRegister, "k"}, "", std::string("v")}, 1000, &from_a).ok());
  ASSERT_TRUE(b.OnClientWrite(Incr("k", 1), 1000, &from_b).ok());
  Deliver(from_b, a);
  Deliver(from_a, b);
  for (const Replica* r : {&a, &b}) {
    const DataClass mine = r == &a ? DataClass::kRegister : DataClass::kCounter;
    const DataClass theirs = r == &a ? DataClass::kCounter : DataClass::kRegister;
    EXPECT_EQ(r->conflicts().count(theirs, ConflictOutcome::kTypeClash), 1u);
    ASSERT_EQ(r->conflicts().recent().size(), 1u);
    const ConflictEntry& entry = r->conflicts().recent().front();
    EXPECT_EQ(entry.key, "k");
    EXPECT_EQ(entry.clashes_with, mine);
  }

  // b saw a's string before writing a set over it: no clash anywhere.
  Output seen_a, seen_b;
  ASSERT_TRUE(
      a.OnClientWrite({{DataClass::kRegister, "s"}, "", std::string("v")}, 1000, &seen_a).ok());
  Deliver(seen_a, b);
  ASSERT_TRUE(
      b.OnClientWrite({{DataClass::kTags, "s"}, "", TagsWrite{{"m"}, {}}}, 1000, &seen_b).ok());
  Deliver(seen_b, a);
  EXPECT_EQ(a.conflicts().count(DataClass::kTags, ConflictOutcome::kTypeClash), 0u);
  EXPECT_EQ(b.conflicts().count(DataClass::kTags, ConflictOutcome::kTypeClash), 0u);
}

TEST(ReplicaTest, AntiEntropyRepairsDivergenceAtEqualVectors) {
  Replica a(Options(0)), b(Options(1));
  PnCounter bogus;
  bogus.Apply(0, 42);
  a.TEST_CorruptState({DataClass::kCounter, "x"}, bogus);  // diverged without any op
  const uint32_t rounds = a.options().anti_entropy_interval_ticks + 1;
  for (uint32_t i = 0; i < rounds; ++i) {
    Output to_a, to_b;
    a.Tick(1000 + i, &to_b);
    b.Tick(1000 + i, &to_a);
    // Ping-pong until both sides are silent (bounded: the exchange is four messages deep).
    for (int depth = 0; depth < 8 && !(to_a.messages.empty() && to_b.messages.empty()); ++depth) {
      Output next_b = Deliver(to_a, a), next_a = Deliver(to_b, b);
      to_a = std::move(next_a);
      to_b = std::move(next_b);
    }
  }
  EXPECT_EQ(CounterValue(b, "x"), 42);
  EXPECT_EQ(b.stats().anti_entropy_repairs, 1u);
}

TEST(ReplicaTest, MeshRelaysTheOpsOfAnOriginThatDiedAfterReachingOnlyOnePeer) {
  // us (0) writes; only ap (2) receives it before us dies. eu (1) must still get it, from ap,
  // and so must every later op of ap that depends on it.
  Replica us(Options(0, 3)), eu(Options(1, 3)), ap(Options(2, 3));
  Output out;
  ASSERT_TRUE(us.OnClientWrite(Incr("c", 7), 1000, &out).ok());
  Deliver(out, ap);  // the copy for eu is lost with us
  Output ap_write;
  ASSERT_TRUE(ap.OnClientWrite(Incr("c", 1), 1001, &ap_write).ok());
  Deliver(ap_write, eu);
  EXPECT_EQ(CounterValue(eu, "c"), 0);  // ap's op waits for us's, which eu lacks
  // Time passes between eu and ap only; us stays dead.
  for (int tick = 0; tick < 400 && CounterValue(eu, "c") != 8; ++tick) {
    Output ap_out, eu_out;
    ap.Tick(2000 + tick, &ap_out);
    eu.Tick(2000 + tick, &eu_out);
    Output eu_reply = Deliver(ap_out, eu);
    Output ap_reply = Deliver(eu_out, ap);
    Deliver(eu_reply, ap);
    Deliver(ap_reply, eu);
  }
  EXPECT_EQ(CounterValue(eu, "c"), 8);
  EXPECT_EQ(eu.applied(), ap.applied());
}

TEST(ReplicaTest, HealthyMeshDoesNotRelay) {
  // Everyone hears every origin directly: no op arrives twice.
  Replica a(Options(0, 3)), b(Options(1, 3)), c(Options(2, 3));
  std::vector<Replica*> all = {&a, &b, &c};
  for (int i = 0; i < 20; ++i) {
    Output out;
    ASSERT_TRUE(all[i % 3]->OnClientWrite(Incr("k", 1), 1000 + i, &out).ok());
    for (Replica* r : all) {
      if (r != all[i % 3]) Deliver(Deliver(out, *r), *all[i % 3]);
    }
  }
  for (int tick = 0; tick < 300; ++tick) {
    std::vector<Output> outs(3);
    for (size_t r = 0; r < 3; ++r)
      all[r]->Tick(2000 + tick, &outs[r]);
    for (size_t r = 0; r < 3; ++r) {
      for (Replica* to : all)
        Deliver(outs[r], *to);
    }
  }
  for (Replica* r : all) {
    EXPECT_EQ(CounterValue(*r, "k"), 20);
    EXPECT_EQ(r->stats().duplicates_ignored, 0u);
  }
}

}  // namespace
}  // namespace meridian
