// RocksDbStorage::Backup and RestoreLatest: a backup taken while another thread writes restores
// to one consistent point; later backups are incremental; a restore never overwrites a database.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>

#include "store/rocksdb_storage.h"
#include "store/test_temp_dir.h"

namespace meridian {
namespace {

std::unique_ptr<RocksDbStorage> OpenOrDie(const std::string& path) {
  auto opened = RocksDbStorage::Open(path, RocksDbOptions::ForTest());
  MERIDIAN_ASSERT_MSG(opened.ok(), opened.status().ToString().c_str());
  return std::move(opened).value();
}

// Each batch writes a pair "a<i>" and "b<i>" together: a consistent copy holds both or neither.
RecordBatch Pair(int i) {
  RecordBatch batch;
  batch.Put("a" + std::to_string(i), std::string(100, 'x'));
  batch.Put("b" + std::to_string(i), std::string(100, 'y'));
  return batch;
}

TEST(RocksDbBackupTest, ABackupTakenUnderWritesRestoresOneConsistentPoint) {
  TestTempDir dir;
  auto db = OpenOrDie(dir.Sub("db"));
  for (int i = 0; i < 1000; ++i)
    ASSERT_TRUE(db->Write(Pair(i), {.sync = false}).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> written{1000};
  std::thread writer([&] {
    for (int i = 1000; !stop && i < 200'000; ++i) {
      ASSERT_TRUE(db->Write(Pair(i), {.sync = false}).ok());
      written = i + 1;
    }
  });
  auto backup = db->Backup(dir.Sub("backups"));
  stop = true;
  writer.join();
  ASSERT_TRUE(backup.ok()) << backup.status().ToString();
  EXPECT_EQ(backup->backup_id, 1u);
  EXPECT_GT(backup->files, 0u);

  auto restored = RocksDbStorage::RestoreLatest(dir.Sub("backups"), dir.Sub("restored"));
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  auto copy = OpenOrDie(dir.Sub("restored"));
  int pairs = 0;
  for (int i = 0; i < written; ++i) {
    const bool a = copy->Get("a" + std::to_string(i))->has_value();
    const bool b = copy->Get("b" + std::to_string(i))->has_value();
    ASSERT_EQ(a, b) << "batch " << i << " is torn in the backup";
    if (!a) break;
    ++pairs;
  }
  EXPECT_GE(pairs, 1000);                // everything written before the backup began
  for (int i = pairs; i < written; ++i)  // and nothing after its point
    ASSERT_FALSE(copy->Get("a" + std::to_string(i))->has_value()) << i;
}

TEST(RocksDbBackupTest, LaterBackupsShareUnchangedFilesAndRestoreTheLatest) {
  TestTempDir dir;
  auto db = OpenOrDie(dir.Sub("db"));
  for (int i = 0; i < 5000; ++i)
    ASSERT_TRUE(db->Write(Pair(i)).ok());
  auto first = db->Backup(dir.Sub("backups"));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(db->Write(Pair(5000)).ok());
  auto second = db->Backup(dir.Sub("backups"));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->backup_id, first->backup_id + 1);
  // The shared SST files are counted in both backups but stored once.
  uint64_t stored = 0;
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir.Sub("backups"))) {
    if (f.is_regular_file()) stored += f.file_size();
  }
  EXPECT_LT(stored, first->size_bytes + second->size_bytes);

  ASSERT_TRUE(RocksDbStorage::RestoreLatest(dir.Sub("backups"), dir.Sub("restored")).ok());
  auto copy = OpenOrDie(dir.Sub("restored"));
  EXPECT_TRUE(copy->Get("a5000")->has_value());
}

TEST(RocksDbBackupTest, RestoreRefusesADirectoryHoldingADatabase) {
  TestTempDir dir;
  auto db = OpenOrDie(dir.Sub("db"));
  ASSERT_TRUE(db->Write(Pair(1)).ok());
  ASSERT_TRUE(db->Backup(dir.Sub("backups")).ok());
  {
    auto other = OpenOrDie(dir.Sub("other"));
    ASSERT_TRUE(other->Write(Pair(2)).ok());
  }
  auto refused = RocksDbStorage::RestoreLatest(dir.Sub("backups"), dir.Sub("other"));
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition)
      << refused.status().ToString();
  auto other = OpenOrDie(dir.Sub("other"));
  EXPECT_TRUE(other->Get("a2")->has_value());
  EXPECT_FALSE(other->Get("a1")->has_value());
  EXPECT_EQ(RocksDbStorage::RestoreLatest(dir.Sub("none"), dir.Sub("x")).status().code(),
            StatusCode::kNotFound);
}

}  // namespace
}  // namespace meridian
