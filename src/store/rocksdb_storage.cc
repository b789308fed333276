#include "store/rocksdb_storage.h"

#include "store/rocksdb_status.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/statistics.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <cstdio>
#include <filesystem>
#include <string_view>
#include <system_error>
#include <unordered_set>
#include <utility>
#include <vector>

namespace meridian {
namespace {

// RocksDB reports a held LOCK file as an I/O error; only its message tells it apart. The two
// texts are PosixFileSystem::LockFile's: another process holds the lock, or this process does.
bool IsLockHeld(const rocksdb::Status& s) {
  const std::string text = s.ToString();
  return s.IsIOError() && (text.find("While lock file") != std::string::npos ||
                           text.find("lock hold by current process") != std::string::npos);
}

rocksdb::Slice ToSlice(std::string_view s) {
  return rocksdb::Slice(s.data(), s.size());
}
std::string_view ToView(const rocksdb::Slice& s) {
  return std::string_view(s.data(), s.size());
}

}  // namespace

Status FromRocks(const rocksdb::Status& s, std::string_view what, const std::string& path) {
  MERIDIAN_ASSERT(!s.ok());
  std::string message = "RocksDB " + std::string(what) + " of " + path + ": " + s.ToString();
  if (IsLockHeld(s)) {
    return FailedPrecondition(message +
                              " (the database is held open by another process or handle;"
                              " is another region running on this directory?)");
  }
  // No space is transient (compaction or an operator frees some); other I/O errors are the
  // disk's, not the request's, so the same batch may succeed once the disk recovers.
  if (s.IsNoSpace()) return ResourceExhausted(std::move(message));
  if (s.IsIOError()) return Unavailable(std::move(message));
  if (s.IsCorruption()) return DataLoss(std::move(message));
  if (s.IsInvalidArgument()) return InvalidArgument(std::move(message));
  if (s.IsNotFound()) return NotFound(std::move(message));
  if (s.IsNotSupported()) return {StatusCode::kUnimplemented, std::move(message)};
  if (s.IsAborted()) return Aborted(std::move(message));
  if (s.IsBusy() || s.IsTryAgain() || s.IsTimedOut() || s.IsShutdownInProgress()) {
    return Unavailable(std::move(message));
  }
  return {StatusCode::kUnknown, std::move(message)};
}

namespace {

rocksdb::Options MakeOptions(const RocksDbOptions& options) {
  rocksdb::Options o;
  o.create_if_missing = options.create_if_missing;
  o.max_background_jobs = options.max_background_jobs;
  o.write_buffer_size = options.write_buffer_size_bytes;
  o.max_write_buffer_number = options.max_write_buffer_number;
  o.max_open_files = options.max_open_files;
  o.keep_log_file_num = options.keep_info_log_files;
  o.enable_pipelined_write = options.pipelined_write;
  // Set explicitly although they are RocksDB's defaults, because invariants 2 and 3 of the
  // header rest on them: manual_wal_flush would buffer unsynced writes in user space, where
  // kill -9 loses them; unordered_write and two_write_queues change how writers are grouped and
  // when a write becomes visible.
  o.manual_wal_flush = false;
  o.unordered_write = false;
  o.two_write_queues = false;
  // Point-in-time recovery replays the WAL up to a torn tail (a crash mid-append) and stops
  // there: that tail was never acknowledged, and every batch before it is whole.
  o.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;

  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  // 10 bits per key (~1% false positives) spares point Gets of absent keys a disk read.
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));

  if (options.collect_statistics) o.statistics = rocksdb::CreateDBStatistics();
  return o;
}

// The smallest string greater than every string starting with `prefix`; empty when there is
// none (the prefix is empty or all 0xFF bytes), meaning "no upper bound".
std::string PrefixSuccessor(std::string_view prefix) {
  std::string bound(prefix);
  while (!bound.empty() && static_cast<unsigned char>(bound.back()) == 0xFF)
    bound.pop_back();
  if (!bound.empty())
    bound.back() = static_cast<char>(static_cast<unsigned char>(bound.back()) + 1);
  return bound;
}

}  // namespace

