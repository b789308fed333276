// History: what the simulated clients asked for and what the cluster did with it — the input of
// the reference models the checker compares the replicas against.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "clock/dot.h"
#include "clock/hlc.h"
#include "clock/version_vector.h"
#include "replica/types.h"

namespace meridian {

// One op that a client write created in some region (a write retried in another region before
// the first copy was seen there creates two).
struct CreatedOp {
  uint64_t write_id = 0;  // the logical write it belongs to
  // Unique among the run's created ops: a crash that takes an op lets its region hand the same
  // dot to the next write, even to a retry of the same write.
  uint64_t serial = 0;
  Dot dot;
  VersionVector deps;
  WriteStamp stamp;
  uint32_t disk = 0;          // which disk of its origin region it was created on (disk losses)
  bool acknowledged = false;  // the client got a reply naming this op
  // The attempt's LogicalWrite::context_applied: each attempt reads its own region's register
  // (or carries no context), so a retry elsewhere may replace other siblings than the first.
  std::optional<VersionVector> context_applied;
};

// One logical client write and its fate.
struct LogicalWrite {
  uint64_t id = 0;
  ClientWrite write;
  uint32_t attempts = 0;
  bool acknowledged = false;  // some attempt's reply reached the client
  // Attempts answered Misdirected: sent to a region outside the key's residency set, which
  // applied nothing (a pinned key's ops are not in `created`: those are of every region's group).
  uint32_t misdirected = 0;
  // Asked for ?w=majority or ?w=all: acknowledged only once a majority holds it, so an
  // acknowledged op of it survives the loss of any one disk.
  bool needs_majority = false;
  // The current attempt's register context (ClientWrite::observed_context), if any: the applied
  // vector of the region whose register showed that context, at that instant. The context covers
  // exactly the register ops this vector covers, so these are the ops the write may replace.
  std::optional<VersionVector> context_applied;
  // Where that context was read, and that region's process then: after a crash there the
  // client reads afresh, since the region may hand the dots the context names to new writes.
  RegionId context_region = 0;
  uint64_t context_process = 0;
  std::vector<CreatedOp> created;
};

}  // namespace meridian
