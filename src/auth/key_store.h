// KeyStore: the API keys a cluster accepts, stored hashed in the file the cluster config names
// (`auth: {keys_file: ...}`), and the lookup every front end does once per connection or request.
//
// Why BLAKE2b and not a password hash: an API key is 32 random bytes (256 bits of entropy) made
// by GenerateApiKey, not something a person chose, so no dictionary or brute-force search can
// reach it and a slow KDF (Argon2, milliseconds and megabytes by design) would only make every
// request slower. A fast cryptographic hash (libsodium's crypto_generichash, BLAKE2b-256) is
// enough to keep a stolen key file from being usable as credentials: recovering a key from its
// hash is a preimage attack on BLAKE2b. The presented key's hash is compared with every stored
// hash in constant time (sodium_memcmp), so the answer time says nothing about how close a guess
// came.
//
// File format, one key per line, `#` comments and blank lines ignored:
//   NAME HASH GRANT [GRANT...]
// NAME [A-Za-z0-9_.-]{1,64}, unique; HASH 64 lowercase hex digits; GRANTs as in grant.h.
//
// Contract:
//  1. Parse(Format(s)) == s; Parse never throws and names the line of every problem.
//  2. Authenticate returns the entry whose hash equals the presented key's, or nullptr; it looks
//     at every entry whatever it finds, each compare in constant time.
//  3. The plain key is never stored: only GenerateApiKey's caller sees it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "auth/grant.h"
#include "base/status.h"

namespace meridian::auth {

// Keys per store: each authentication compares against all of them (contract 2), so the bound
// keeps that at microseconds; a deployment needing more would index by a public key id.
inline constexpr size_t kKeysMax = 1024;
// A presented credential longer than this is refused before hashing (ours are 67 bytes).
inline constexpr size_t kPresentedKeyBytesMax = 256;
inline constexpr std::string_view kApiKeyPrefix = "mk_";

using KeyHash = std::array<uint8_t, 32>;

struct KeyEntry {
  std::string name;
  KeyHash hash{};
  std::vector<Grant> grants;
  bool operator==(const KeyEntry&) const = default;
};

// "mk_" + 64 hex digits of 32 bytes from libsodium's CSPRNG.
std::string GenerateApiKey();
// BLAKE2b-256 of the key's bytes.
KeyHash HashApiKey(std::string_view key);
std::string HashToHex(const KeyHash& hash);

class KeyStore {
 public:
  static Result<KeyStore> Parse(std::string_view text, std::string_view source_name);
  // Reads and parses the file at `path` (NotFound when it cannot be read).
  static Result<KeyStore> Load(const std::string& path);
  std::string Format() const;

  // Adds a key by hash. InvalidArgument for a bad name, no grants, or too many keys;
  // AlreadyExists for a name or hash already present.
  Status Add(KeyEntry entry);
  const KeyEntry* Authenticate(std::string_view presented) const;
  const std::vector<KeyEntry>& entries() const { return entries_; }
  bool operator==(const KeyStore&) const = default;

 private:
  std::vector<KeyEntry> entries_;
};

// "Bearer KEY" -> KEY; empty when the header is absent or another scheme.
std::string_view BearerToken(std::string_view authorization);

}  // namespace meridian::auth
