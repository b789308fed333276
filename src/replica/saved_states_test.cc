// Replica invariant 10: an applied op's one record is its log entry; states are saved per tick
// (with m:states, the log index they reflect up to) and rebuilt at recovery from the log's tail.
#include <gtest/gtest.h>

#include "replica/replica.h"
#include "replica/storage_keys.h"
#include "store/memory_storage.h"

namespace meridian {
namespace {

ReplicaOptions Options(RegionId count = 1) {
  ReplicaOptions o;
  o.self = 0;
  o.region_count = count;
  return o;
}

ClientWrite Incr(const std::string& key, int64_t by) {
  return ClientWrite{{DataClass::kCounter, key}, "", by};
}

int64_t CounterValue(const Replica& r, const std::string& key) {
  auto state = r.Read({DataClass::kCounter, key}).state;
  return state ? *std::get<PnCounter>(*state).Value() : 0;
}

size_t StateRecords(const RecordBatch& records) {
  size_t n = 0;
  for (const Mutation& m : records.mutations)
    n += m.key.starts_with(storage_keys::kStatePrefix) ? 1 : 0;
  return n;
}

// A replica and the disk it writes every step's records to.
struct Region {
  std::unique_ptr<MemoryStorage> disk = std::make_unique<MemoryStorage>();
  std::unique_ptr<Replica> replica = std::make_unique<Replica>(Options());

