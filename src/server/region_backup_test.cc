// RestoreRegion: the restored copy is a new incarnation for every replica in it, the every-region
// group's and each residency group's, and keeps everything else.
#include "server/region_backup.h"

#include <gtest/gtest.h>

#include "replica/storage_keys.h"
#include "server/slice_layout.h"
#include "store/test_temp_dir.h"
#include "strong/strong_node.h"

namespace meridian {
namespace {

TEST(RegionBackupTest, RestoreForgetsTheIncarnationOfEveryGroup) {
  TestTempDir dir;
  {
    auto db = RocksDbStorage::Open(dir.Sub("db"), RocksDbOptions::ForTest());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    RecordBatch batch;
    batch.Put(std::string(storage_keys::kIncarnation), "inc0");
    batch.Put(std::string(StrongNode::kSyncedMarkerKey), "");
    batch.Put("g00000003/" + std::string(storage_keys::kIncarnation), "inc3");
    batch.Put("g00000006/" + std::string(storage_keys::kIncarnation), "inc6");
    batch.Put("g00000003/" + std::string(storage_keys::kAppliedVector), "vv3");
    batch.Put("g00000003/sxgdpr:a", "state");
    ASSERT_TRUE((*db)->Write(batch, {.sync = true}).ok());
    ASSERT_TRUE((*db)->Backup(dir.Sub("backups")).ok());
    ASSERT_TRUE((*db)->Close().ok());
  }
  auto restored = RestoreRegion(dir.Sub("backups"), dir.Sub("restored"));
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  auto copy = RocksDbStorage::Open(dir.Sub("restored"), RocksDbOptions::ForTest());
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  for (const std::string& key :
       {std::string(storage_keys::kIncarnation), std::string(StrongNode::kSyncedMarkerKey),
        "g00000003/" + std::string(storage_keys::kIncarnation),
        "g00000006/" + std::string(storage_keys::kIncarnation)}) {
    EXPECT_FALSE((*copy)->Get(key)->has_value()) << key;
  }
  EXPECT_EQ((*copy)->Get("g00000003/" + std::string(storage_keys::kAppliedVector))->value(), "vv3");
  EXPECT_EQ((*copy)->Get("g00000003/sxgdpr:a")->value(), "state");
}

}  // namespace
}  // namespace meridian

namespace meridian {
namespace {

// A sliced region's backup is one per slice; the restore puts each slice back in the layout the
// region's start checks (server/slice_layout.h), each a new incarnation.
TEST(RegionBackupTest, ASlicedBackupRestoresEverySliceAndRecordsTheCount) {
  TestTempDir dir;
  for (uint32_t slice = 0; slice < 2; ++slice) {
    auto db =
        RocksDbStorage::Open(dir.Sub("db" + std::to_string(slice)), RocksDbOptions::ForTest());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    RecordBatch batch;
    batch.Put(std::string(storage_keys::kIncarnation), "inc");
    batch.Put("sxkey", "state of slice " + std::to_string(slice));
    ASSERT_TRUE((*db)->Write(batch, {.sync = true}).ok());
    ASSERT_TRUE((*db)->Backup(SliceDataDir(dir.Sub("backups"), slice, 2)).ok());
    ASSERT_TRUE((*db)->Close().ok());
  }
  auto restored = RestoreAnyRegion(dir.Sub("backups"), dir.Sub("restored"));
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(restored->size(), 2u);
  EXPECT_TRUE(CheckSliceLayout(dir.Sub("restored"), 2).ok());
  EXPECT_FALSE(CheckSliceLayout(dir.Sub("restored"), 1).ok());
  EXPECT_FALSE(CheckSliceLayout(dir.Sub("restored"), 3).ok());
  for (uint32_t slice = 0; slice < 2; ++slice) {
    auto copy = RocksDbStorage::Open(SliceDataDir(dir.Sub("restored"), slice, 2),
                                     RocksDbOptions::ForTest());
    ASSERT_TRUE(copy.ok()) << copy.status().ToString();
    EXPECT_EQ((*copy)->Get("sxkey")->value(), "state of slice " + std::to_string(slice));
    EXPECT_FALSE((*copy)->Get(std::string(storage_keys::kIncarnation))->has_value());
  }
  // Into a directory that holds anything, nothing is restored.
  auto again = RestoreAnyRegion(dir.Sub("backups"), dir.Sub("restored"));
  EXPECT_FALSE(again.ok());
}

TEST(RegionBackupTest, SliceLayoutRefusesDataOfAnotherCount) {
  TestTempDir dir;
  EXPECT_EQ(SliceDataDir("d", 0, 1), "d");
  EXPECT_EQ(SliceDataDir("d", 1, 2), "d/slice-1");
  EXPECT_TRUE(CheckSliceLayout(dir.Sub("unsliced"), 1).ok());
  {
    auto db = RocksDbStorage::Open(dir.Sub("unsliced"), RocksDbOptions::ForTest());
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Close().ok());
  }
  const Status resliced = CheckSliceLayout(dir.Sub("unsliced"), 2);
  EXPECT_EQ(resliced.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(resliced.message().find("unsliced"), std::string::npos) << resliced.message();
  EXPECT_TRUE(CheckSliceLayout(dir.Sub("two"), 2).ok());  // writes SLICES
  EXPECT_TRUE(CheckSliceLayout(dir.Sub("two"), 2).ok());
  EXPECT_EQ(CheckSliceLayout(dir.Sub("two"), 4).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(CheckSliceLayout(dir.Sub("two"), 1).code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace meridian
