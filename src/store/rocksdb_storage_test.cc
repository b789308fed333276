// RocksDbStorage beyond the shared contract: reopening, locking, errors, statistics.
// Crash tests (kill -9 of a writing process) are in rocksdb_crash_test.cc.
#include "store/rocksdb_storage.h"

#include <gtest/gtest.h>

#include <string>

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

}  // namespace
}  // namespace meridian
