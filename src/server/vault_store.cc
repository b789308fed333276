// VaultStore (vault_store.h).
#include "server/vault_store.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <utility>
#include <vector>

#include "node/subject_vault.h"

namespace meridian {
namespace {

constexpr size_t kMasterKeyBytes = crypto_aead_xchacha20poly1305_ietf_KEYBYTES;
constexpr size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;

bool IsVaultKey(std::string_view key) {
  return key.starts_with(kVaultPrefix);
}

Status WriteNewKeyFile(const std::string& path) {
  std::error_code ignored;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ignored);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Unavailable("master key file " + path + ": " + std::strerror(errno));
  std::string key(kMasterKeyBytes, '\0');
  randombytes_buf(key.data(), key.size());
  const bool ok =
      ::write(fd, key.data(), key.size()) == static_cast<ssize_t>(key.size()) && ::fsync(fd) == 0;
  sodium_memzero(key.data(), key.size());
  ::close(fd);
  if (!ok) return Unavailable("master key file " + path + ": cannot write it");
  return Status::Ok();
}

Result<std::string> LoadMasterKey(const std::string& path) {
  if (!std::filesystem::exists(path)) {
    if (Status made = WriteNewKeyFile(path); !made.ok()) return made;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Unavailable("master key file " + path + ": cannot read it");
  std::string key((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (key.size() != kMasterKeyBytes) {
    return InvalidArgument("master key file " + path + " holds " + std::to_string(key.size()) +
                           " bytes; a master key is " + std::to_string(kMasterKeyBytes));
  }
  return key;
}

}  // namespace

RecordBatch SplitVaultRecords(RecordBatch& batch) {
  RecordBatch vault;
  if (std::none_of(batch.mutations.begin(), batch.mutations.end(),
                   [](const Mutation& m) { return IsVaultKey(m.key); })) {
    return vault;
  }
  std::vector<Mutation> data;
  for (Mutation& m : batch.mutations)
    (IsVaultKey(m.key) ? vault.mutations : data).push_back(std::move(m));
  batch.mutations = std::move(data);
  return vault;
}

Result<std::unique_ptr<VaultStore>> VaultStore::Open(const std::string& dir,
                                                     const std::string& master_key_file) {
  if (sodium_init() < 0) return Internal("libsodium failed to initialise");
  auto key = LoadMasterKey(master_key_file);
  if (!key.ok()) return key.status();
  RocksDbOptions options;
  options.max_background_jobs = 1;
  options.write_buffer_size_bytes = 1 << 20;
  options.block_cache_bytes = 1 << 20;
  options.max_open_files = 16;
  auto db = RocksDbStorage::Open(dir, options);
  if (!db.ok()) return db.status();
  return std::unique_ptr<VaultStore>(new VaultStore(std::move(db).value(), std::move(key).value()));
}

VaultStore::VaultStore(std::unique_ptr<RocksDbStorage> db, std::string master_key)
    : db_(std::move(db)), master_key_(std::move(master_key)) {}

Status VaultStore::Write(const RecordBatch& batch, WriteOptions options) {
  RecordBatch wrapped;
  for (const Mutation& m : batch.mutations) {
    if (!IsVaultKey(m.key)) return Internal("a record outside the vault's prefix reached it");
    if (!m.value) {
      wrapped.mutations.push_back(m);
      continue;
    }
    std::string out(kNonceBytes + m.value->size() + kTagBytes, '\0');
    auto* bytes = reinterpret_cast<unsigned char*>(out.data());
    randombytes_buf(bytes, kNonceBytes);
    unsigned long long written = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(
        bytes + kNonceBytes, &written, reinterpret_cast<const unsigned char*>(m.value->data()),
        m.value->size(), reinterpret_cast<const unsigned char*>(m.key.data()), m.key.size(),
        nullptr, bytes, reinterpret_cast<const unsigned char*>(master_key_.data()));
    wrapped.Put(m.key, std::move(out));
  }
  return db_->Write(wrapped, options);
}

Result<std::string> VaultStore::Unwrap(std::string_view key, std::string_view wrapped) const {
  if (wrapped.size() < kNonceBytes + kTagBytes) {
    return DataLoss("vault record too short to be wrapped");
  }
  std::string plain(wrapped.size() - kNonceBytes - kTagBytes, '\0');
  unsigned long long written = 0;
  const auto* bytes = reinterpret_cast<const unsigned char*>(wrapped.data());
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(plain.data()), &written, nullptr, bytes + kNonceBytes,
          wrapped.size() - kNonceBytes, reinterpret_cast<const unsigned char*>(key.data()),
          key.size(), bytes, reinterpret_cast<const unsigned char*>(master_key_.data())) != 0) {
    return DataLoss(
        "a vault record does not open under this region's master key (another "
        "region's key file, or a damaged record)");
  }
  plain.resize(written);
  return plain;
}

Result<std::optional<std::string>> VaultStore::Get(std::string_view key) const {
  auto found = db_->Get(key);
  if (!found.ok() || !*found) return found;
  auto plain = Unwrap(key, **found);
  if (!plain.ok()) return plain.status();
  return std::optional<std::string>(std::move(plain).value());
}

Status VaultStore::Scan(
    std::string_view prefix,
    const std::function<Status(std::string_view key, std::string_view value)>& visit) const {
  return db_->Scan(prefix, [&](std::string_view key, std::string_view value) -> Status {
    auto plain = Unwrap(key, value);
    if (!plain.ok()) return plain.status();
    return visit(key, *plain);
  });
}

Status VaultRoutedView::Write(const RecordBatch&, WriteOptions) {
  return Internal("the vault's routed view is read-only");
}
Status VaultRoutedView::Sync() {
  return Internal("the vault's routed view is read-only");
}

const Storage& VaultRoutedView::For(std::string_view key) const {
  return IsVaultKey(key) ? vault_ : data_;
}

Result<std::optional<std::string>> VaultRoutedView::Get(std::string_view key) const {
  return For(key).Get(key);
}

Status VaultRoutedView::Scan(
    std::string_view prefix,
    const std::function<Status(std::string_view key, std::string_view value)>& visit) const {
  if (IsVaultKey(prefix)) return vault_.Scan(prefix, visit);
  if (!std::string_view(kVaultPrefix).starts_with(prefix)) return data_.Scan(prefix, visit);
  // A prefix both hold (only ""): the data's keys before "v", the vault's, then the data's after.
  std::vector<std::pair<std::string, std::string>> vault;
  if (Status s = vault_.Scan(kVaultPrefix,
                             [&vault](std::string_view k, std::string_view v) {
                               vault.emplace_back(k, v);
                               return Status::Ok();
                             });
      !s.ok()) {
    return s;
  }
  bool vault_done = false;
  auto flush_vault = [&]() -> Status {
    vault_done = true;
    for (const auto& [k, v] : vault)
      if (Status s = visit(k, v); !s.ok()) return s;
    return Status::Ok();
  };
  Status s = data_.Scan(prefix, [&](std::string_view key, std::string_view value) -> Status {
    if (!vault_done && key > kVaultPrefix) {
      if (Status st = flush_vault(); !st.ok()) return st;
    }
    return visit(key, value);
  });
  if (!s.ok() || vault_done) return s;
  return flush_vault();
}

}  // namespace meridian
