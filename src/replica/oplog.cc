#include "replica/oplog.h"

#include <algorithm>

namespace meridian {

uint64_t Oplog::Append(Dot dot, std::string encoded, uint64_t tick) {
  const uint64_t index = next_index_++;
  bytes_ += encoded.size();
  entries_.push_back({index, dot, tick, std::move(encoded)});
  return index;
}

void Oplog::Restore(uint64_t index, Dot dot, std::string encoded) {
  MERIDIAN_ASSERT(entries_.empty() || index == next_index_);
  bytes_ += encoded.size();
  entries_.push_back({index, dot, 0, std::move(encoded)});
  next_index_ = index + 1;
}

void Oplog::DropBeyond(size_t max_entries, size_t max_bytes, uint64_t min_tick) {
  while (!entries_.empty() && (entries_.size() > max_entries || bytes_ > max_bytes ||
                               entries_.front().logged_tick < min_tick)) {
    DropOne();
  }
}

const OplogEntry* Oplog::At(uint64_t index) const {
  if (entries_.empty() || index < entries_.front().index || index >= next_index_) return nullptr;
  return &entries_[index - entries_.front().index];
}

void Oplog::DropOne() {
  const Dot dot = entries_.front().dot;
  // The floor is a vector, so it may only name a prefix of each origin: entries of one origin are
  // appended in seq order, hence dropped in seq order.
  floor_.Set(dot.origin, std::max(floor_.Get(dot.origin), dot.seq));
  bytes_ -= entries_.front().encoded.size();
  entries_.pop_front();
}

}  // namespace meridian
