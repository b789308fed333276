// SubjectVault: keyrings, sealing and opening (subject_vault.h).
#include "node/subject_vault.h"

#include <sodium.h>

#include <algorithm>
#include <set>
#include <utility>

#include "base/assert.h"
#include "replica/key_state.h"
#include "replica/peer_input.h"
#include "replica/storage_keys.h"

namespace meridian {
namespace {

constexpr char kSealedFormat = '\xE5';
constexpr size_t kNonceBytes = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kTagBytes = crypto_aead_xchacha20poly1305_ietf_ABYTES;
static_assert(kSealOverheadBytes == 1 + 8 + kNonceBytes + kTagBytes);
static_assert(kDataKeyBytes == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
static_assert(kSealOverheadBytes <= kPeerSealMarginBytes, "peers must take a sealed value");

std::string RingPrefix(std::string_view subject) {
  std::string out(kVaultPrefix);
  out += subject;
  out.push_back('\0');
  return out;
}

// Where a value lives, bound to its ciphertext as associated data (and in its nonce): a sealed
// value copied to another key or field does not open there.
std::string Context(const StateKey& key, std::string_view field) {
  std::string out;
  out.push_back(static_cast<char>(key.data_class));
  out += std::to_string(key.key.size());
  out.push_back(':');
  out += key.key;
  out += field;
  return out;
}

bool IsSealed(std::string_view value) {
  return value.size() >= kSealOverheadBytes && value.front() == kSealedFormat;
}

}  // namespace

SubjectVault::SubjectVault(std::vector<SubjectPattern> patterns, RandomBytes random,
                           bool keep_erased_key_records)
    : patterns_(std::move(patterns)),
      random_(std::move(random)),
      keep_erased_key_records_(keep_erased_key_records) {
  MERIDIAN_ASSERT(patterns_.empty() || random_);
  MERIDIAN_ASSERT(sodium_init() >= 0);
}

std::optional<std::string> SubjectVault::SubjectOf(std::string_view key) const {
  return SubjectOfKey(patterns_, key);
}

std::vector<std::string> SubjectVault::KeyPrefixes(std::string_view subject) const {
  return SubjectKeyPrefixes(patterns_, subject);
}

Status SubjectVault::Load(const Storage& storage) {
  return storage.Scan(kVaultPrefix, [&](std::string_view key, std::string_view value) -> Status {
    const std::string_view rest = key.substr(kVaultPrefix.size());
    const size_t nul = rest.find('\0');
    if (nul == std::string_view::npos) return DataLoss("vault record without a subject end");
    Keyring& ring = rings_[std::string(rest.substr(0, nul))];
    const std::string_view id = rest.substr(nul + 1);
    if (id.empty()) {
      ring.erased = true;
      ring.keys.clear();
      return Status::Ok();
    }
    auto decoded = storage_keys::DecodeU64(id);
    if (!decoded.ok()) return decoded.status();
    if (value.size() != kDataKeyBytes) return DataLoss("a data key record is not 32 bytes");
    if (!ring.erased) ring.keys[*decoded] = std::string(value);
    return Status::Ok();
  });
}

bool SubjectVault::erased(std::string_view subject) const {
  auto it = rings_.find(subject);
  return it != rings_.end() && it->second.erased;
}

std::string SubjectVault::Seal(uint64_t key_id, const std::string& key, std::string_view context,
                               std::string_view plain) const {
  std::string out;
  out.push_back(kSealedFormat);
  out += storage_keys::EncodeU64(key_id);
  // Deterministic nonce (contract 3): a keyed hash of the context and the value. Distinct
  // values never share a nonce unless BLAKE2b collides on 192 bits.
  unsigned char nonce[kNonceBytes];
  crypto_generichash_state state;
  crypto_generichash_init(&state, reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                          sizeof nonce);
  const std::string length = storage_keys::EncodeU64(context.size());
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(length.data()),
                            length.size());
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(context.data()),
                            context.size());
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(plain.data()),
                            plain.size());
  crypto_generichash_final(&state, nonce, sizeof nonce);
  out.append(reinterpret_cast<const char*>(nonce), sizeof nonce);
  const size_t header = out.size();
  out.resize(header + plain.size() + kTagBytes);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      reinterpret_cast<unsigned char*>(out.data() + header), &written,
      reinterpret_cast<const unsigned char*>(plain.data()), plain.size(),
      reinterpret_cast<const unsigned char*>(context.data()), context.size(), nullptr, nonce,
      reinterpret_cast<const unsigned char*>(key.data()));
  out.resize(header + written);
  return out;
}