Result<std::unique_ptr<RocksDbStorage>> RocksDbStorage::Open(const std::string& path,
                                                             RocksDbOptions options) {
  if (path.empty()) return InvalidArgument("RocksDB open: empty database path");
  if (options.create_if_missing) {
    // RocksDB creates only the last path component; a fresh region's data dir may need more.
    std::error_code error;
    std::filesystem::create_directories(path, error);
    if (error)
      return Unavailable("RocksDB open of " + path +
                         ": cannot create directory: " + error.message());
  }
  rocksdb::Options rocks_options = MakeOptions(options);
  if (options.background_low_priority) {
    // Best effort: where the platform cannot lower it, the threads keep normal priority.
    for (auto pool : {rocksdb::Env::Priority::LOW, rocksdb::Env::Priority::HIGH})
      rocks_options.env->LowerThreadPoolCPUPriority(pool, rocksdb::CpuPriority::kLow)
          .PermitUncheckedError();
  }
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(rocks_options, path, &raw);
  if (!s.ok()) return FromRocks(s, "open", path);
  MERIDIAN_ASSERT(raw != nullptr);
  return std::unique_ptr<RocksDbStorage>(new RocksDbStorage(path, std::unique_ptr<rocksdb::DB>(raw),
                                                            std::move(rocks_options.statistics)));
}

RocksDbStorage::RocksDbStorage(std::string path, std::unique_ptr<rocksdb::DB> db,
                               std::shared_ptr<rocksdb::Statistics> statistics)
    : path_(std::move(path)), db_(std::move(db)), statistics_(std::move(statistics)) {}

RocksDbStorage::~RocksDbStorage() {
  Status s = Close();
  if (!s.ok()) std::fprintf(stderr, "meridian: closing storage: %s\n", s.ToString().c_str());
}

Status RocksDbStorage::Purge() {
  MERIDIAN_ASSERT_MSG(db_ != nullptr, "RocksDbStorage::Purge after Close");
  rocksdb::FlushOptions flush;
  flush.wait = true;
  if (rocksdb::Status s = db_->Flush(flush); !s.ok()) return FromRocks(s, "flush", path_);
  rocksdb::CompactRangeOptions compact;
  compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  compact.exclusive_manual_compaction = true;
  if (rocksdb::Status s = db_->CompactRange(compact, nullptr, nullptr); !s.ok()) {
    return FromRocks(s, "compact", path_);
  }
  // Obsolete WAL and table files are deleted by the flush and the compaction themselves (no
  // WAL archive: WAL_ttl_seconds and WAL_size_limit_MB are 0).
  return Status::Ok();
}

Status RocksDbStorage::Close() {
  if (db_ == nullptr) return Status::Ok();
  Status result;
  rocksdb::Status s = db_->FlushWAL(/*sync=*/true);
  if (!s.ok()) result = FromRocks(s, "sync WAL at close", path_);
  s = db_->Close();
  if (!s.ok() && result.ok()) result = FromRocks(s, "close", path_);
  db_.reset();  // deleting the DB releases its LOCK even when Close reported an error
  return result;
}

