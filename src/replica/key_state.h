// KeyState: the CRDT state of one key, whichever class it belongs to, and how ops change it.
//
// Invariants:
//  1. A key's state alternative always matches its class (profile <-> LwwMap, ...).
//  2. ApplyOpToState is the only way an op changes a state; the replica calls it exactly once per
//     op per region (dedupe happens before it).
#pragma once

#include <string>
#include <variant>
#include <vector>

#include "base/status.h"
#include "crdt/bounded_counter.h"
#include "crdt/lww_map.h"
#include "crdt/or_set.h"
#include "crdt/pn_counter.h"
#include "crdt/rga.h"
#include "meridian/replica.pb.h"
#include "replica/types.h"

namespace meridian {

using KeyState = std::variant<LwwMap, PnCounter, OrSet, MvRegister, Rga, BoundedCounter>;

KeyState EmptyState(DataClass data_class);
bool StateMatchesClass(const KeyState& state, DataClass data_class);
// Whether the key shows anything, i.e. reads as found: a profile with a live field, a counter
// with something past its deleted baseline, a set with a member, a register with a value, a
// text with a live code point, a stock once anything was added to it (0 is a value). A key
// that was written and then deleted keeps its state (the delete's record) but is not present.
bool KeyPresent(const KeyState& state);

void EncodeState(const KeyState& state, pb::KeyState* out);
Result<KeyState> DecodeState(const pb::KeyState& in, DataClass data_class);
// Canonical bytes of the state: equal states give equal bytes (what is persisted).
std::string StateBytes(const KeyState& state);
// The state's content without its bookkeeping (an LWW map's `collected` vector), given its
// StateBytes: what anti-entropy hashes and convergence compares. Regions collect garbage at
// different moments, so their vectors differ while their contents agree.
std::string ContentBytes(const KeyState& state, const std::string& state_bytes);
// False when ContentBytes equals StateBytes (the common case: no copy needed).
bool HasBookkeeping(const KeyState& state);
inline std::string ContentBytes(const KeyState& state) {
  return ContentBytes(state, StateBytes(state));
}

// REQUIRES: both states hold the same alternative.
void MergeState(KeyState& into, const KeyState& other);

// What applying an op did, for conflict accounting.
struct ApplyEffects {
  std::vector<LwwContest> contests;  // profile fields where two writes met
  size_t siblings_after = 0;         // register siblings after the op
};

// OK when ApplyOpToState's preconditions hold for a peer's `op` on `state` (which matches its
// class): per-key dots name the op's origin and follow causal delivery, observed dots were
// delivered here, a counter total stays in bounds. A correct peer's ops always pass; the check
// keeps a hostile one from tripping the CRDTs' asserts (src/replica/peer_input.h, rule 3).
Status CheckApplicable(const Op& op, const KeyState& state);

// REQUIRES: state matches op.target.data_class; for counters the delta passed CheckDelta at
// the origin.
void ApplyOpToState(const Op& op, KeyState& state, ApplyEffects* effects);

// Drops tombstones whose writer is causally stable. Returns how many were dropped.
// `reflected`: the holder's applied vector (LwwMap::CollectGarbage).
size_t CollectStateGarbage(KeyState& state, const VersionVector& stable,
                           const VersionVector& reflected);
// True when the state holds something CollectStateGarbage might drop later.
bool HasCollectableGarbage(const KeyState& state);

}  // namespace meridian
