// CausalBuffer: remote ops that arrived before their dependencies, held until they can apply.
//
// Invariants:
//  1. Holds at most `capacity` ops; an op that does not fit is refused (the caller drops it and the
//     sender resends it after its timeout, since it was never acknowledged).
//  2. At most one copy per dot (a duplicate arrival is dropped).
//  3. TakeReady returns ops in an order in which each is causally ready when applied in sequence.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <vector>

#include "clock/version_vector.h"
#include "replica/types.h"

namespace meridian {

class CausalBuffer {
 public:
  explicit CausalBuffer(size_t capacity) : capacity_(capacity) {}

  // Whether `op` can be applied on top of `applied` now: the next op of its origin, and every
  // dependency already applied.
  static bool IsReady(const Op& op, const VersionVector& applied);

  // Stores `op`. Returns false when refused (full) or already held.
  bool Hold(Op op);

  // Removes and returns the next op that is ready on top of `applied`, if any. Ops already
  // covered by `applied` are discarded on the way (they arrived by another path).
  std::optional<Op> TakeReady(const VersionVector& applied);

  void Clear() { held_.clear(); }
  // Drops every op of `origin` (its incarnation changed: see Replica::OnPeerIncarnationChanged).
  void DropOrigin(RegionId origin) {
    held_.erase(held_.lower_bound(Dot{origin, 0}), held_.lower_bound(Dot{origin + 1, 0}));
  }
  size_t size() const { return held_.size(); }
  size_t capacity() const { return capacity_; }

 private:
  size_t capacity_;
  std::map<Dot, Op> held_;  // ordered: determinism, and each origin's ops in seq order
};

}  // namespace meridian
