// MemoryStorage: an in-memory Storage that can fail writes and lose what was never synced, in the
// manner of LevelDB's FaultInjectionTestEnv. Tests use it directly; the deterministic simulator
// uses it as each region's disk.
//
// It owns no threads, reads no clock and draws no random numbers: every fault happens because a
// caller asked for it, so a simulator seed replays byte for byte.
//
// Invariants (on top of the Storage contract in base/storage.h):
//  1. Visible contents = durable contents + the unsynced tail: the batches written with
//     sync=false since the last synced write, in order.
//  2. A synced Write makes itself and the whole unsynced tail durable, as syncing a WAL does.
//  3. SimulateCrash() drops exactly the unsynced tail, whole batches only (contract 1); a range
//     delete in it is undone with the batch, every key it removed coming back.
//  4. A failed Write (injected) changes nothing, neither visible nor durable contents.
//  5. The unsynced tail holds at most kMaxUnsyncedBatches batches; see there.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "base/storage.h"
#include "base/thread_annotations.h"

namespace meridian {

class MemoryStorage final : public Storage {
 public:
  // Keys to values in byte order; what a region's disk holds.
  using Contents = std::map<std::string, std::string, std::less<>>;

  // A Write that would make the unsynced tail longer than this syncs instead, as an OS eventually
  // writes dirty pages back on its own (an unsynced write *may* be lost, never *must* be). The
  // bound keeps the undo log of a caller that never syncs from growing without limit; it is far
  // above the few unsynced batches the shell keeps between synced writes.
  static constexpr size_t kMaxUnsyncedBatches = 4096;

  // How the storage has been used; lets a test check that the shell synced before replying.
  struct Counters {
    uint64_t writes = 0;         // successful Writes, synced or not
    uint64_t synced_writes = 0;  // successful Writes with sync=true (or promoted, see above)
    uint64_t failed_writes = 0;  // Writes refused by FailNextWrites
    uint64_t crashes = 0;        // SimulateCrash calls
    bool operator==(const Counters&) const = default;
  };

  MemoryStorage() = default;
  // Starts from `durable`, as a region restarting on the disk a crash left it (DurableContents()).
  explicit MemoryStorage(Contents durable) : visible_(std::move(durable)) {}

  MemoryStorage(const MemoryStorage&) = delete;
  MemoryStorage& operator=(const MemoryStorage&) = delete;

  Status Write(const RecordBatch& batch, WriteOptions options = {}) override;
  // Makes the unsynced tail durable (invariant 2 without a batch). Counts as a synced write.
  Status Sync() override;
  Result<std::optional<std::string>> Get(std::string_view key) const override;
  // Visits a copy taken under the lock, so `visit` sees one consistent state (as a RocksDB
  // iterator does) and may itself call Write or Get.
  Status Scan(std::string_view prefix,
              const std::function<Status(std::string_view key, std::string_view value)>& visit)
      const override;

  // --- Fault injection (tests and the simulator) -----------------------------------------------

  // The next `count` Writes return UNAVAILABLE ("injected I/O error") and change nothing, like a
  // failed fsync or a full disk. Replaces any count still pending; 0 cancels.
  void FailNextWrites(uint64_t count);
  // The next `count` Syncs return UNAVAILABLE and leave the unsynced tail unsynced (a power loss
  // still discards it). Replaces any count still pending; 0 cancels.
  void FailNextSyncs(uint64_t count);

  // Power loss: discards every batch written with sync=false since the last synced write.
  // Afterwards the storage holds exactly the durable contents and keeps serving (the restarted
  // region's disk). Pending FailNextWrites/Syncs survive: they are faults of the disk, not the
  // process.
  void SimulateCrash();

  // What a crash at this instant would leave behind, without crashing. Pass it to the
  // constructor to give a new MemoryStorage the same disk.
  Contents DurableContents() const;

  size_t UnsyncedBatches() const;
  Counters counters() const;

 private:
  // The value each key of one unsynced batch had before it, in mutation order; replaying it
  // backwards undoes the batch.
  using UndoBatch = std::vector<std::pair<std::string, std::optional<std::string>>>;

  static void Apply(Contents& contents, const std::string& key,
                    const std::optional<std::string>& value);
  static void Undo(Contents& contents, const std::vector<UndoBatch>& tail);
  // Erases the visible keys in [begin, end); with `undo`, records each one's value there first.
  void DeleteRange(const std::string& begin, const std::string& end, UndoBatch* undo)
      MERIDIAN_REQUIRES(mu_);

  mutable Mutex mu_;
  Contents visible_ MERIDIAN_GUARDED_BY(mu_);
  // Oldest first; size <= kMaxUnsyncedBatches.
  std::vector<UndoBatch> unsynced_tail_ MERIDIAN_GUARDED_BY(mu_);
  uint64_t writes_to_fail_ MERIDIAN_GUARDED_BY(mu_) = 0;
  uint64_t syncs_to_fail_ MERIDIAN_GUARDED_BY(mu_) = 0;
  Counters counters_ MERIDIAN_GUARDED_BY(mu_);
};

}  // namespace meridian
