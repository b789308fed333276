#include "replica/conflict_log.h"

namespace meridian {

std::string_view ConflictOutcomeName(ConflictOutcome o) {
  switch (o) {
    case ConflictOutcome::kLwwOverwrite:
      return "lww_overwrite";
    case ConflictOutcome::kCrdtMerge:
      return "crdt_merge";
    case ConflictOutcome::kSibling:
      return "sibling";
    case ConflictOutcome::kTypeClash:
      return "type_clash";
  }
  return "unknown";
}

void ConflictLog::Add(ConflictEntry entry) {
  ++counts_[{entry.data_class, entry.outcome}];
  ++total_;
  if (capacity_ == 0) return;
  if (recent_.size() == capacity_) recent_.pop_front();
  recent_.push_back(std::move(entry));
}

uint64_t ConflictLog::count(DataClass c, ConflictOutcome o) const {
  auto it = counts_.find({c, o});
  return it == counts_.end() ? 0 : it->second;
}

}  // namespace meridian
