// RestoreRegion: the restored copy is a new incarnation for every replica in it, the every-region
// group's and each residency group's, and keeps everything else.
#include "server/region_backup.h"

#include <gtest/gtest.h>

#include "replica/storage_keys.h"
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
