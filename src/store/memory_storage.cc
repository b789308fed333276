#include "store/memory_storage.h"

namespace meridian {

void MemoryStorage::Apply(Contents& contents, const std::string& key,
                          const std::optional<std::string>& value) {
  if (value.has_value()) {
    contents.insert_or_assign(key, *value);
  } else {
    contents.erase(key);
  }
}

void MemoryStorage::DeleteRange(const std::string& begin, const std::string& end, UndoBatch* undo) {
  auto first = visible_.lower_bound(begin);
  auto last = first;
  while (last != visible_.end() && last->first < end) {
    // The undo log keeps each removed key's value, so a crash brings the range back whole.
    if (undo != nullptr) undo->emplace_back(last->first, last->second);
    ++last;
  }
  visible_.erase(first, last);
}

void MemoryStorage::Undo(Contents& contents, const std::vector<UndoBatch>& tail) {
  // Newest batch first and, within a batch, last mutation first: a key written twice gets back
  // the value it had before its first write.
  for (auto batch = tail.rbegin(); batch != tail.rend(); ++batch) {
    for (auto entry = batch->rbegin(); entry != batch->rend(); ++entry) {
      Apply(contents, entry->first, entry->second);
    }
  }
}

Status MemoryStorage::Write(const RecordBatch& batch, WriteOptions options) {
  MutexLock lock(&mu_);
  if (writes_to_fail_ > 0) {
    --writes_to_fail_;
    ++counters_.failed_writes;
    return Unavailable("MemoryStorage: injected I/O error (FailNextWrites); nothing was written");
  }
  const bool sync = options.sync || unsynced_tail_.size() >= kMaxUnsyncedBatches;
  UndoBatch undo;
  if (!sync) undo.reserve(batch.mutations.size());
  for (const Mutation& m : batch.mutations) {
    if (m.is_range_delete()) {
      DeleteRange(m.key, *m.range_end, sync ? nullptr : &undo);
      continue;
    }
    if (!sync) {
      auto it = visible_.find(m.key);
      undo.emplace_back(
          m.key, it == visible_.end() ? std::nullopt : std::optional<std::string>(it->second));
    }
    Apply(visible_, m.key, m.value);
  }
  if (sync) {
    unsynced_tail_.clear();  // invariant 2: everything visible is durable now
    ++counters_.synced_writes;
  } else {
    unsynced_tail_.push_back(std::move(undo));
  }
  ++counters_.writes;
  MERIDIAN_ASSERT(unsynced_tail_.size() <= kMaxUnsyncedBatches);
  return Status::Ok();
}

Status MemoryStorage::Sync() {
  MutexLock lock(&mu_);
  if (syncs_to_fail_ > 0) {
    --syncs_to_fail_;
    return Unavailable("MemoryStorage: injected I/O error (FailNextSyncs); nothing was synced");
  }
  unsynced_tail_.clear();
  ++counters_.synced_writes;
  return Status::Ok();
}

Result<std::optional<std::string>> MemoryStorage::Get(std::string_view key) const {
  MutexLock lock(&mu_);
  auto it = visible_.find(key);
  if (it == visible_.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

Status MemoryStorage::Scan(
    std::string_view prefix,
    const std::function<Status(std::string_view key, std::string_view value)>& visit) const {
  std::vector<std::pair<std::string, std::string>> matches;
  {
    MutexLock lock(&mu_);
    for (auto it = visible_.lower_bound(prefix);
         it != visible_.end() && std::string_view(it->first).starts_with(prefix); ++it) {
      matches.emplace_back(it->first, it->second);
    }
  }
  for (const auto& [key, value] : matches) {
    MERIDIAN_RETURN_IF_ERROR(visit(key, value));
  }
  return Status::Ok();
}

void MemoryStorage::FailNextWrites(uint64_t count) {
  MutexLock lock(&mu_);
  writes_to_fail_ = count;
}

void MemoryStorage::FailNextSyncs(uint64_t count) {
  MutexLock lock(&mu_);
  syncs_to_fail_ = count;
}

void MemoryStorage::SimulateCrash() {
  MutexLock lock(&mu_);
  Undo(visible_, unsynced_tail_);
  unsynced_tail_.clear();
  ++counters_.crashes;
}

MemoryStorage::Contents MemoryStorage::DurableContents() const {
  MutexLock lock(&mu_);
  Contents durable = visible_;
  Undo(durable, unsynced_tail_);
  return durable;
}

size_t MemoryStorage::UnsyncedBatches() const {
  MutexLock lock(&mu_);
  return unsynced_tail_.size();
}

MemoryStorage::Counters MemoryStorage::counters() const {
  MutexLock lock(&mu_);
  return counters_;
}

}  // namespace meridian