  Output Write(const ClientWrite& write) {
    Output out;
    EXPECT_TRUE(replica->OnClientWrite(write, 1000, &out).ok());
    EXPECT_TRUE(disk->Write(out.records).ok());
    return out;
  }
  Output Tick() {
    Output out;
    replica->Tick(1000, &out);
    EXPECT_TRUE(disk->Write(out.records).ok());
    return out;
  }
  // A restart on what the disk holds (every write here returned: kill -9, not a power loss).
  void Restart() {
    auto recovered = Replica::Recover(Options(), *disk);
    ASSERT_TRUE(recovered.ok()) << recovered.status().ToString();
    replica = std::move(recovered).value();
  }
};

TEST(SavedStatesTest, AWriteRecordsItsLogEntryOnly) {
  Region r;
  r.Write(Incr("c", 1));  // the first step also records the incarnation and m:states
  const Output out = r.Write(Incr("c", 2));
  ASSERT_EQ(out.records.mutations.size(), 1u);
  EXPECT_TRUE(out.records.mutations[0].key.starts_with(storage_keys::kOplogPrefix));
  EXPECT_EQ(CounterValue(*r.replica, "c"), 3);
}

TEST(SavedStatesTest, AKeyWrittenManyTimesInATickIsSavedOnce) {
  Region r;
  for (int i = 0; i < 10; ++i)
    r.Write(Incr("hot", 1));
  r.Write(Incr("cold", 1));
  const Output tick = r.Tick();
  EXPECT_EQ(StateRecords(tick.records), 2u);
  EXPECT_EQ(StateRecords(r.Tick().records), 0u);  // nothing changed since
}

TEST(SavedStatesTest, RecoveryReplaysTheOpsTheSavedStatesLack) {
  Region r;
  r.Write(Incr("c", 1));
  r.Write(Incr("d", 5));
  r.Tick();  // saved: c=1, d=5
  r.Write(Incr("c", 10));
  r.Write(Incr("e", 7));  // a key the saved states do not have at all
  const VersionVector applied = r.replica->applied();
  r.Restart();
  EXPECT_EQ(CounterValue(*r.replica, "c"), 11);
  EXPECT_EQ(CounterValue(*r.replica, "d"), 5);  // saved, and not replayed twice
  EXPECT_EQ(CounterValue(*r.replica, "e"), 7);
  EXPECT_EQ(r.replica->applied(), applied);
  // The replayed states are saved by the next tick, then a restart replays nothing.
  EXPECT_EQ(StateRecords(r.Tick().records), 2u);
  r.Restart();
  EXPECT_EQ(CounterValue(*r.replica, "c"), 11);
  EXPECT_EQ(CounterValue(*r.replica, "e"), 7);
}

TEST(SavedStatesTest, IndexesAreNotHandedOutAgainAfterTheLogWasTruncatedAway) {
  Region r;  // no peers: the log keeps nothing past its retention, so ticks empty it
  for (int i = 0; i < 3; ++i)
    r.Write(Incr("c", 1));
  for (uint64_t t = 0; t < r.replica->options().gc_interval_ticks; ++t)
    r.Tick();
  ASSERT_EQ(r.replica->oplog_size(), 0u);
  r.Restart();
  // Logged at an index at or past m:states: replayed after the next restart.
  r.Write(Incr("c", 100));
  r.Restart();
  EXPECT_EQ(CounterValue(*r.replica, "c"), 103);
}

TEST(SavedStatesTest, AStoreWithoutTheIndexReflectsEveryLoggedOp) {
  Region r;
  for (int i = 0; i < 3; ++i)
    r.Write(Incr("c", 2));
  r.Tick();
  // As a store written when every op also wrote its state: the log still holds the three ops,
  // which the states already reflect.
  MemoryStorage::Contents contents = r.disk->DurableContents();
  ASSERT_EQ(contents.erase(std::string(storage_keys::kStatesThrough)), 1u);
  r.disk = std::make_unique<MemoryStorage>(std::move(contents));
  r.Restart();
  EXPECT_EQ(CounterValue(*r.replica, "c"), 6);
  // Its first step writes the index, so what it applies from then on is replayed.
  r.Write(Incr("c", 1));
  r.Restart();
  EXPECT_EQ(CounterValue(*r.replica, "c"), 7);
}

// Recovery hashes each state from its saved bytes (not from a fresh encoding): the summary it
// rebuilds must be the one its peer keeps, or anti-entropy would see divergence that is not.
enum class AfterRestart { kNothing, kCorrupt, kOlderEncoding };

// Region 0 writes (half its states saved, half replayed after its restart), region 1 applies
// the same; after region 0's restart, two anti-entropy rounds with every message delivered. Per
// round, how many summary replies (bucket lists that differ) region 1 sent.
std::vector<size_t> DifferingSummariesPerRound(AfterRestart after) {
  ReplicaOptions options_b = Options(2);
  options_b.self = 1;
  auto disk = std::make_unique<MemoryStorage>();
  auto a = std::make_unique<Replica>(Options(2));
  Replica b(options_b);
  std::vector<size_t> differing;
  // Delivers `out` and everything it leads to, both ways, counting region 1's summary replies.
  auto exchange = [&](Output out, Replica* from) {
    std::vector<std::pair<Replica*, Output>> pending{{from, std::move(out)}};
    while (!pending.empty()) {
      auto [sender, sent] = std::move(pending.back());
      pending.pop_back();
      if (sender == a.get()) {
        EXPECT_TRUE(disk->Write(sent.records).ok());
      }
      for (const auto& [dest, m] : sent.messages) {
        Replica* to = dest == 0 ? a.get() : &b;
        if (to == a.get() && m.has_summary_reply() && !differing.empty()) ++differing.back();
        Output produced;
        to->OnMessage(m.from(), m, 1000, &produced);
        pending.emplace_back(to, std::move(produced));
      }
    }
  };
  auto write = [&](const std::string& key, int64_t by) {
    Output out;
    EXPECT_TRUE(a->OnClientWrite(Incr(key, by), 1000, &out).ok());
    exchange(std::move(out), a.get());
  };
  for (int i = 0; i < 20; ++i)
    write("c" + std::to_string(i % 7), i + 1);
  Output saved;
  a->Tick(1000, &saved);
  exchange(std::move(saved), a.get());
  for (int i = 0; i < 5; ++i)
    write("d" + std::to_string(i), 1);

  MemoryStorage::Contents contents = disk->DurableContents();
  if (after == AfterRestart::kOlderEncoding) {
    // The same state in other bytes: an unknown field (1000, varint 1) that decoding skips.
    contents[storage_keys::State({DataClass::kCounter, "c1"})] += std::string("\xC0\x3E\x01");
  }
  disk = std::make_unique<MemoryStorage>(std::move(contents));
  auto recovered = Replica::Recover(Options(2), *disk);
  EXPECT_TRUE(recovered.ok());
  a = std::move(recovered).value();
  EXPECT_EQ(a->applied(), b.applied());
  if (after == AfterRestart::kCorrupt) {
    a->TEST_CorruptState({DataClass::kCounter, "c1"}, PnCounter{});
  }
  for (int round = 0; round < 2; ++round) {
    differing.push_back(0);
    for (uint32_t t = 0; t < Options().anti_entropy_interval_ticks; ++t) {
      Output tick;
      a->Tick(1000, &tick);
      exchange(std::move(tick), a.get());
    }
  }
  return differing;
}

TEST(SavedStatesTest, ARestartedRegionsSummaryMatchesItsPeers) {
  EXPECT_EQ(DifferingSummariesPerRound(AfterRestart::kNothing), (std::vector<size_t>{0, 0}));
  // The check can fail: a state lost after the restart differs, and the repair restores it.
  EXPECT_EQ(DifferingSummariesPerRound(AfterRestart::kCorrupt), (std::vector<size_t>{1, 0}));
}

// Without the repair's second save (MergeKeyState), the hash of the older bytes would make the
// key differ in every round, its content never changing.
TEST(SavedStatesTest, AStateSavedInAnOlderEncodingIsSavedAgainByItsFirstRepair) {
  EXPECT_EQ(DifferingSummariesPerRound(AfterRestart::kOlderEncoding), (std::vector<size_t>{1, 0}));
}

}  // namespace
}  // namespace meridian
