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
  // Each residency group's replica is an incarnation of its own, under "g<mask>/" (RegionNode
  // contract 6): kept, its peers would take the copy for the replica that acknowledged more.
  const Status scanned = (*storage)->Scan("g", [&forget](std::string_view key, std::string_view) {
    if (key.size() > 10 && key[9] == '/' && key.substr(10) == storage_keys::kIncarnation) {
      forget.Delete(std::string(key));
    }
    return Status::Ok();
  });
  if (!scanned.ok()) return scanned;
  if (Status st = (*storage)->Write(forget, {.sync = true}); !st.ok()) return st;
  if (Status st = (*storage)->Close(); !st.ok()) return st;
  return restored;
}

}  // namespace meridian
