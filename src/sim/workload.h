// The simulator's seeded client workload over classes A-C (and the MV-register and text).
//
// Few keys per class, so that writes meet; a quarter of the writes come with a twin: the same key
// written in another region less than one RTT later, so conflicts are certain, not incidental.
// Most writes carry an idempotency key (those are the ones a client may retry elsewhere). A few
// delete their whole key (KeyDelete), whatever its class.
#pragma once

#include <cstdint>
#include <vector>

#include "base/random.h"
#include "node/commands.h"
#include "sim/history.h"
#include "sim/sim_options.h"
#include "strong/types.h"

namespace meridian {

struct PlannedWrite {
  LogicalWrite write;  // write.id is this entry's index
  RegionId home = 0;   // the region the client tries first
  uint64_t first_at_ms = 0;
  WriteLevel level = WriteLevel::kCount;  // pinned writes: sometimes w=majority of the set
};

std::vector<PlannedWrite> GenerateWorkload(const SimOptions& options, Random& random);

// Every pinned key the workload writes and reads: a few per class (none without rules).
std::vector<StateKey> PinnedKeys(const SimOptions& options);

// Writes of pinned keys (PinnedKey, options.pinned_writes of them, ids from `first_id`), the same
// mix of bodies, from a home drawn among every region: a client outside the key's set is answered
// Misdirected and tries the next region. Twins as above; some writes ask for
// w=majority (of the set).
std::vector<PlannedWrite> GeneratePinnedWorkload(const SimOptions& options, Random& random,
                                                 uint64_t first_id);

// Handle (class D) requests: claims, releases and reads of a few names by a few owners. About a
// third come in bursts: the same name claimed by different owners from every region within a
// few milliseconds, so proposers really duel. Names are sometimes upper-cased (case folding).
struct PlannedHandleOp {
  HandleRequest request;
  RegionId home = 0;
  uint64_t at_ms = 0;
};
std::vector<PlannedHandleOp> GenerateHandleWorkload(const SimOptions& options, Random& random);

}  // namespace meridian
