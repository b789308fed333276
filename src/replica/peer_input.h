// Peer input: what the replica checks of every message from a peer before it uses any of it
// (issue 13: "a peer is not trusted to be correct"), and the reasons it counts when it refuses.
//
// The transport guarantees `from` is the authenticated peer (mutual TLS names its region).
// Everything inside a message is the peer's claim, and may be wrong through a bug or malice. A
// message or op that breaks a rule is dropped and counted by reason (ReplicaStats::refused, the
// server's meridian_peer_messages_invalid_total{reason}); nothing a peer sends may reach a
// MERIDIAN_ASSERT, which is for our own invariants. The rules, each with its test in
// peer_input_test.cc and the fuzz targets in src/fuzz behind them all:
//  1. Envelope: `from` is a region of the cluster and a neighbour in the topology, and the
//     message's own `from` field says the same.
//  2. Vectors (op deps, acks, summaries, snapshot bases): canonical, and no entry for a region
//     outside the cluster (>= region_count).
//  3. Ops: the origin is a region of the cluster and not this region (a region's own ops never
//     come back from a peer except by state transfer while it rejoins, invariant 8 of
//     replica.h); the dot names the origin's next op after its deps (deps[origin] == seq - 1)
//     and the stamp the same region (op_codec.cc); key, idempotency key, field and element
//     names and values within the API's bounds (kPeer*Max below).
//  4. Batches: at most max_batch_ops ops, the bound every sender keeps (Pump).
//  5. Acks and snapshot bases: they may not claim more of this region's own ops than it has
//     applied, unless it is rejoining (then peers legitimately hold more of them: invariant 8).
//     Believing such a claim would stall catch-up forever, or adopt ops under our name.
//  6. State transfer chunks and repairs: every state decodes for its class, and no key outside
//     the bounds of rule 3.
// What a neighbour can still do: relaying is legitimate in every topology (hub and ring by
// design, mesh after relay_after_ticks, and all of them re-send after an incarnation change),
// so a neighbour can forge an op of a third region. Closing that needs ops signed at their
// origin; docs/security.md says so.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/ids.h"
#include "base/status.h"
#include "clock/version_vector.h"
#include "replica/types.h"

namespace meridian {

// The client API's bounds (src/api/http_api.h keeps its own equal constants and checks they
// do not exceed these): no correct peer sends more, since every op began as a client write.
inline constexpr size_t kPeerKeyBytesMax = 512;
inline constexpr size_t kPeerIdempotencyKeyBytesMax = 128;
// Values and tag elements of a subject's key arrive sealed (src/node/subject_vault.h), longer
// than the client wrote them by at most this much.
inline constexpr size_t kPeerSealMarginBytes = 64;
inline constexpr size_t kPeerValueBytesMax = (size_t{1} << 20) + kPeerSealMarginBytes;
inline constexpr size_t kPeerTagBytesMax = kPeerKeyBytesMax + kPeerSealMarginBytes;

// Why a peer's message (or one op of a batch) was refused. Names are metric label values.
enum class PeerRefusal : uint8_t {
  kEnvelope,     // rule 1
  kVector,       // rule 2
  kOp,           // rule 3: an op that does not decode or breaks a bound
  kOpOrigin,     // rule 3: an op of this region's own origin or of no region
  kBatch,        // rule 4
  kOwnOpsClaim,  // rule 5
  kSnapshot,     // rule 6: a chunk
  kRepair,       // rule 6: an anti-entropy repair or summary
  kReadRequest,  // a quorum-read request for no data class
  kCount,
};
inline constexpr size_t kPeerRefusals = static_cast<size_t>(PeerRefusal::kCount);
std::string_view PeerRefusalName(PeerRefusal reason);

// Rule 2: OK when `v` has no entry at or above `region_count`.
Status CheckVectorRegions(const VersionVector& v, RegionId region_count);
// Rule 3's bounds on a decoded op (key, idempotency key, names and values).
Status CheckOpBounds(const Op& op);
// Rule 3's bound on a state key.
Status CheckKeyBounds(const StateKey& key);

}  // namespace meridian
