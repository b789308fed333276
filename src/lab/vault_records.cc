// VaultRecords (vault_records.h).
#include "lab/vault_records.h"

#include <rocksdb/db.h>
#include <sodium.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>

#include "base/assert.h"
#include "node/subject_vault.h"

namespace meridian {
namespace {

constexpr size_t kMasterKeyBytes = crypto_aead_xchacha20poly1305_ietf_KEYBYTES;
constexpr size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;
// A data key record's id: storage_keys::EncodeU64, fixed width.
constexpr size_t kKeyIdBytes = 8;

}  // namespace

std::string SubjectVaultPrefix(std::string_view subject) {
  std::string prefix(kVaultPrefix);
  prefix += subject;
  prefix.push_back('\0');
  return prefix;
}

Result<SubjectKeyRecords> ReadSubjectKeyRecords(const std::string& vault_dir,
                                                std::string_view subject) {
  if (!std::filesystem::is_directory(vault_dir)) return NotFound("no vault at " + vault_dir);
  rocksdb::Options options;
  options.create_if_missing = false;
  options.max_open_files = 16;
  rocksdb::DB* raw = nullptr;
  const rocksdb::Status opened = rocksdb::DB::OpenForReadOnly(options, vault_dir, &raw);
  if (!opened.ok()) return Unavailable(vault_dir + ": " + opened.ToString());
  std::unique_ptr<rocksdb::DB> db(raw);
  const std::string prefix = SubjectVaultPrefix(subject);
  SubjectKeyRecords out;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    const size_t id_bytes = it->key().size() - prefix.size();
    if (id_bytes == 0) {
      out.erased_marker = true;
    } else if (id_bytes == kKeyIdBytes) {
      out.data_keys.push_back(VaultRecord{it->key().ToString(), it->value().ToString()});
    }
  }
  if (!it->status().ok()) return Unavailable(vault_dir + ": " + it->status().ToString());
  return out;
}

Result<std::string> UnwrapVaultRecord(std::string_view master_key, const VaultRecord& record) {
  MERIDIAN_ASSERT(master_key.size() == kMasterKeyBytes);
  MERIDIAN_ASSERT(sodium_init() >= 0);
  if (record.wrapped.size() < kNonceBytes + kTagBytes) {
    return DataLoss("vault record too short to be wrapped");
  }
  std::string plain(record.wrapped.size() - kNonceBytes - kTagBytes, '\0');
  unsigned long long written = 0;
  const auto* bytes = reinterpret_cast<const unsigned char*>(record.wrapped.data());
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(plain.data()), &written, nullptr, bytes + kNonceBytes,
          record.wrapped.size() - kNonceBytes,
          reinterpret_cast<const unsigned char*>(record.key.data()), record.key.size(), bytes,
          reinterpret_cast<const unsigned char*>(master_key.data())) != 0) {
    return DataLoss("vault record does not open under this master key");
  }
  plain.resize(written);
  if (plain.size() != kDataKeyBytes) return DataLoss("an unwrapped data key is not 32 bytes");
  return plain;
}

Result<std::string> ReadMasterKeyFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("master key file " + path + ": cannot read it");
  std::string key((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (key.size() != kMasterKeyBytes) {
    return InvalidArgument("master key file " + path + " holds " + std::to_string(key.size()) +
                           " bytes, not " + std::to_string(kMasterKeyBytes));
  }
  return key;
}

}  // namespace meridian
