// Storage: the durable key-value interface the I/O shell persists replica records through.
//
// The core never calls Storage; it returns RecordBatches, and the shell writes each one with
// Write() before it lets any effect of that step (a client reply, an outgoing ack) leave the
// process. Implementations: RocksDB (src/store) for the server; in-memory with fault injection
// (src/store) for tests and the simulator.
//
// Contract:
//  1. Write is atomic: after a crash either every mutation of a batch is visible or none is.
//  2. A synced Write returns OK only once the batch is durable, so an acknowledged write
//     survives kill -9 and power loss.
//  3. Scan visits keys with the given prefix in ascending byte order.
//  4. Implementations are thread-safe; concurrent Writes may be committed as one group.
//  5. A batch's mutations apply in order: a later one overrides an earlier one of the same key,
//     and a range delete removes what earlier mutations of the batch put in its range, never
//     what later ones put. A range delete is a record like any other: unsynced, it may be lost.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace meridian {

struct Mutation {
  std::string key;
  std::optional<std::string> value;  // nullopt: delete the key (or the range, see range_end)
  // Set (value is then nullopt): deletes every key k with key <= k < *range_end in unsigned byte
  // order, as one record however many keys it removes (RocksDB's DeleteRange). An empty range
  // (*range_end <= key) deletes nothing.
  std::optional<std::string> range_end;
  bool operator==(const Mutation&) const = default;

  bool is_range_delete() const { return range_end.has_value(); }
};

// Everything one step of the core wants persisted, atomically.
struct RecordBatch {
  std::vector<Mutation> mutations;

  void Put(std::string key, std::string value) {
    mutations.push_back({std::move(key), std::move(value), std::nullopt});
  }
  void Delete(std::string key) {
    mutations.push_back({std::move(key), std::nullopt, std::nullopt});
  }
  // Deletes every key in [begin, end) (Mutation::range_end). Nothing is recorded for an empty
  // range, so callers may pass one.
  void DeleteRange(std::string begin, std::string end) {
    if (!(begin < end)) return;
    mutations.push_back({std::move(begin), std::nullopt, std::move(end)});
  }
  bool empty() const { return mutations.empty(); }
  void Append(RecordBatch&& other) {
    for (auto& m : other.mutations)
      mutations.push_back(std::move(m));
    other.mutations.clear();
  }
};

struct WriteOptions {
  // true: durable on return (WAL synced; with it, every earlier write too). false: survives a
  // process crash but may be lost by a power loss until a later Sync() or synced write; the
  // region and the simulator write every batch so and sync per their WAL mode, answering only
  // what that mode makes durable (RegionNode contract 2).
  bool sync = true;
};

class Storage {
 public:
  virtual ~Storage() = default;

  // Atomically applies `batch`; durably when options.sync. On error nothing of it is visible.
  virtual Status Write(const RecordBatch& batch, WriteOptions options = {}) = 0;

  // Makes every write returned so far durable, as a synced Write would (an fsync of the WAL).
  // Callers that write with sync=false and sync on their own schedule use it.
  virtual Status Sync() = 0;

  virtual Result<std::optional<std::string>> Get(std::string_view key) const = 0;

  // Calls `visit` for every key starting with `prefix`, ascending. Stops early and returns the
  // first non-OK Status `visit` returns.
  virtual Status Scan(
      std::string_view prefix,
      const std::function<Status(std::string_view key, std::string_view value)>& visit) const = 0;
};

}  // namespace meridian
