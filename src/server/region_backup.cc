#include "server/region_backup.h"

#include "replica/storage_keys.h"
#include "strong/strong_node.h"

namespace meridian {

Result<RocksDbBackupInfo> RestoreRegion(const std::string& backup_dir,
                                        const std::string& data_dir) {
  auto restored = RocksDbStorage::RestoreLatest(backup_dir, data_dir);
  if (!restored.ok()) return restored.status();
  RocksDbOptions options;
  options.create_if_missing = false;
  auto storage = RocksDbStorage::Open(data_dir, options);
  if (!storage.ok()) return storage.status();
  RecordBatch forget;
  forget.Delete(std::string(storage_keys::kIncarnation));
  forget.Delete(std::string(StrongNode::kSyncedMarkerKey));
  if (Status st = (*storage)->Write(forget, {.sync = true}); !st.ok()) return st;
  if (Status st = (*storage)->Close(); !st.ok()) return st;
  return restored;
}

}  // namespace meridian
