// MemoryStorage's faults: what the simulator relies on when it fails a disk or crashes a region.
// The Storage contract itself is checked in storage_conformance_test.cc.
#include "store/memory_storage.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace meridian {
namespace {

using Contents = MemoryStorage::Contents;

RecordBatch Puts(std::vector<std::pair<std::string, std::string>> entries) {
  RecordBatch batch;
  for (auto& [k, v] : entries)
    batch.Put(k, v);
  return batch;
}

Contents Visible(const MemoryStorage& storage) {
  Contents out;
  EXPECT_TRUE(storage
                  .Scan("",
                        [&](std::string_view k, std::string_view v) {
                          out.emplace(k, v);
                          return Status::Ok();
                        })
                  .ok());
  return out;
}

TEST(MemoryStorageTest, FailedWritesChangeNothing) {
  MemoryStorage storage;
  ASSERT_TRUE(storage.Write(Puts({{"a", "1"}})).ok());
  ASSERT_TRUE(storage.Write(Puts({{"b", "1"}}), {.sync = false}).ok());
  storage.FailNextWrites(2);

  RecordBatch overwrite = Puts({{"a", "2"}, {"c", "2"}});
  overwrite.Delete("b");
  Status first = storage.Write(overwrite);
  EXPECT_EQ(first.code(), StatusCode::kUnavailable);
  EXPECT_NE(first.message().find("injected"), std::string::npos) << first.message();
  EXPECT_FALSE(storage.Write(overwrite, {.sync = false}).ok());

  EXPECT_EQ(Visible(storage), (Contents{{"a", "1"}, {"b", "1"}}));
  EXPECT_EQ(storage.DurableContents(), (Contents{{"a", "1"}}));
  EXPECT_EQ(storage.UnsyncedBatches(), 1u);    // a failed synced write synced nothing
  EXPECT_TRUE(storage.Write(overwrite).ok());  // the third write goes through
  EXPECT_EQ(
      storage.counters(),
      (MemoryStorage::Counters{.writes = 3, .synced_writes = 2, .failed_writes = 2, .crashes = 0}));
}

TEST(MemoryStorageTest, FailNextWritesZeroCancels) {
  MemoryStorage storage;
  storage.FailNextWrites(5);
  storage.FailNextWrites(0);
  EXPECT_TRUE(storage.Write(Puts({{"a", "1"}})).ok());
}

// The simulator's disk loses an unsynced range delete like any record: every key it removed,
// and every key an earlier mutation of its batch had overwritten in its range, comes back.
TEST(MemoryStorageTest, CrashUndoesAnUnsyncedRangeDelete) {
  MemoryStorage storage;
  ASSERT_TRUE(storage.Write(Puts({{"o1", "a"}, {"o2", "b"}, {"o3", "c"}, {"s", "x"}})).ok());
  RecordBatch trim = Puts({{"o2", "overwritten"}, {"o9", "new"}});
  trim.DeleteRange("o", "o3");
  trim.Put("o1", "again");
  ASSERT_TRUE(storage.Write(trim, {.sync = false}).ok());
  EXPECT_EQ(Visible(storage), (Contents{{"o1", "again"}, {"o3", "c"}, {"o9", "new"}, {"s", "x"}}));
  const Contents before = {{"o1", "a"}, {"o2", "b"}, {"o3", "c"}, {"s", "x"}};
  EXPECT_EQ(storage.DurableContents(), before);
  storage.SimulateCrash();
  EXPECT_EQ(Visible(storage), before);

  // Synced, the same range delete survives the crash.
  RecordBatch synced;
  synced.DeleteRange("o", "o3");
  ASSERT_TRUE(storage.Write(synced, {.sync = false}).ok());
  ASSERT_TRUE(storage.Sync().ok());
  storage.SimulateCrash();
  EXPECT_EQ(Visible(storage), (Contents{{"o3", "c"}, {"s", "x"}}));
}

TEST(MemoryStorageTest, CrashLosesExactlyTheUnsyncedTail) {
  MemoryStorage storage;
  ASSERT_TRUE(storage.Write(Puts({{"s1", "v"}, {"shared", "synced"}})).ok());
  ASSERT_TRUE(storage.Write(Puts({{"u1", "v"}}), {.sync = false}).ok());
  ASSERT_TRUE(storage.Write(Puts({{"s2", "v"}})).ok());  // makes u1 durable too
  // The tail: overwrite, delete and write one key twice, so undo order matters.
  ASSERT_TRUE(storage.Write(Puts({{"shared", "tail1"}, {"u2", "v"}}), {.sync = false}).ok());
  RecordBatch tail2 = Puts({{"shared", "tail2"}});
  tail2.Delete("s2");
  tail2.Put("shared", "tail3");
  ASSERT_TRUE(storage.Write(tail2, {.sync = false}).ok());
  EXPECT_EQ(storage.UnsyncedBatches(), 2u);

  const Contents durable{{"s1", "v"}, {"s2", "v"}, {"shared", "synced"}, {"u1", "v"}};
  EXPECT_EQ(storage.DurableContents(), durable);  // asking does not crash
  EXPECT_EQ(Visible(storage).at("shared"), "tail3");
  storage.SimulateCrash();
  EXPECT_EQ(Visible(storage), durable);
  EXPECT_EQ(storage.UnsyncedBatches(), 0u);
  EXPECT_EQ(storage.counters().crashes, 1u);

  storage.SimulateCrash();  // nothing unsynced: nothing lost
  EXPECT_EQ(Visible(storage), durable);
}

TEST(MemoryStorageTest, DurableContentsCarryOverToANewStorage) {
  MemoryStorage before;
  ASSERT_TRUE(before.Write(Puts({{"kept", "1"}})).ok());
  ASSERT_TRUE(before.Write(Puts({{"lost", "1"}}), {.sync = false}).ok());
  MemoryStorage after(before.DurableContents());
  EXPECT_EQ(Visible(after), (Contents{{"kept", "1"}}));
}

TEST(MemoryStorageTest, SyncMakesTheUnsyncedTailSurviveACrash) {
  MemoryStorage storage;
  ASSERT_TRUE(storage.Write(Puts({{"a", "1"}}), {.sync = false}).ok());
  ASSERT_TRUE(storage.Sync().ok());
  ASSERT_TRUE(storage.Write(Puts({{"b", "1"}}), {.sync = false}).ok());
  storage.SimulateCrash();
  EXPECT_EQ(Visible(storage), (Contents{{"a", "1"}}));
  EXPECT_EQ(storage.counters().synced_writes, 1u);
}

TEST(MemoryStorageTest, FullUnsyncedTailSyncsInstead) {
  MemoryStorage storage;
  for (size_t i = 0; i < MemoryStorage::kMaxUnsyncedBatches; ++i) {
    ASSERT_TRUE(storage.Write(Puts({{"k" + std::to_string(i), "v"}}), {.sync = false}).ok());
  }
  EXPECT_EQ(storage.UnsyncedBatches(), MemoryStorage::kMaxUnsyncedBatches);
  ASSERT_TRUE(storage.Write(Puts({{"last", "v"}}), {.sync = false}).ok());
  EXPECT_EQ(storage.UnsyncedBatches(), 0u);
  EXPECT_EQ(storage.counters().synced_writes, 1u);
  storage.SimulateCrash();
  EXPECT_EQ(Visible(storage).size(), MemoryStorage::kMaxUnsyncedBatches + 1);
}

// Random writes, failures and crashes against a model of two maps: what is visible and what a
// crash keeps (invariants 1-4 of memory_storage.h).
RC_GTEST_PROP(MemoryStorageProp, CrashKeepsExactlySyncedState,
              (const std::vector<std::tuple<uint8_t, uint8_t, bool>>& steps)) {
  MemoryStorage storage;
  Contents visible, durable;
  for (auto [op, key, sync] : steps) {
    const std::string k = "k" + std::to_string(key % 8);
    switch (op % 5) {
      case 0:
        storage.SimulateCrash();
        visible = durable;
        break;
      case 1:
        storage.FailNextWrites(1);
        RC_ASSERT(!storage.Write(Puts({{k, "failed"}}), {.sync = sync}).ok());
        break;
      default: {
        RecordBatch batch = Puts({{k, std::to_string(op)}});
        if (op % 5 == 4) batch.Delete("k" + std::to_string((key + 1) % 8));
        if (op % 5 == 3) batch.DeleteRange("k" + std::to_string(op % 8), k);  // may be empty
        RC_ASSERT(storage.Write(batch, {.sync = sync}).ok());
        for (const Mutation& m : batch.mutations) {
          if (m.is_range_delete())
            visible.erase(visible.lower_bound(m.key), visible.lower_bound(*m.range_end));
          else if (m.value)
            visible[m.key] = *m.value;
          else
            visible.erase(m.key);
        }
        if (sync) durable = visible;
      }
    }
    RC_ASSERT(Visible(storage) == visible);
    RC_ASSERT(storage.DurableContents() == durable);
  }
}

}  // namespace
}  // namespace meridian
