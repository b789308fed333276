// RocksDbStorage beyond the shared contract: reopening, locking, errors, statistics.
// Crash tests (kill -9 of a writing process) are in rocksdb_crash_test.cc.
#include "store/rocksdb_storage.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "store/test_temp_dir.h"

namespace meridian {
namespace {

std::unique_ptr<RocksDbStorage> OpenOrDie(const std::string& path,
                                          RocksDbOptions options = RocksDbOptions::ForTest()) {
  auto opened = RocksDbStorage::Open(path, options);
  MERIDIAN_ASSERT_MSG(opened.ok(), opened.status().ToString().c_str());
  return std::move(opened).value();
}

RecordBatch OnePut(std::string key, std::string value) {
  RecordBatch batch;
  batch.Put(std::move(key), std::move(value));
  return batch;
}

TEST(RocksDbStorageTest, ReopenKeepsSyncedAndUnsyncedWrites) {
  TestTempDir dir;
  const std::string path = dir.Sub("nested/dirs/db");  // Open creates missing parents
  {
    auto db = OpenOrDie(path);
    ASSERT_TRUE(db->Write(OnePut("synced", "1"), {.sync = true}).ok());
    ASSERT_TRUE(db->Write(OnePut("unsynced", "2"), {.sync = false}).ok());
    ASSERT_TRUE(db->Close().ok());
    EXPECT_TRUE(db->Close().ok());  // idempotent
  }
  auto db = OpenOrDie(path);
  EXPECT_EQ(*db->Get("synced"), "1");
  EXPECT_EQ(*db->Get("unsynced"), "2");
}

TEST(RocksDbStorageTest, DestructorClosesAndReleasesTheLock) {
  TestTempDir dir;
  {
    auto db = OpenOrDie(dir.Sub("db"));
    ASSERT_TRUE(db->Write(OnePut("k", "v")).ok());
  }  // no Close(): the destructor closes
  EXPECT_EQ(*OpenOrDie(dir.Sub("db"))->Get("k"), "v");
}

TEST(RocksDbStorageTest, SecondOpenInThisProcessFailsClearly) {
  TestTempDir dir;
  auto db = OpenOrDie(dir.Sub("db"));
  auto second = RocksDbStorage::Open(dir.Sub("db"), RocksDbOptions::ForTest());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find(dir.Sub("db")), std::string::npos)
      << second.status().message();
  EXPECT_TRUE(db->Write(OnePut("k", "v")).ok());  // the first handle is unharmed
}

TEST(RocksDbStorageTest, OpenWithoutCreateOnMissingDatabaseNamesThePath) {
  TestTempDir dir;
  RocksDbOptions options = RocksDbOptions::ForTest();
  options.create_if_missing = false;
  auto opened = RocksDbStorage::Open(dir.Sub("absent"), options);
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(opened.status().message().find(dir.Sub("absent")), std::string::npos)
      << opened.status().message();
}

TEST(RocksDbStorageTest, OpenOnAFileFailsWithAStatus) {
  TestTempDir dir;
  ASSERT_TRUE(OpenOrDie(dir.Sub("db"))->Close().ok());
  // db/CURRENT is a regular file where the database directory should be.
  auto opened = RocksDbStorage::Open(dir.Sub("db/CURRENT"), RocksDbOptions::ForTest());
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.status().message().find("db/CURRENT"), std::string::npos)
      << opened.status().message();
  EXPECT_FALSE(RocksDbStorage::Open("", RocksDbOptions::ForTest()).ok());
}

TEST(RocksDbStorageTest, WriteStatsCountWritesAndSyncs) {
  TestTempDir dir;
  EXPECT_EQ(OpenOrDie(dir.Sub("plain"))->WriteStats().status().code(),
            StatusCode::kFailedPrecondition);

  RocksDbOptions options = RocksDbOptions::ForTest();
  options.collect_statistics = true;
  auto db = OpenOrDie(dir.Sub("stats"), options);
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(db->Write(OnePut("k", "v"), {.sync = true}).ok());
  ASSERT_TRUE(db->Write(OnePut("k", "v"), {.sync = false}).ok());
  auto stats = db->WriteStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->writes_by_self + stats->writes_by_other, 4u);  // one thread: all by self
  EXPECT_EQ(stats->wal_syncs, 3u);
}

TEST(RocksDbStorageTest, RangeDeleteSurvivesReopen) {
  TestTempDir dir;
  {
    auto db = OpenOrDie(dir.Sub("db"));
    RecordBatch batch;
    for (int i = 0; i < 100; ++i)
      batch.Put("o/" + std::to_string(1000 + i), std::string(100, 'x'));
    ASSERT_TRUE(db->Write(batch).ok());
    RecordBatch trim;
    trim.DeleteRange("o/1000", "o/1090");
    ASSERT_TRUE(db->Write(trim, {.sync = false}).ok());
  }  // closed: RocksDB replays the unsynced range delete from the WAL on reopen
  auto db = OpenOrDie(dir.Sub("db"));
  std::vector<std::string> keys;
  ASSERT_TRUE(db->Scan("o/", [&](std::string_view k, std::string_view) {
                  keys.emplace_back(k);
                  return Status::Ok();
                }).ok());
  ASSERT_EQ(keys.size(), 10u);
  EXPECT_EQ(keys.front(), "o/1090");
}

// WalBytes counts what RocksDB's own statistics count as WAL bytes, plus one record header per
// Write; a batch writing one key many times writes it once (invariant 5).
TEST(RocksDbStorageTest, WalBytesMatchRocksDbsCountAndSupersededPutsAreNotWritten) {
  TestTempDir dir;
  RocksDbOptions options = RocksDbOptions::ForTest();
  options.collect_statistics = true;
  auto db = OpenOrDie(dir.Sub("db"), options);
  RecordBatch distinct, hot;
  for (int i = 0; i < 50; ++i) {
    distinct.Put("k" + std::to_string(i), "value" + std::to_string(i));
    hot.Put("hot", "value" + std::to_string(i));
  }
  ASSERT_TRUE(db->Write(distinct, {.sync = false}).ok());
  const RocksDbWalBytes after_distinct = db->WalBytes();
  ASSERT_TRUE(db->Write(hot, {.sync = false}).ok());
  const RocksDbWalBytes after_hot = db->WalBytes();
  ASSERT_TRUE(db->Write(RecordBatch{}, {.sync = false}).ok());  // RocksDB logs its header

  EXPECT_EQ(*db->Get("hot"), "value49");
  EXPECT_EQ(db->WalBytes().batches, 3u);
  const uint64_t hot_bytes = after_hot.bytes - after_distinct.bytes;
  EXPECT_LT(hot_bytes * 10, after_distinct.bytes) << hot_bytes << " vs " << after_distinct.bytes;
  auto stats = db->WriteStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(db->WalBytes().bytes, stats->wal_bytes + 3 * 7);  // 7: a WAL record's header
}

}  // namespace
}  // namespace meridian
