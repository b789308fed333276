// Checker: the simulator's invariants (issue: "what it checks at quiescence" and along the way).
//
// Online, after every step of every region:
//  1. no op is applied before its dependencies, and none twice (tracked from the Output's
//     applied list, independently of the replica's own vector);
//  2. a region's applied vector never goes backwards, also across a crash and restart.
// At quiescence:
//  3. every region holds identical state and vectors;
//  4. every counter equals the sum of its logical writes, each counted once (retries with an
//     idempotency key included) — so every acknowledged increment is counted exactly once —
//     less the deltas (compensations included) of the ops some delete of the key had applied
//     when it was made (observed-remove); it reads as present exactly when some op lies beyond
//     every delete;
//  5. OR-sets equal an add-wins reference computed from the created ops' causal pasts (a remove
//     or a delete of the key removes the adds it had applied);
//  6. LWW maps equal a reference: per field the highest-stamped write, deletes and clears
//     honoured (so no deleted value comes back), a delete of the key tombstoning the fields the
//     reference shows over the ops it had applied; MV-registers equal their concurrent maxima
//     (a delete covers what it had applied and adds no value).
// The region node's durability and reads (checker_durability.cc), checked as they happen:
//  7. No acknowledged write is lost. A process crash loses only the pass not yet written; a
//     power loss (and the restart from the durable contents after a failed disk) loses the
//     unsynced tail too. Each may lose ops whose client heard nothing; a write whose client got
//     its reply may be lost only by a tail loss in kPeriodic mode, which acknowledges after the
//     write and before the fsync (counted, not a violation). kEveryCommit loses none.
//  8. Reads expose only durable state: after a restart, every counter a read showed in that
//     region is still there (per origin, its totals are at least what the read showed), with the
//     same allowance as 7 for kPeriodic tail losses.
//  9. A session read's answer reflects the write whose token it carries; a quorum read's answer
//     reflects every op a majority of regions had synced when it was asked.
// 10. A region restarts with at least what it reported durable (written, for a process crash;
//     synced, for a power loss): the shell's records and the node's reports agree.
// At quiescence, again:
// 11. Every text reads as the text of its created ops, each re-derived from its client's edits
//     by position on the text of its causal past (checker_text.cc).
// 12. Stocks never show a value or a region's rights below zero, in any region after any step,
//     and at quiescence equal their created adds less takes (checker_stock.cc).
// (And the simulation: a region whose storage failed answers nothing but refusals and sends
// nothing; every read is answered within its bound, or its region crashed.)
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "clock/version_vector.h"
#include "node/region_node.h"
#include "replica/replica.h"
#include "sim/history.h"

namespace meridian {

class Checker {
 public:
  explicit Checker(RegionId regions);

  // After each event of a region: the ops it applied, in order, and the vector of a state
  // transfer merged before them, if any.
  void OnStep(RegionId region, const std::vector<AppliedOp>& applied,
              const std::optional<VersionVector>& merged_snapshot,
              const VersionVector& applied_after);
  // The region restarted on the same disk; `durable` is what it had reported durable enough to
  // survive this kind of crash (invariant 10).
  void OnRestart(RegionId region, const VersionVector& recovered, const VersionVector& durable);
  // The region's disk was replaced (lost, or restored from a backup): its vector may go back.
  void OnStorageReplaced(RegionId region);
  // Ops [first, last] of `origin` died with its disk before any other region had them: no
  // region may hold them, and the reference models leave them out.
  void OnOpsLost(RegionId origin, uint64_t first, uint64_t last,
                 const std::vector<LogicalWrite>& history);
  // A region made a compensation op (AppliedOp::compensates) of its own: the counter reference
  // needs it when a delete covers it (invariant 4). `disk`: the region's current disk.
  void OnCompensation(const AppliedOp& op, uint32_t disk);
  // After a state transfer: the region's counters reflect every op its vector covers (a chunk
  // lost on the way would leave keys behind the vector the region now claims).
  void CheckReflectsVector(const Replica& replica, const std::vector<LogicalWrite>& history);
  // Invariant 12, after every step of `region` that applied a stock op or merged a state.
  void CheckStocks(RegionId region, const Replica& replica);
  void CheckQuiescent(const std::vector<const Replica*>& replicas,
                      const std::vector<LogicalWrite>& history);