Status RocksDbStorage::Write(const RecordBatch& batch, WriteOptions options) {
  MERIDIAN_ASSERT_MSG(db_ != nullptr, "RocksDbStorage::Write after Close");
  // A point mutation that a later point mutation of the same key overrides changes nothing the
  // batch leaves behind (it is atomic), so it is not written: a pass that writes one hot key
  // fifty times writes its state once (invariant 5). Range deletes are always written.
  std::unordered_set<std::string_view> later_keys;
  std::vector<bool> superseded(batch.mutations.size(), false);
  if (batch.mutations.size() > 1) {
    later_keys.reserve(batch.mutations.size());
    for (size_t i = batch.mutations.size(); i-- > 0;) {
      const Mutation& m = batch.mutations[i];
      if (m.is_range_delete()) continue;
      superseded[i] = !later_keys.insert(m.key).second;
    }
  }
  rocksdb::WriteBatch rocks_batch;
  for (size_t i = 0; i < batch.mutations.size(); ++i) {
    if (superseded[i]) continue;
    const Mutation& m = batch.mutations[i];
    rocksdb::Status s;
    if (m.is_range_delete()) {
      MERIDIAN_ASSERT(!m.value.has_value());
      // RocksDB refuses a range whose end sorts before its begin; an empty one deletes nothing.
      if (!(m.key < *m.range_end)) continue;
      s = rocks_batch.DeleteRange(ToSlice(m.key), ToSlice(*m.range_end));
    } else if (m.value.has_value()) {
      s = rocks_batch.Put(ToSlice(m.key), ToSlice(*m.value));
    } else {
      s = rocks_batch.Delete(ToSlice(m.key));
    }
    if (!s.ok()) return FromRocks(s, "batch", path_);
  }
  rocksdb::WriteOptions write_options;
  write_options.sync = options.sync;
  rocksdb::Status s = db_->Write(write_options, &rocks_batch);
  if (!s.ok()) return FromRocks(s, "write", path_);
  // The batch's encoding is what RocksDB appends to the WAL, plus a 7-byte record header (a
  // group of concurrent Writes shares one record, so this counts a few bytes high then).
  batch_bytes_.fetch_add(rocks_batch.GetDataSize() + kWalRecordHeaderBytes,
                         std::memory_order_relaxed);
  batches_.fetch_add(1, std::memory_order_relaxed);
  return Status::Ok();
}

RocksDbWalBytes RocksDbStorage::WalBytes() const {
  return {batches_.load(std::memory_order_relaxed), batch_bytes_.load(std::memory_order_relaxed)};
}

Status RocksDbStorage::Sync() {
  MERIDIAN_ASSERT_MSG(db_ != nullptr, "RocksDbStorage::Sync after Close");
  rocksdb::Status s = db_->SyncWAL();
  if (!s.ok()) return FromRocks(s, "sync", path_);
  return Status::Ok();
}

Result<std::optional<std::string>> RocksDbStorage::Get(std::string_view key) const {
  MERIDIAN_ASSERT_MSG(db_ != nullptr, "RocksDbStorage::Get after Close");
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), ToSlice(key), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocks(s, "get", path_);
  return std::optional<std::string>(std::move(value));
}

Status RocksDbStorage::Scan(
    std::string_view prefix,
    const std::function<Status(std::string_view key, std::string_view value)>& visit) const {
  MERIDIAN_ASSERT_MSG(db_ != nullptr, "RocksDbStorage::Scan after Close");
  // The upper bound ends the iteration inside RocksDB, so it never reads past the prefix
  // (nor through the tombstones that may lie beyond it).
  const std::string upper = PrefixSuccessor(prefix);
  const rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions read_options;
  if (!upper.empty()) read_options.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_options));
  for (it->Seek(ToSlice(prefix)); it->Valid(); it->Next()) {
    const std::string_view key = ToView(it->key());
    MERIDIAN_ASSERT(key.starts_with(prefix));
    MERIDIAN_RETURN_IF_ERROR(visit(key, ToView(it->value())));
  }
  if (!it->status().ok()) return FromRocks(it->status(), "scan", path_);
  return Status::Ok();
}

Result<RocksDbWriteStats> RocksDbStorage::WriteStats() const {
  if (statistics_ == nullptr) {
    return FailedPrecondition("RocksDB write stats of " + path_ +
                              ": opened without collect_statistics");
  }
  RocksDbWriteStats stats;
  stats.writes_by_self = statistics_->getTickerCount(rocksdb::WRITE_DONE_BY_SELF);
  stats.writes_by_other = statistics_->getTickerCount(rocksdb::WRITE_DONE_BY_OTHER);
  stats.wal_syncs = statistics_->getTickerCount(rocksdb::WAL_FILE_SYNCED);
  stats.wal_bytes = statistics_->getTickerCount(rocksdb::WAL_FILE_BYTES);
  return stats;
}

}  // namespace meridian