Result<std::string> SubjectVault::Open(const Keyring& ring, std::string_view context,
                                       std::string_view sealed) const {
  if (!IsSealed(sealed)) return std::string(sealed);  // written before the pattern existed
  const uint64_t id = *storage_keys::DecodeU64(sealed.substr(1, 8));
  auto key = ring.keys.find(id);
  if (key == ring.keys.end()) {
    return Unavailable(
        "a value of this key is sealed under a data key that has not reached this region yet; "
        "retry shortly");
  }
  const std::string_view nonce = sealed.substr(9, kNonceBytes);
  const std::string_view cipher = sealed.substr(9 + kNonceBytes);
  std::string plain(cipher.size() - kTagBytes, '\0');
  unsigned long long written = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(plain.data()), &written, nullptr,
          reinterpret_cast<const unsigned char*>(cipher.data()), cipher.size(),
          reinterpret_cast<const unsigned char*>(context.data()), context.size(),
          reinterpret_cast<const unsigned char*>(nonce.data()),
          reinterpret_cast<const unsigned char*>(key->second.data())) != 0) {
    return DataLoss("a sealed value of this key does not authenticate under its data key");
  }
  plain.resize(written);
  return plain;
}

Status SubjectVault::SealWrite(const std::string& subject, ClientWrite* write, RecordBatch* records,
                               bool* created) {
  Keyring& ring = rings_[subject];
  if (ring.erased) {
    return Gone("subject '" + subject + "' was erased: its keys can no longer be written or read");
  }
  if (ring.keys.empty()) {
    // A write that only deletes or counts needs no key; one is made anyway so that the subject
    // exists everywhere its keys may go, and can be erased there.
    uint64_t id = 0;
    while (id == 0 || ring.keys.contains(id)) {
      uint8_t bytes[8];
      random_(bytes, sizeof bytes);
      id = *storage_keys::DecodeU64(std::string_view(reinterpret_cast<char*>(bytes), 8));
    }
    std::string key(kDataKeyBytes, '\0');
    random_(reinterpret_cast<uint8_t*>(key.data()), key.size());
    records->Put(RingPrefix(subject) + storage_keys::EncodeU64(id), key);
    ring.keys.emplace(id, std::move(key));
    *created = true;
  }
  const auto& [id, key] = *ring.keys.begin();  // the lowest id: every region picks the same one
  const StateKey& target = write->target;
  write->body_sealed = true;
  if (auto* map = std::get_if<LwwMapOp>(&write->body)) {
    for (auto& [field, value] : map->fields)
      if (value) *value = Seal(id, key, Context(target, field), *value);
  } else if (auto* tags = std::get_if<TagsWrite>(&write->body)) {
    const std::string context = Context(target, "");
    for (std::string& element : tags->add)
      element = Seal(id, key, context, element);
    // An element may have been added under any of the subject's keys: remove every sealing.
    std::set<std::string> removes;
    for (const std::string& element : tags->remove)
      for (const auto& [other_id, other_key] : ring.keys)
        removes.insert(Seal(other_id, other_key, context, element));
    tags->remove.assign(removes.begin(), removes.end());
  } else if (auto* value = std::get_if<std::string>(&write->body)) {
    *value = Seal(id, key, Context(target, ""), *value);
  }
  return Status::Ok();
}

