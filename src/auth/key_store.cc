// KeyStore: hashing with libsodium, the key file's text format, constant-time lookup.
#include "auth/key_store.h"

#include <sodium.h>

#include <fstream>
#include <sstream>

#include "base/assert.h"

namespace meridian::auth {

namespace {

void InitSodium() {
  // Idempotent and thread-safe; fails only when the system has no entropy source.
  MERIDIAN_ASSERT_MSG(sodium_init() >= 0, "libsodium failed to initialise");
}

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool ParseHex(std::string_view hex, KeyHash* out) {
  if (hex.size() != 2 * out->size()) return false;
  size_t bin_len = 0;
  return sodium_hex2bin(out->data(), out->size(), hex.data(), hex.size(), nullptr, &bin_len,
                        nullptr) == 0 &&
         bin_len == out->size();
}

std::vector<std::string_view> Words(std::string_view line) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
      ++i;
    const size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t')
      ++i;
    if (i > start) words.push_back(line.substr(start, i - start));
  }
  return words;
}

}  // namespace

std::string GenerateApiKey() {
  InitSodium();
  KeyHash bytes;
  randombytes_buf(bytes.data(), bytes.size());
  return std::string(kApiKeyPrefix) + HashToHex(bytes);
}

KeyHash HashApiKey(std::string_view key) {
  InitSodium();
  KeyHash hash;
  crypto_generichash(hash.data(), hash.size(), reinterpret_cast<const unsigned char*>(key.data()),
                     key.size(), nullptr, 0);
  return hash;
}

std::string HashToHex(const KeyHash& hash) {
  std::string hex(2 * hash.size() + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), hash.data(), hash.size());
  hex.pop_back();  // the terminating NUL
  return hex;
}

Status KeyStore::Add(KeyEntry entry) {
  if (!ValidName(entry.name)) {
    return InvalidArgument("key name \"" + entry.name + "\" must be 1..64 of [A-Za-z0-9_.-]");
  }
  if (entry.grants.empty()) return InvalidArgument("key " + entry.name + " has no grant");
  if (entry.grants.size() > kGrantsPerKeyMax) {
    return InvalidArgument("key " + entry.name + " has more than " +
                           std::to_string(kGrantsPerKeyMax) + " grants");
  }
  if (entries_.size() >= kKeysMax) {
    return InvalidArgument("more than " + std::to_string(kKeysMax) + " keys");
  }
  for (const KeyEntry& e : entries_) {
    if (e.name == entry.name) return AlreadyExists("a key named " + e.name + " exists");
    if (e.hash == entry.hash) return AlreadyExists("key " + e.name + " has the same hash");
  }
  entries_.push_back(std::move(entry));
  return Status::Ok();
}

Result<KeyStore> KeyStore::Parse(std::string_view text, std::string_view source_name) {
  KeyStore store;
  size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (const size_t hash = line.find('#'); hash != std::string_view::npos) {
      line = line.substr(0, hash);
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::vector<std::string_view> words = Words(line);
    if (words.empty()) continue;
    auto fail = [&](const std::string& why) {
      return InvalidArgument(std::string(source_name) + ":" + std::to_string(line_number) + ": " +
                             why);
    };
    if (words.size() < 3) return fail("want NAME HASH GRANT [GRANT...]");
    KeyEntry entry;
    entry.name = std::string(words[0]);
    if (!ParseHex(words[1], &entry.hash)) return fail("the hash must be 64 hex digits");
    for (size_t i = 2; i < words.size(); ++i) {
      auto grant = ParseGrant(words[i]);
      if (!grant.ok()) return fail(grant.status().message());
      entry.grants.push_back(std::move(grant).value());
    }
    if (Status added = store.Add(std::move(entry)); !added.ok()) return fail(added.message());
  }
  return store;
}

Result<KeyStore> KeyStore::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read the key file " + path);
  std::stringstream text;
  text << in.rdbuf();
  return Parse(text.str(), path);
}

std::string KeyStore::Format() const {
  std::string out =
      "# Meridian API keys: NAME BLAKE2b-256(key) GRANT... (docs/security.md). Only hashes are\n"
      "# stored here; `meridian keys add` prints a new key once.\n";
  for (const KeyEntry& e : entries_) {
    out += e.name + " " + HashToHex(e.hash);
    for (const Grant& g : e.grants)
      out += " " + FormatGrant(g);
    out += "\n";
  }
  return out;
}

const KeyEntry* KeyStore::Authenticate(std::string_view presented) const {
  if (presented.empty() || presented.size() > kPresentedKeyBytesMax) return nullptr;
  const KeyHash hash = HashApiKey(presented);
  const KeyEntry* found = nullptr;
  for (const KeyEntry& e : entries_) {
    // Every entry is compared, the match remembered: contract 2.
    if (sodium_memcmp(e.hash.data(), hash.data(), hash.size()) == 0) found = &e;
  }
  return found;
}

std::string_view BearerToken(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size()) return {};
  for (size_t i = 0; i < kScheme.size(); ++i) {
    const char c = authorization[i];
    if ((c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c) != kScheme[i]) return {};
  }
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && token.front() == ' ')
    token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ')
    token.remove_suffix(1);
  return token;
}

}  // namespace meridian::auth
