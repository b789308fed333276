#include "server/region_backup.h"

#include <filesystem>

#include "replica/storage_keys.h"
#include "server/slice_layout.h"
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

Result<std::vector<RocksDbBackupInfo>> RestoreAnyRegion(const std::string& backup_dir,
                                                        const std::string& data_dir) {
  namespace fs = std::filesystem;
  std::error_code error;
  uint32_t slices = 0;
  while (fs::is_directory(SliceDataDir(backup_dir, slices, 2), error))
    ++slices;
  std::vector<RocksDbBackupInfo> restored;
  if (slices == 0) {
    auto one = RestoreRegion(backup_dir, data_dir);
    if (!one.ok()) return one.status();
    restored.push_back(*one);
    return restored;
  }
  if (slices == 1) {
    return InvalidArgument(backup_dir + " holds slice-0 alone: a sliced backup has every slice");
  }
  if (fs::exists(data_dir, error) && !fs::is_empty(data_dir, error)) {
    return FailedPrecondition(data_dir + " is not empty: restore into an empty directory");
  }
  MERIDIAN_RETURN_IF_ERROR(CheckSliceLayout(data_dir, slices));  // records the count
  for (uint32_t slice = 0; slice < slices; ++slice) {
    auto one = RestoreRegion(SliceDataDir(backup_dir, slice, slices),
                             SliceDataDir(data_dir, slice, slices));
    if (!one.ok()) {
      return Status(one.status().code(),
                    "slice " + std::to_string(slice) + ": " + one.status().message());
    }
    restored.push_back(*one);
  }
  return restored;
}

}  // namespace meridian
