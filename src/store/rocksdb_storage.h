// RocksDbStorage: the Storage the server persists through, one RocksDB database per region.
//
// Invariants (on top of the Storage contract in base/storage.h):
//  1. One Write is one rocksdb::WriteBatch: atomic across a crash, visible all at once.
//  2. WriteOptions.sync maps to rocksdb::WriteOptions::sync (fsync of the WAL before return).
//     Unsynced writes still reach the OS on every Write (manual_wal_flush stays off), so they
//     survive kill -9 and are lost only by power loss.
//  3. Group commit is RocksDB's: concurrent Writes queue in its write thread, one leader appends
//     the group to the WAL and syncs it once. Nothing here serializes Writes, and the options
//     leave the write path at RocksDB's grouping defaults (see rocksdb_storage.cc).
//  4. Every RocksDB failure becomes a Status naming the database path and RocksDB's message;
//     nothing throws.
//  5. A point mutation that a later point mutation of the same batch overrides is not written
//     (the result is the same, the batch being atomic); range deletes map to DeleteRange.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "base/storage.h"

namespace rocksdb {
class DB;
class Statistics;
}  // namespace rocksdb

namespace meridian {

// All RocksDB tunables Meridian sets. The defaults are for `meridian region`: three regions and
// the WAN emulator share one 2-core machine, so each database keeps its threads and memory small.
struct RocksDbOptions {
  // false for tools that inspect an existing region and must fail rather than create an empty one.
  bool create_if_missing = true;
  // Flush + compaction threads. 2 (RocksDB's own default): one flush and one compaction can run
  // together, and three regions then add at most 6 mostly idle threads to 2 cores.
  int max_background_jobs = 2;
  // Memtable size. 16 MiB instead of 64: replica records are small, and three regions times
  // max_write_buffer_number memtables must stay far below the machine's memory.
  size_t write_buffer_size_bytes = 16 << 20;
  // Memtables per database: one being written, one being flushed; a third only buys burst room.
  int max_write_buffer_number = 2;
  // LRU block cache for reads. 32 MiB: the hot replica state (version vectors, recent keys) is
  // small; the OS page cache backs the rest.
  size_t block_cache_bytes = 32 << 20;
  // Open SST files kept. 256 instead of unlimited (-1): three regions share one process's or
  // machine's descriptor limit with every socket of the mesh.
  int max_open_files = 256;
  // RocksDB's info LOG files kept per database; older ones are deleted, so disk use stays flat.
  size_t keep_info_log_files = 3;
  // false (RocksDB's default): the write-thread leader writes WAL and memtable for its group.
  // true pipelines a group's memtable insert with the next group's WAL write; both group
  // synced writers into one fsync. The benchmark (storage_benchmark) measures the difference.
  bool pipelined_write = false;
  // RocksDB statistics (write-group and WAL-sync tickers, for WriteStats()). Off by default: it
  // costs a few percent per operation; the benchmark and diagnosis turn it on.
  bool collect_statistics = false;
  // Run flush and compaction threads at low CPU priority (nice), so a memtable flush on a busy
  // 2-core machine does not take the CPU from the threads that answer clients. The threads are
  // process-wide (RocksDB's default Env): the first database opened sets it for the process.
  bool background_low_priority = true;

