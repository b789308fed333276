// ReplicaOptions: every tunable of the replica, each with the reason for its default.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/ids.h"
#include "base/topology.h"
#include "clock/hlc.h"

namespace meridian {

// Deliberate bugs for `meridian sim --self-check`: each one must be caught by the simulator's
// checkers. All false in every real configuration (`meridian region --TEST-plain-eventual-delivery`
// sets no_causal_wait, for the lab's causal control only, and says so in its log).
struct ReplicaBugs {
  bool apply_without_dedupe = false;
  bool no_causal_wait = false;
  bool lww_tie_without_region = false;
  bool or_set_remove_wins = false;
  bool forget_vv_on_restart = false;
  // A peer's acknowledgements only ever merge upwards, whatever its incarnation: a region that
  // lost its disk is believed to hold everything it once acknowledged (the behaviour before
  // incarnations).
  bool acks_never_go_backwards = false;
  // The receiver of a state transfer applies a chunk that arrives after a gap (a lost chunk) as
  // if nothing were missing, and the sender never resends the lost one.
  bool skip_lost_snapshot_chunk = false;
  // A counter delete removes what the receiving region holds when it arrives instead of the
  // totals its origin observed: increments concurrent with the delete vanish where it arrives
  // after them, and regions disagree.
  bool counter_delete_ignores_baseline = false;
  // A register write or delete carrying a client's context replaces every sibling this region
  // shows, not only those the context covers: a sibling written after the client's read is lost.
  bool register_context_ignored = false;
  // RGA text: an insert arriving from a peer is ordered by its arrival, as if it were the newest
  // insert at its position (its lamport replaced by one above everything here), instead of by
  // the lamport its origin gave it: concurrent inserts at one position land in different orders
  // in regions that received them in different orders.
  bool rga_arrival_order = false;
  // Stock (bounded counter): a region counting its rights forgets the rights it lent, so it
  // lends or takes the same units twice and the value can go below zero.
  bool escrow_double_lend = false;
  // Recovery takes the saved states as they are, without replaying the logged ops past them
  // (m:states): whatever a region applied since its last save before a crash is gone from its
  // states, though its vector says it applied it.
  bool recover_without_replay = false;
};

struct ReplicaOptions {
  RegionId self = 0;
  RegionId region_count = 3;
  Topology topology = Topology::kMesh;
  RegionId hub = 0;  // kHub only
  HlcOptions hlc;
  // This region's incarnation when its storage holds none (a new or restored data directory):
  // nonzero and different from every earlier incarnation of the region. The server draws it at
  // random, the simulator from its seed.
  uint64_t incarnation = 1;

  // Ops per replication message: large enough to amortise per-message cost at thousands of
  // writes/s, small enough (~64 KiB of small ops) to keep one message's latency low.
  size_t max_batch_ops = 256;
  // Ops sent to one peer and not yet acknowledged. The WAN's bandwidth-delay product at 5k ops/s
  // and 150 ms RTT is ~750 ops; 4096 leaves headroom while bounding memory and resend bursts.
  size_t max_inflight_ops = 4096;
  // Out-of-order ops held back for their dependencies. Beyond this they are refused and resent
  // by their sender; 65536 small ops is a few MiB.
  size_t max_buffered_ops = 65536;
  // Ticks without acknowledgement progress before resending from the acknowledged point. With
  // the server's 10 ms tick this is 1 s: several RTTs, so normal delay never triggers it.
  uint32_t resend_timeout_ticks = 100;
  // Ops kept for a lagging peer; past any of these bounds the peer is caught up by state
  // transfer instead. The byte bound is what bounds memory (the log is also on disk); 256 MiB
  // holds about a million small ops, several minutes of a peer's outage at thousands of
  // writes/s. The time bound (in ticks: 1 h) keeps a long outage from pinning the log at all.
  size_t oplog_retention_ops = 1'000'000;
  size_t oplog_retention_bytes = size_t{256} << 20;
  uint64_t oplog_retention_ticks = 360'000;
  // Mesh only: another origin's op is relayed to a peer that has not acknowledged it this many
  // ticks after it was logged here. Normally every origin sends its own ops to everyone; this
  // covers an origin that died or was cut off from that peer after reaching us, which would
  // otherwise leave the peer without the op (and every later op that depends on it) until the
  // origin returns. 1 s: several RTTs plus an ack interval, so a healthy mesh never relays.
  uint32_t relay_after_ticks = 100;
  // Ticks between acknowledgements sent even without traffic (stability gossip, liveness).
  uint32_t ack_interval_ticks = 10;
  // Ticks between garbage collection / oplog truncation rounds, and the work per round.
  uint32_t gc_interval_ticks = 10;
  size_t gc_max_keys_per_round = 4096;
  // Ticks between anti-entropy summary exchanges with each neighbour.
  uint32_t anti_entropy_interval_ticks = 500;
  // Ticks without acknowledgement progress on a state transfer before the sender resends from
  // the last acknowledged chunk (3 s: many RTTs, so only a lost chunk or a dead link triggers it).
  // Also how long a region that declined a transfer waits before offering it again.
  uint32_t snapshot_retry_ticks = 300;
  // Keys per state-transfer chunk (and at most max_message_bytes): ~100 KiB of small keys, about
  // a millisecond to encode or stage, so a chunk never holds up a step for long.
  size_t snapshot_chunk_keys = 1024;
  // Chunks in flight to one peer. The window caps a transfer's rate at window x chunk per RTT:
  // 8 x 1024 keys per 150 ms is ~55 k keys/s (a million keys in ~20 s), and at most 8 x 4 MiB in
  // the outbound queue, half the transport's 64 MiB bound.
  size_t snapshot_window_chunks = 8;
  // Chunks produced per tick across all peers: the sender's CPU bound. 2 per 10 ms tick is at most
  // ~200 k small keys/s, well above what the window lets through to one peer, so a region feeding
  // two peers at once still spends a small share of a core on it and keeps serving its clients.
  size_t snapshot_chunks_per_tick = 2;
  // Keys an outbound transfer keeps as they were at its base because they changed before being
  // sent (invariant 9). Beyond it the transfer starts over later with a new base. 100 k is 20 s
  // of 5 k writes/s to distinct keys, several times what a million-key transfer takes.
  size_t max_frozen_keys = 100'000;
  // A transfer this region takes in is abandoned after this many ticks without a chunk, so that
  // another peer's transfer is accepted (a region takes one at a time and declines the others).
  uint32_t inbound_idle_ticks = 600;
  // After the first neighbour answers, how long to wait for the others before judging catch-up
  // only by those heard (1 s: every connected neighbour acknowledges every ack_interval_ticks).
  uint32_t catch_up_wait_ticks = 100;
  // Bytes per replication message (op batch or snapshot chunk), so that large values never make
  // a message the transport refuses (it caps one message at 32 MiB); one op or key over it still
  // goes alone.
  size_t max_message_bytes = 4 << 20;
  // Detailed conflict entries kept for GET /conflicts (counts are kept forever).
  size_t conflict_log_capacity = 1000;
  // Idempotency records kept once causally stable (they answer late retries locally).
  size_t idempotency_records_soft_max = 100'000;

  ReplicaBugs bugs;
};

}  // namespace meridian
