// SubjectVault: the data keys of subjects (the persons a key pattern such as `user:{subject}:`
// names) and the encryption of their values, so that erasing a subject is destroying its keys.
//
// Contract:
//  1. A key belongs to subject S when it matches a configured pattern with S in place of
//     `{subject}` (S non-empty, at most kSubjectBytesMax bytes, no NUL and none of the
//     pattern's suffix). Other keys are untouched by everything here.
//  2. Every value of a subject's key (profile field values, tag elements, register values) is
//     sealed before it reaches the replica: XChaCha20-Poly1305 under one of the subject's data
//     keys, with the key, the class and the field as associated data. So the replica, its
//     oplog, its records, its peer messages and every backup hold ciphertext only. Field names,
//     key names and counter values stay plain (counters must add up; docs/residency.md).
//  3. Sealing is deterministic (the nonce is a keyed hash of where the value lives and the value):
//     equal tag elements seal to equal bytes under one data key, as the OR-set's removes need.
//     The price: equal values of one subject's key are recognisable as equal in the ciphertext.
//  4. A subject's keyring is a CRDT: data keys by id (a union: two regions that created one
//     concurrently each keep both, and a remove seals its element under every key), and an
//     erased mark that absorbs everything. Merging is commutative, associative and idempotent.
//  5. Erased is forever: the keys are deleted from the records, an erased marker stays (a few
//     bytes), and every later read or write of the subject's keys answers Gone.
//  6. Records: "v" <subject> NUL <8-byte id> -> the 32 key bytes; "v" <subject> NUL -> the erased
//     marker. The shell keeps the "v" records apart from the data (a vault store that backups do
//     not copy, wrapped by the region's master key); see server/vault_storage.h.
//  7. Pure: the random bytes of a new key come from the function the caller hands in.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/storage.h"
#include "base/subject_pattern.h"
#include "meridian/replica.pb.h"
#include "replica/key_state.h"
#include "replica/types.h"

namespace meridian {

inline constexpr size_t kDataKeyBytes = 32;
// What sealing adds to a value: the format byte, the key id, the nonce and the tag.
inline constexpr size_t kSealOverheadBytes = 1 + 8 + 24 + 16;
inline constexpr std::string_view kVaultPrefix = "v";

using RandomBytes = std::function<void(uint8_t* out, size_t size)>;

class SubjectVault {
 public:
  SubjectVault() = default;
  // `keep_erased_key_records`: a seeded bug (RegionNode's NodeBugs), the disk keeps an erased
  // subject's key records.
  SubjectVault(std::vector<SubjectPattern> patterns, RandomBytes random,
               bool keep_erased_key_records = false);

  bool enabled() const { return !patterns_.empty(); }
  const std::vector<SubjectPattern>& patterns() const { return patterns_; }
  // The subject `key` belongs to (contract 1), or nullopt.
  std::optional<std::string> SubjectOf(std::string_view key) const;
  // The start of the subject's keys under each pattern ("user:alice:"), for residency lookups.
  std::vector<std::string> KeyPrefixes(std::string_view subject) const;

  // Loads the keyring from `storage`'s "v" records.
  Status Load(const Storage& storage);

  bool erased(std::string_view subject) const;
  // Seals the values of a write to a subject's key, creating the subject's first data key when
  // it has none (its record goes to `records`, `created` is set). Gone when erased.
  Status SealWrite(const std::string& subject, ClientWrite* write, RecordBatch* records,
                   bool* created);
  // Opens a subject key's state for a reader: Gone when erased, Unavailable when a value is
  // sealed under a key that has not reached this region yet, DataLoss when a value does not
  // authenticate. Values not in the sealed format (written before the pattern existed) pass.
  Result<KeyState> OpenState(const std::string& subject, const StateKey& key,
                             const KeyState& state) const;

  // Marks the subject erased: deletes its key records, writes the marker. False when it
  // already was.
  bool Erase(const std::string& subject, RecordBatch* records);

  // The subject's keyring as a peer message entry.
  pb::SubjectKeyEntry Entry(const std::string& subject) const;
  // Every subject's keyring (for a peer that (re)connects).
  std::vector<std::string> Subjects() const;
  // Whether every sealed value of `state` names a data key this region holds (a value's op can
  // arrive before its key). A tag remove needs it: it must seal its element under every key
  // the state's elements were sealed under.
  bool HoldsKeysOf(const std::string& subject, const KeyState& state) const;
  // Merges a peer's entry (contract 4). Returns true when something changed here; `erased_now`
  // is set when this merge erased the subject. InvalidArgument for a malformed entry.
  Result<bool> Merge(const pb::SubjectKeyEntry& entry, RecordBatch* records, bool* erased_now);

 private:
  struct Keyring {
    std::map<uint64_t, std::string> keys;  // id -> kDataKeyBytes
    bool erased = false;
  };
  std::string Seal(uint64_t key_id, const std::string& key, std::string_view context,
                   std::string_view plain) const;
  Result<std::string> Open(const Keyring& ring, std::string_view context,
                           std::string_view sealed) const;

  std::vector<SubjectPattern> patterns_;
  RandomBytes random_;
  bool keep_erased_key_records_ = false;
  std::map<std::string, Keyring, std::less<>> rings_;
};

}  // namespace meridian
