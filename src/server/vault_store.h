// VaultStore: where a region keeps its subjects' data keys (src/node/subject_vault.h), apart from
// its data: a RocksDB database of its own in <data_dir>/vault, every value wrapped (sealed) with
// the region's master key, which lives in a file of its own (<master_key_dir>/<region>.master.key).
//
// Contract:
//  1. Only records under kVaultPrefix ("v") go here; the region server splits each pass's batch
//     (SplitVaultRecords) and writes the vault part first, synced, so a data key is durable
//     before any value sealed under it.
//  2. At rest a value is XChaCha20-Poly1305(master key, random nonce, associated data = the
//     record's key): the vault's files alone do not reveal a data key, and a record moved to
//     another key does not open.
//  3. Backups (region_backup.h) copy the data database only: a backup taken before an erasure
//     holds sealed values and no data key, so it stays unreadable for that subject. A region
//     restored from a backup gets the keys back from its peers (keyring sync on connect).
//  4. Purge() rewrites the vault after an erasure so the destroyed keys' wrapped bytes leave its
//     WAL and table files.
//  5. The master key file is made (0600, random) when missing; a file of another size is an
//     error naming it.
#pragma once

#include <memory>
#include <string>

#include "base/status.h"
#include "base/storage.h"
#include "store/rocksdb_storage.h"

namespace meridian {

// The vault's records of `batch` (moved into the result, removed from `batch`).
RecordBatch SplitVaultRecords(RecordBatch& batch);

class VaultStore final : public Storage {
 public:
  static Result<std::unique_ptr<VaultStore>> Open(const std::string& dir,
                                                  const std::string& master_key_file);

  Status Write(const RecordBatch& batch, WriteOptions options = {}) override;
  Status Sync() override { return db_->Sync(); }
  Result<std::optional<std::string>> Get(std::string_view key) const override;
  Status Scan(std::string_view prefix,
              const std::function<Status(std::string_view key, std::string_view value)>& visit)
      const override;
  Status Purge() { return db_->Purge(); }
  Status Close() { return db_->Close(); }

 private:
  VaultStore(std::unique_ptr<RocksDbStorage> db, std::string master_key);
  Result<std::string> Unwrap(std::string_view key, std::string_view wrapped) const;

  std::unique_ptr<RocksDbStorage> db_;
  std::string master_key_;  // 32 bytes
};

// A read view for recovery: the vault's prefix from `vault`, everything else from `data`.
// Writes are refused (the server writes through SplitVaultRecords).
class VaultRoutedView final : public Storage {
 public:
  VaultRoutedView(const Storage& data, const Storage& vault) : data_(data), vault_(vault) {}
  Status Write(const RecordBatch&, WriteOptions) override;
  Status Sync() override;
  Result<std::optional<std::string>> Get(std::string_view key) const override;
  Status Scan(std::string_view prefix,
              const std::function<Status(std::string_view key, std::string_view value)>& visit)
      const override;

 private:
  const Storage& For(std::string_view key) const;
  const Storage& data_;
  const Storage& vault_;
};

}  // namespace meridian
