// Backups of a region's database and restores from them, with RocksDB's BackupEngine: files are
// copied (SSTs shared between backups in one directory, so later backups are incremental) and a
// backup is one consistent point of the database.
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/utilities/backup_engine.h>

#include <filesystem>
#include <memory>
#include <system_error>

#include "store/rocksdb_status.h"
#include "store/rocksdb_storage.h"

namespace meridian {
namespace {

RocksDbBackupInfo FromInfo(const rocksdb::BackupInfo& info) {
  return {info.backup_id, info.size, info.number_files, info.timestamp};
}

}  // namespace

Result<RocksDbBackupInfo> RocksDbStorage::Backup(const std::string& backup_dir) {
  MERIDIAN_ASSERT_MSG(db_ != nullptr, "RocksDbStorage::Backup after Close");
  if (backup_dir.empty()) return InvalidArgument("backup: empty directory");
  std::error_code error;
  std::filesystem::create_directories(backup_dir, error);
  if (error) return Unavailable("backup into " + backup_dir + ": " + error.message());
  rocksdb::BackupEngine* raw = nullptr;
  rocksdb::IOStatus s = rocksdb::BackupEngine::Open(rocksdb::BackupEngineOptions(backup_dir),
                                                    rocksdb::Env::Default(), &raw);
  if (!s.ok()) return FromRocks(s, "backup engine open", backup_dir);
  std::unique_ptr<rocksdb::BackupEngine> engine(raw);
  rocksdb::CreateBackupOptions options;
  options.flush_before_backup = true;
  rocksdb::BackupID id = 0;
  s = engine->CreateNewBackup(options, db_.get(), &id);
  if (!s.ok()) return FromRocks(s, "backup of " + path_ + " into", backup_dir);
  rocksdb::BackupInfo info;
  rocksdb::Status read = engine->GetBackupInfo(id, &info);
  if (!read.ok()) return FromRocks(read, "backup info", backup_dir);
  return FromInfo(info);
}

Result<RocksDbBackupInfo> RocksDbStorage::RestoreLatest(const std::string& backup_dir,
                                                        const std::string& data_dir) {
  if (backup_dir.empty() || data_dir.empty()) return InvalidArgument("restore: empty directory");
  std::error_code error;
  if (std::filesystem::exists(std::filesystem::path(data_dir) / "CURRENT", error)) {
    return FailedPrecondition("restore into " + data_dir +
                              ": it holds a database; restore only into an empty directory");
  }
  if (!std::filesystem::is_directory(backup_dir, error)) {
    return NotFound("restore: no backup directory " + backup_dir);
  }
  rocksdb::BackupEngineReadOnly* raw = nullptr;
  rocksdb::IOStatus s = rocksdb::BackupEngineReadOnly::Open(
      rocksdb::BackupEngineOptions(backup_dir), rocksdb::Env::Default(), &raw);
  if (!s.ok()) return FromRocks(s, "backup engine open", backup_dir);
  std::unique_ptr<rocksdb::BackupEngineReadOnly> engine(raw);
  rocksdb::BackupInfo info;
  rocksdb::Status latest = engine->GetLatestBackupInfo(&info);
  if (!latest.ok()) return FromRocks(latest, "restore: no backup in", backup_dir);
  std::filesystem::create_directories(data_dir, error);
  if (error) return Unavailable("restore into " + data_dir + ": " + error.message());
  s = engine->RestoreDBFromLatestBackup(data_dir, data_dir);
  if (!s.ok()) return FromRocks(s, "restore from " + backup_dir + " into", data_dir);
  return FromInfo(info);
}

}  // namespace meridian