Result<KeyState> SubjectVault::OpenState(const std::string& subject, const StateKey& key,
                                         const KeyState& state) const {
  auto found = rings_.find(subject);
  static const Keyring kNone;
  const Keyring& ring = found == rings_.end() ? kNone : found->second;
  if (ring.erased) {
    return Gone("subject '" + subject + "' was erased: its keys can no longer be written or read");
  }
  if (std::holds_alternative<PnCounter>(state)) return state;
  pb::KeyState encoded;
  EncodeState(state, &encoded);
  if (encoded.has_profile()) {
    for (auto& field : *encoded.mutable_profile()->mutable_fields()) {
      if (!field.reg().has_value()) continue;
      auto plain = Open(ring, Context(key, field.name()), field.reg().value());
      if (!plain.ok()) return plain.status();
      field.mutable_reg()->set_value(*std::move(plain));
    }
  } else if (encoded.has_tags()) {
    // Elements sealed under different keys may open to the same element: join their dots.
    std::map<std::string, std::set<std::pair<uint32_t, uint64_t>>> joined;
    const std::string context = Context(key, "");
    for (const auto& entry : encoded.tags().entries()) {
      auto plain = Open(ring, context, entry.element());
      if (!plain.ok()) return plain.status();
      for (const auto& dot : entry.dots())
        joined[*plain].emplace(dot.origin(), dot.seq());
    }
    pb::OrSet* set = encoded.mutable_tags();
    set->clear_entries();
    for (const auto& [element, dots] : joined) {
      auto* entry = set->add_entries();
      entry->set_element(element);
      for (const auto& [origin, seq] : dots) {
        auto* dot = entry->add_dots();
        dot->set_origin(origin);
        dot->set_seq(seq);
      }
    }
  } else if (encoded.has_register_()) {
    for (auto& sibling : *encoded.mutable_register_()->mutable_siblings()) {
      auto plain = Open(ring, Context(key, ""), sibling.value());
      if (!plain.ok()) return plain.status();
      sibling.set_value(*std::move(plain));
    }
  }
  return DecodeState(encoded, key.data_class);
}

bool SubjectVault::HoldsKeysOf(const std::string& subject, const KeyState& state) const {
  auto found = rings_.find(subject);
  auto holds = [&](std::string_view value) {
    if (!IsSealed(value)) return true;
    const uint64_t id = *storage_keys::DecodeU64(value.substr(1, 8));
    return found != rings_.end() && found->second.keys.contains(id);
  };
  if (const auto* set = std::get_if<OrSet>(&state)) {
    for (const auto& [element, dots] : set->entries())
      if (!holds(element)) return false;
  }
  return true;
}

bool SubjectVault::Erase(const std::string& subject, RecordBatch* records) {
  Keyring& ring = rings_[subject];
  if (ring.erased) return false;
  ring.erased = true;
  // Zero the key bytes in memory before they are freed.
  for (auto& [id, key] : ring.keys)
    sodium_memzero(key.data(), key.size());
  ring.keys.clear();
  const std::string prefix = RingPrefix(subject);
  // Every "v" <subject> NUL <id>: from the smallest id to the first key past the subject's.
  std::string end = prefix;
  end.back() = '\x01';
  if (!keep_erased_key_records_) records->DeleteRange(prefix + std::string(1, '\0'), end);
  records->Put(prefix, "erased");
  return true;
}

pb::SubjectKeyEntry SubjectVault::Entry(const std::string& subject) const {
  pb::SubjectKeyEntry entry;
  entry.set_subject(subject);
  auto it = rings_.find(subject);
  if (it == rings_.end()) return entry;
  entry.set_erased(it->second.erased);
  for (const auto& [id, key] : it->second.keys) {
    auto* out = entry.add_keys();
    out->set_id(id);
    out->set_key(key);
  }
  return entry;
}

std::vector<std::string> SubjectVault::Subjects() const {
  std::vector<std::string> out;
  for (const auto& [subject, ring] : rings_)
    out.push_back(subject);
  return out;
}

Result<bool> SubjectVault::Merge(const pb::SubjectKeyEntry& entry, RecordBatch* records,
                                 bool* erased_now) {
  if (Status valid = CheckSubjectId(entry.subject()); !valid.ok()) return valid;
  for (const auto& key : entry.keys()) {
    if (key.id() == 0 || key.key().size() != kDataKeyBytes) {
      return InvalidArgument("a data key of subject '" + entry.subject() + "' is malformed");
    }
  }
  if (entry.erased()) {
    *erased_now = Erase(entry.subject(), records);
    return *erased_now;
  }
  Keyring& ring = rings_[entry.subject()];
  if (ring.erased) return false;
  bool changed = false;
  for (const auto& key : entry.keys()) {
    if (ring.keys.emplace(key.id(), key.key()).second) {
      records->Put(RingPrefix(entry.subject()) + storage_keys::EncodeU64(key.id()), key.key());
      changed = true;
    }
  }
  return changed;
}

}  // namespace meridian
