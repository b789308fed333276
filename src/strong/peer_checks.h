// CheckPeerMessage: what the handle node checks of every message from a peer before dispatching
// it (issue 13; the replica's rules are in src/replica/peer_input.h). The handlers check what
// depends on their state (names, the ballot's region against the sender, phases); this checks
// what no correct peer ever sends, whatever the state:
//  1. Every ballot names a region of the cluster (< region_count), including the ballots in a
//     value's recent history, promises and accepted records of a sync page.
//  2. No ballot counter exceeds kBallotCounterMax. New ballots go one above the highest seen, so
//     a peer's ballot near 2^64 would otherwise wrap this region's next ballot to zero, which
//     acceptors refuse: the handle would be unwritable for good.
//  3. A value's owner is within kMaxHandleOwnerBytes (handle_name.h), as any client's is.
// A message breaking one is dropped and counted (StrongStats::malformed_messages).
#pragma once

#include <cstdint>

#include "base/ids.h"
#include "base/status.h"
#include "meridian/strong.pb.h"

namespace meridian {

// One round per microsecond for 140,000 years stays below it.
inline constexpr uint64_t kBallotCounterMax = uint64_t{1} << 62;

Status CheckPeerMessage(const pb::StrongMessage& message, RegionId region_count);

}  // namespace meridian
