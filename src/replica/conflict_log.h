// ConflictLog: a bounded record of recent conflicts, so that no overwrite is silent.
//
// Counts every conflict by class and outcome (kept forever, for metrics) and keeps the last
// `capacity` entries in detail (for GET /conflicts). Oldest entries are evicted first.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "clock/hlc.h"
#include "replica/types.h"

namespace meridian {

enum class ConflictOutcome : uint8_t {
  kLwwOverwrite,  // two writes met on one LWW field; the lower stamp's value is gone
  kCrdtMerge,     // concurrent CRDT ops merged; nothing lost
  kSibling,       // concurrent register writes kept side by side
  kTypeClash,     // one key created concurrently in two classes (two Redis types); both kept
};
inline constexpr ConflictOutcome kAllConflictOutcomes[] = {
    ConflictOutcome::kLwwOverwrite, ConflictOutcome::kCrdtMerge, ConflictOutcome::kSibling,
    ConflictOutcome::kTypeClash};
std::string_view ConflictOutcomeName(ConflictOutcome o);

struct ConflictEntry {
  DataClass data_class = DataClass::kProfile;
  std::string key;
  std::string field;  // LWW only
  ConflictOutcome outcome = ConflictOutcome::kCrdtMerge;
  WriteStamp winner_stamp;
  WriteStamp loser_stamp;
  std::optional<std::string> winner_value;  // LWW only; nullopt for a delete
  std::optional<std::string> loser_value;
  std::optional<DataClass> clashes_with;  // type clash only: the other class holding the key
};

class ConflictLog {
 public:
  explicit ConflictLog(size_t capacity) : capacity_(capacity) {}

  void Add(ConflictEntry entry);

  const std::deque<ConflictEntry>& recent() const { return recent_; }
  uint64_t count(DataClass c, ConflictOutcome o) const;
  uint64_t total() const { return total_; }

 private:
  size_t capacity_;
  std::deque<ConflictEntry> recent_;
  std::map<std::pair<DataClass, ConflictOutcome>, uint64_t> counts_;
  uint64_t total_ = 0;
};

}  // namespace meridian