  // Small memtables and cache, so tests exercise flushes and compactions within seconds.
  static RocksDbOptions ForTest() {
    RocksDbOptions options;
    options.write_buffer_size_bytes = 1 << 20;
    options.block_cache_bytes = 1 << 20;
    options.max_open_files = 64;
    return options;
  }
};

// One backup in a backup directory (RocksDbStorage::Backup).
struct RocksDbBackupInfo {
  uint32_t backup_id = 0;
  uint64_t size_bytes = 0;  // all its files, shared ones included
  uint32_t files = 0;
  int64_t timestamp = 0;  // seconds since the epoch
};

// How RocksDB grouped the Writes so far; evidence for group commit.
struct RocksDbWriteStats {
  uint64_t writes_by_self = 0;   // Writes committed by their own thread (as group leader)
  uint64_t writes_by_other = 0;  // Writes committed by another thread's group
  uint64_t wal_syncs = 0;        // WAL fsyncs; less than synced Writes means groups formed
  uint64_t wal_bytes = 0;        // bytes of write batches appended to the WAL (no headers)
};

// What the Writes so far appended to the WAL: evidence for the bytes a client write costs.
struct RocksDbWalBytes {
  uint64_t batches = 0;  // Writes (an empty one still appends its 12-byte header)
  uint64_t bytes = 0;    // their WAL records: each batch's encoding plus the record header
};

class RocksDbStorage final : public Storage {
 public:
  // Opens (creating when options.create_if_missing) the database in directory `path`.
  // Fails with FAILED_PRECONDITION when another process (or another RocksDbStorage in this one)
  // holds the database open, and with a Status naming `path` and RocksDB's message otherwise.
  static Result<std::unique_ptr<RocksDbStorage>> Open(const std::string& path,
                                                      RocksDbOptions options);

  RocksDbStorage(const RocksDbStorage&) = delete;
  RocksDbStorage& operator=(const RocksDbStorage&) = delete;
  // Close()s if the owner did not; a failure there can only be logged to stderr.
  ~RocksDbStorage() override;

  Status Write(const RecordBatch& batch, WriteOptions options = {}) override;
  // rocksdb::DB::SyncWAL: fsyncs the WAL files; concurrent Writes are not blocked meanwhile.
  Status Sync() override;
  Result<std::optional<std::string>> Get(std::string_view key) const override;
  // Iterates an implicit snapshot, so `visit` sees one consistent state and may call Write.
  // The views passed to `visit` are valid only during that call.
  Status Scan(std::string_view prefix,
              const std::function<Status(std::string_view key, std::string_view value)>& visit)
      const override;

  // Rewrites the whole database so that what was deleted leaves its files: flushes the
  // memtable (the old WAL file is then deleted), compacts every level down to the bottommost
  // (dropping deleted keys and range-deleted ranges), and lets RocksDB delete the obsolete
  // files. For small databases (the vault store of subjects' keys); blocks while it runs.
  Status Purge();

  // Syncs the WAL (so a clean shutdown keeps even unsynced writes), then closes the database
  // and releases its lock. Idempotent.
  // REQUIRES: no other call on this object is running or follows, except the destructor.
  Status Close();

  // An online backup of this database into `backup_dir` (created when missing), consistent at
  // one point between Writes (the memtable is flushed first, so unsynced Writes are in it too).
  // Incremental: a later backup into the same directory copies only the files that changed.
  // Safe while other threads Write. RocksDB's BackupEngine (rocksdb_backup.cc).
  Result<RocksDbBackupInfo> Backup(const std::string& backup_dir);

  // FAILED_PRECONDITION unless opened with collect_statistics.
  Result<RocksDbWriteStats> WriteStats() const;
  // Counted on every Write, statistics or not (two relaxed atomic adds).
  RocksDbWalBytes WalBytes() const;

  const std::string& path() const { return path_; }

  // Restores the latest backup in `backup_dir` into `data_dir`, which must hold no database
  // (FAILED_PRECONDITION otherwise, changing nothing). The restored database is as it was when
  // the backup was taken; what it means to the replica is the caller's (server/region_backup.h).
  static Result<RocksDbBackupInfo> RestoreLatest(const std::string& backup_dir,
                                                 const std::string& data_dir);

 private:
  RocksDbStorage(std::string path, std::unique_ptr<rocksdb::DB> db,
                 std::shared_ptr<rocksdb::Statistics> statistics);

  const std::string path_;
  std::unique_ptr<rocksdb::DB> db_;                  // null once closed
  std::shared_ptr<rocksdb::Statistics> statistics_;  // null unless collect_statistics
  // log::Writer's header: checksum (4), length (2), type (1).
  static constexpr uint64_t kWalRecordHeaderBytes = 7;
  std::atomic<uint64_t> batches_{0};
  std::atomic<uint64_t> batch_bytes_{0};
};

}  // namespace meridian
