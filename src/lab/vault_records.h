// VaultRecords: a region's subject data keys as they sit in its vault (src/server/vault_store.h),
// read from outside the region, for the lab's `erasure` experiment: the wrapped record bytes a raw
// scan must no longer find after an erasure, and the data keys inside them, which must never be
// on disk in the clear.
//
// Contract:
//  1. ReadSubjectKeyRecords opens the vault database read-only (RocksDB's OpenForReadOnly: no
//     file of the region is written, created or removed) and returns the subject's data key
//     records (key "v" SUBJECT NUL ID, ID 8 bytes; subject_vault.h), in key order; the erased
//     marker (key "v" SUBJECT NUL) is not a data key and is reported apart. Meant for a stopped
//     region: a running one may change its files under the reader.
//  2. UnwrapVaultRecord reverses VaultStore's wrapping: value = nonce (24) || XChaCha20-Poly1305
//     ciphertext, the record's key as associated data, the region's master key as key. A record
//     that does not open under that key (another region's, a moved one, a damaged one) is
//     DataLoss, never a wrong key.
//  3. ReadMasterKeyFile reads a region's master key file (32 bytes) without ever making one.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace meridian {

struct VaultRecord {
  std::string key;      // as stored: "v" SUBJECT NUL ID
  std::string wrapped;  // the value as stored: nonce || ciphertext
};

struct SubjectKeyRecords {
  std::vector<VaultRecord> data_keys;
  bool erased_marker = false;  // the subject's erased marker is present
};

// The vault record key prefix of `subject`'s records: "v" SUBJECT NUL.
std::string SubjectVaultPrefix(std::string_view subject);

// `subject`'s records in the vault database at `vault_dir` (contract 1).
Result<SubjectKeyRecords> ReadSubjectKeyRecords(const std::string& vault_dir,
                                                std::string_view subject);

// The data key wrapped in `record` (contract 2). REQUIRES: master_key is 32 bytes.
Result<std::string> UnwrapVaultRecord(std::string_view master_key, const VaultRecord& record);

// The 32 bytes of the master key file at `path` (contract 3).
Result<std::string> ReadMasterKeyFile(const std::string& path);

}  // namespace meridian
