// Oplog: the ops this region must still be able to send, in local apply order.
//
// Every op this region applies (its own and, for relaying, everyone else's) gets the
// next local index. An entry is dropped once every peer that should receive it has acknowledged it,
// or when the log exceeds its retention bound; a peer that still needed a dropped entry is caught
// up by state transfer instead (see `floor`).
//
// Invariants:
//  1. Indexes are dense and increasing; entries are dropped only from the front.
//  2. floor() covers every op ever dropped: a peer whose acknowledged vector does not dominate the
//     floor (for the origins we send it) can no longer be served from the log.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <string>

#include "base/assert.h"
#include "clock/version_vector.h"
#include "replica/types.h"

namespace meridian {

struct OplogEntry {
  uint64_t index = 0;
  Dot dot;
  // The replica's tick when the entry was appended (0 for entries restored after a restart):
  // in a mesh, how long a peer has had to get the op from its origin (Replica::ShouldSend).
  uint64_t logged_tick = 0;
  // The op as encoded once (pb::Op), what is persisted and sent: kept encoded, an entry costs
  // about its size in memory, so the retention bound in bytes bounds the log's memory.
  std::string encoded;
};

class Oplog {
 public:
  // Appends the op `dot` encoded as `encoded` (pb::Op) and returns the new entry's index.
  uint64_t Append(Dot dot, std::string encoded, uint64_t tick);
  // Restores an entry read back from storage. REQUIRES: index increasing, no gaps after first.
  void Restore(uint64_t index, Dot dot, std::string encoded);
  // After the restores: the next index is at least `index` (indexes already handed out, whose
  // entries were all dropped, are not handed out again).
  // REQUIRES: the log is empty or already reaches `index` (indexes stay dense).
  void ResumeAt(uint64_t index) {
    MERIDIAN_ASSERT(entries_.empty() || index <= next_index_);
    next_index_ = std::max(next_index_, index);
  }

  // Drops front entries while `droppable(entry)` holds.
  template <typename Pred>
  void DropFront(Pred droppable) {
    while (!entries_.empty() && droppable(entries_.front()))
      DropOne();
  }
  // Drops the oldest entries until at most `max_entries` of at most `max_bytes` in all remain,
  // none logged before `min_tick` (entries restored after a restart count as logged at tick 0
  // and so are kept until the tick count passes the bound again).
  void DropBeyond(size_t max_entries, size_t max_bytes, uint64_t min_tick);

  // First index still held (== end_index() when empty).
  uint64_t first_index() const { return entries_.empty() ? next_index_ : entries_.front().index; }
  uint64_t end_index() const { return next_index_; }
  const OplogEntry* At(uint64_t index) const;
  size_t size() const { return entries_.size(); }
  size_t bytes() const { return bytes_; }
  const VersionVector& floor() const { return floor_; }
  // Raises the floor (after recovery, or when a snapshot brought in ops that were never logged
  // here, so they cannot be relayed from the log either).
  void RaiseFloor(const VersionVector& floor) { floor_.Merge(floor); }

 private:
  void DropOne();

  std::deque<OplogEntry> entries_;
  uint64_t next_index_ = 1;
  size_t bytes_ = 0;
  VersionVector floor_;
};

}  // namespace meridian
