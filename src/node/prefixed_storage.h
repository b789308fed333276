// PrefixedStorage: a read-only view of the records under one key prefix, with the prefix taken
// off, so a residency group's replica (region_node.h contract 6) recovers from its own records
// with the key layout of storage_keys.h. Writes go through RegionNode, which prefixes them.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "base/storage.h"

namespace meridian {

class PrefixedStorage final : public Storage {
 public:
  PrefixedStorage(const Storage& base, std::string prefix)
      : base_(base), prefix_(std::move(prefix)) {}

  Status Write(const RecordBatch&, WriteOptions) override {
    return FailedPrecondition("a prefixed storage view is read-only");
  }
  Status Sync() override { return FailedPrecondition("a prefixed storage view is read-only"); }
  Result<std::optional<std::string>> Get(std::string_view key) const override {
    return base_.Get(prefix_ + std::string(key));
  }
  Status Scan(
      std::string_view prefix,
      const std::function<Status(std::string_view, std::string_view)>& visit) const override {
    const size_t strip = prefix_.size();
    return base_.Scan(prefix_ + std::string(prefix),
                      [&](std::string_view key, std::string_view value) {
                        return visit(key.substr(strip), value);
                      });
  }

 private:
  const Storage& base_;
  std::string prefix_;
};

// Prefixes every key (and range end) of `records` with `prefix`.
inline void PrefixRecords(const std::string& prefix, RecordBatch& records) {
  if (prefix.empty()) return;
  for (Mutation& m : records.mutations) {
    m.key.insert(0, prefix);
    if (m.range_end) m.range_end->insert(0, prefix);
  }
}

}  // namespace meridian
