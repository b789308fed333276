// ReplicaOptions: every tunable of the replica, each with the reason for its default.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/ids.h"
#include "base/topology.h"
#include "clock/hlc.h"

namespace meridian {

// Deliberate bugs for `meridian sim --self-check`: each one must be caught by the simulator's
// checkers. All false in every real configuration.
struct ReplicaBugs {
  bool apply_without_dedupe = false;
  bool no_causal_wait = false;
  bool lww_tie_without_region = false;
  bool or_set_remove_wins = false;
  bool forget_vv_on_restart = false;
};

struct ReplicaOptions {
  RegionId self = 0;
  RegionId region_count = 3;
  Topology topology = Topology::kMesh;
  RegionId hub = 0;  // kHub only
  HlcOptions hlc;

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
  // Ops kept for a lagging peer; past this the peer is caught up by state transfer instead.
  size_t oplog_retention_ops = 1'000'000;
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
  // Ticks to wait for a state transfer to be acknowledged before starting it again.
  uint32_t snapshot_retry_ticks = 300;
  size_t snapshot_chunk_keys = 512;
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