  // --- the region node (checker_durability.cc) ---
  // A crash of `origin` took its ops [first, last] created on disk `disk` (invariant 7).
  // `tail_lost`: a power loss or a failed disk, rather than a process crash.
  void OnCrashLostOps(RegionId origin, uint32_t disk, uint64_t first, uint64_t last, bool tail_lost,
                      const std::vector<LogicalWrite*>& history);
  // A read answered by `region` showed this counter (invariant 8).
  void OnCounterShown(RegionId region, const std::string& key, const PnCounter& shown);
  // The region restarted on its disk: what its reads showed must still be there (invariant 8).
  void CheckShownSurvived(const Replica& recovered, bool tail_lost);
  // Its disk was replaced: what it showed is gone, as its ops are (OnOpsLost).
  void ForgetShown(RegionId region) { shown_[region].clear(); }
  // Invariant 9: `counter` (a read's answer) holds at least the ops `covers` picks among the
  // live ops of `key`. `what` names the read for the message.
  void CheckCounterCovers(const std::string& what, const std::string& key,
                          const std::optional<KeyState>& state,
                          const std::function<bool(const CreatedOp&)>& covers,
                          const std::vector<LogicalWrite>& history);
  bool lost(const CreatedOp& op) const { return lost_.count(op.serial) > 0; }
  uint64_t acked_lost_allowed() const { return acked_lost_allowed_; }
  void SetWalSync(WalSync mode) { wal_sync_ = mode; }

  // How the quiescence checks see a key's state: opened for a reader (subjects' sealed values,
  // src/node/subject_vault.h) by `open`, which returns an error when a value does not open.
  using StateOpener = std::function<Result<std::optional<KeyState>>(
      RegionId region, const StateKey& key, std::optional<KeyState> state)>;
  void set_opener(StateOpener open) { open_ = std::move(open); }
  // Whether `key`'s subject has been asked to be erased: the reference models (invariants 4-6)
  // leave it out, as the erasure's deletes are no client's and the writes racing it are lost by
  // design; the simulation judges erasures itself (simulation_erasures.cc). Deletes move no
  // counter total, so invariants 7-9 still hold for its counters.
  void set_erased(std::function<bool(std::string_view key)> erased) { erased_ = std::move(erased); }

  void Violation(std::string what);
  const std::vector<std::string>& violations() const { return violations_; }

 private:
  void CheckConverged(const std::vector<const Replica*>& replicas);
  // The state of `key` a reader of `replica` would be shown (set_opener).
  std::optional<KeyState> Shown(const Replica& replica, const StateKey& key);
  void CheckCounters(const Replica& replica, const std::vector<LogicalWrite>& history);
  void CheckTags(const Replica& replica, const std::vector<LogicalWrite>& history);
  void CheckProfiles(const Replica& replica, const std::vector<LogicalWrite>& history);
  void CheckRegisters(const Replica& replica, const std::vector<LogicalWrite>& history);
  void CheckTexts(const Replica& replica, const std::vector<LogicalWrite>& history);
  void CheckStockTotals(const Replica& replica, const std::vector<LogicalWrite>& history);
  std::map<std::string, std::vector<std::pair<const LogicalWrite*, const CreatedOp*>>> OpsByKey(
      const std::vector<LogicalWrite>& history, DataClass c) const;

  // A compensation op, for the counter reference; lost like a created op.
  struct Compensation {
    StateKey key;
    Dot dot;
    int64_t delta = 0;
    uint32_t disk = 0;
    bool lost = false;
  };

  RegionId regions_;
  StateOpener open_;
  std::function<bool(std::string_view key)> erased_;
  std::vector<Compensation> compensations_;
  std::set<uint64_t> lost_;                  // serials of created ops lost with a disk or a crash
  std::vector<VersionVector> tracked_;       // ops each region applied, per the Output lists
  std::vector<VersionVector> last_applied_;  // each region's vector after its last step
  std::vector<std::string> violations_;
  WalSync wal_sync_ = WalSync::kEveryCommit;
  // Per region, per counter key, per origin: the highest totals a read showed since the region
  // last restarted (increments, decrements).
  std::vector<
      std::map<std::string, std::map<RegionId, std::pair<PnCounter::Total, PnCounter::Total>>>>
      shown_;
  uint64_t acked_lost_allowed_ = 0;  // kPeriodic acknowledged writes lost to a tail loss
};

}  // namespace meridian
