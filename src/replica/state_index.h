// StateIndex: finds an entry of an ordered map keyed by StateKey with one hash probe, so a
// replica's point lookups (a command's type check, an op's target) do not descend the map: at a
// few hundred thousand keys a descent is ~20 levels, most of them cache misses, and a Redis
// command checks up to four classes of its key (src/server/resp_commands.h). The map stays the
// owner of the entries and their order (scans, range summaries, state transfers).
//
// Contract:
//  1. The index holds iterators of the map, which a std::map never invalidates; the map must
//     never erase an entry the index holds (Replica's states_ never erases), and every entry
//     inserted into the map is Inserted here before the next Find.
//  2. Find(c, key) is the map's find({c, key}), or nullopt where that is end().
//  3. Lookups only: nothing iterates the hash table, so its order (which depends on a hash seed)
//     never reaches a message, a hash or an encoding; the deterministic core stays deterministic
//     (scripts/check_core_purity allows this file's hash container for that reason).
//  4. Memory: one 8-byte slot and one control byte per slot of absl's flat table (at most 7/8
//     full), about 10 to 18 bytes per entry. A growth rehashes every entry at once, so a
//     keyspace that doubles pays one pass over it at each doubling.
#pragma once

#include <absl/container/flat_hash_set.h>
#include <absl/hash/hash.h>

#include <optional>
#include <string_view>
#include <utility>

#include "replica/types.h"

namespace meridian {

template <typename MapIterator>
class StateIndex {
 public:
  std::optional<MapIterator> Find(DataClass data_class, std::string_view key) const {
    auto it = set_.find(View{data_class, key});
    if (it == set_.end()) return std::nullopt;
    return *it;
  }
  void Insert(MapIterator entry) { set_.insert(entry); }
  void Reserve(size_t entries) { set_.reserve(entries); }
  size_t size() const { return set_.size(); }

 private:
  struct View {
    DataClass data_class;
    std::string_view key;
  };
  static size_t HashOf(DataClass data_class, std::string_view key) {
    return absl::Hash<std::pair<int, std::string_view>>{}({static_cast<int>(data_class), key});
  }
  struct Hash {
    using is_transparent = void;
    size_t operator()(const MapIterator& entry) const {
      return HashOf(entry->first.data_class, entry->first.key);
    }
    size_t operator()(const View& view) const { return HashOf(view.data_class, view.key); }
  };
  struct Eq {
    using is_transparent = void;
    // Distinct entries of one map have distinct keys: comparing the nodes suffices.
    bool operator()(const MapIterator& a, const MapIterator& b) const { return a == b; }
    bool operator()(const MapIterator& entry, const View& view) const {
      return entry->first.data_class == view.data_class && entry->first.key == view.key;
    }
    bool operator()(const View& view, const MapIterator& entry) const {
      return (*this)(entry, view);
    }
  };
  absl::flat_hash_set<MapIterator, Hash, Eq> set_;
};

}  // namespace meridian
