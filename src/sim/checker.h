// Checker: the simulator's invariants (issue: "what it checks at quiescence" and along the way).
//
// Online, after every step of every region:
//  1. no op is applied before its dependencies, and none twice (tracked from the Output's
//     applied list, independently of the replica's own vector);
//  2. a region's applied vector never goes backwards, also across a crash and restart.
// At quiescence:
//  3. every region holds identical state and vectors;
//  4. every counter equals the sum of its logical writes, each counted once (retries with an
//     idempotency key included) — so every acknowledged increment is counted exactly once;
//  5. OR-sets equal an add-wins reference computed from the created ops' causal pasts;
//  6. LWW maps equal a reference: per field the highest-stamped write, deletes and clears
//     honoured (so no deleted value comes back); MV-registers equal their concurrent maxima.
#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "clock/version_vector.h"
#include "replica/replica.h"
#include "sim/history.h"

namespace meridian {

class Checker {
 public:
  explicit Checker(RegionId regions);

  void OnStep(RegionId region, const Output& out, const VersionVector& applied_after);
  void OnRestart(RegionId region, const VersionVector& recovered);
  // The region's disk was replaced (lost, or restored from a backup): its vector may go back.
  void OnStorageReplaced(RegionId region);
  // Ops [first, last] of `origin` died with its disk before any other region had them: no
  // region may hold them, and the reference models leave them out.
  void OnOpsLost(RegionId origin, uint64_t first, uint64_t last,
                 const std::vector<LogicalWrite>& history);
  // After a state transfer: the region's counters reflect every op its vector covers (a chunk
  // lost on the way would leave keys behind the vector the region now claims).
  void CheckReflectsVector(const Replica& replica, const std::vector<LogicalWrite>& history);
  void CheckQuiescent(const std::vector<const Replica*>& replicas,
                      const std::vector<LogicalWrite>& history);

  const std::vector<std::string>& violations() const { return violations_; }

 private:
  void Violation(std::string what);
  void CheckConverged(const std::vector<const Replica*>& replicas);
  void CheckCounters(const Replica& replica, const std::vector<LogicalWrite>& history);
  void CheckTags(const Replica& replica, const std::vector<LogicalWrite>& history);
  void CheckProfiles(const Replica& replica, const std::vector<LogicalWrite>& history);
  void CheckRegisters(const Replica& replica, const std::vector<LogicalWrite>& history);
  std::map<std::string, std::vector<std::pair<const LogicalWrite*, const CreatedOp*>>> OpsByKey(
      const std::vector<LogicalWrite>& history, DataClass c) const;

  RegionId regions_;
  std::set<std::pair<uint64_t, Dot>> lost_;  // (write id, dot) of ops lost with a disk
  std::vector<VersionVector> tracked_;       // ops each region applied, per the Output lists
  std::vector<VersionVector> last_applied_;  // each region's vector after its last step
  std::vector<std::string> violations_;
};

}  // namespace meridian
