// StrongOptions: every tunable of the strong module, each with the reason for its default.
#pragma once

#include <cstddef>
#include <cstdint>

#include "base/ids.h"

namespace meridian {

// The mode is a property of the cluster's data, not a tunable: both modes keep their records
// under the same keys with different meanings, so switching modes on existing data would lose
// every owner-mode claim (its records carry no accepted ballot).
enum class HandleMode : uint8_t {
  // Leaderless CASPaxos per handle: available while a majority of regions is reachable.
  kConsensus,
  // `--handles=owner`: hash(name) picks one owner region that decides alone; the others forward
  // to it. One hop instead of a quorum, but a handle is unwritable while its owner is unreachable.
  kOwner,
};

// Deliberate bugs for `meridian sim --self-check`: each must be caught by the simulator's
// linearizability checker. All false in every real configuration.
struct StrongBugs {
  bool accept_without_promise = false;  // the acceptor ignores its promise when accepting
  bool quorum_of_one = false;           // the proposer takes its own region for a majority
  bool reapply_on_retry = false;        // a retry re-applies a request already chosen (inv. 5)
  bool vote_while_rejoining = false;    // a region that lost its records votes at once (inv. 8)
  // A proposer whose round-1 value got a majority of votes tells its client "chosen" although
  // its own acceptor can no longer record so: it relies on its standing promise (3, self) after
  // it promised a higher ballot, whose phase 1 has passed its value over (invariant 9).
  bool round1_chosen_after_promise = false;
  // A region keeps answering reads from its read lease after the lease expired (invariant 11).
  bool read_on_expired_lease = false;
};

struct StrongOptions {
  RegionId self = 0;
  RegionId region_count = 3;
  HandleMode mode = HandleMode::kConsensus;
  // Seeds the proposer's backoff jitter (the only randomness; the simulator passes its own).
  uint64_t random_seed = 1;
  // How long a tick is in the shell (the server ticks every 10 ms); only to word messages in ms.
  uint32_t tick_ms = 10;

  // Ticks (10 ms each in the server) a client request may take before it is answered
  // kUnavailable. 2 s: a round to the farthest majority is ~150-300 ms, and when every region
  // claims one name at once the last of three proposers needs about three rounds plus backoff.
  uint32_t request_timeout_ticks = 200;
  // Ticks after which a proposer that has heard nothing (no promise, accept or refusal) from a
  // majority of regions, itself included, gives up with kUnavailable: the quick 503 of a
  // minority region. 500 ms: two resend periods, several times the largest RTT, so message loss
  // alone rarely triggers it.
  uint32_t unreachable_ticks = 50;
  // Ticks without a quorum before the current phase's message is sent again to the regions that
  // have not answered. 25 ticks = 250 ms: above the largest RTT (150 ms) plus jitter, so it
  // fires for lost messages, not slow ones.
  uint32_t resend_ticks = 25;
  // After a rejected ballot the proposer waits backoff_ticks_min plus 0..backoff_ticks_max ticks
  // (seeded jitter, the window doubling with each lost round up to 4x) before it tries a higher
  // one. The minimum, ~one WAN RTT, lets the winner finish its Accept instead of being pre-empted
  // in turn; the jitter, ~one more, separates the losers from each other.
  uint32_t backoff_ticks_min = 10;
  uint32_t backoff_ticks_max = 15;
  // Round 1 (StrongNode invariant 9): a never-written handle is claimed with one round trip to
  // the nearest majority (Accept only) instead of two (Prepare, Accept). Off only to measure
  // the classic protocol against it (`meridian sim --handles-classic`).
  bool round1 = true;
  // Invariant 10: a proposer that lost a round hands its requests to the region ahead instead
  // of duelling with it. Off only to measure what it saves (`meridian sim --handles-classic`).
  bool hand_off = true;

  // Read leases (StrongNode invariant 11). A round that serves a read asks every acceptor for a
  // lease; each that votes for it promises to accept no other region's value for the handle for
  // read_lease_ms + read_lease_margin_ms from when the Accept arrived, and the proposer answers
  // reads locally, without a message, for read_lease_ms from when it sent the Accept, while a
  // majority's leases last. Both ends measure on their own monotonic clock (AdvanceClock), so
  // clock offsets between regions do not matter; the margin must cover how much two clocks'
  // rates can differ over one lease (2 * read_lease_ms * drift) plus how late the shell may read
  // its clock for an event. 300 ms: a read-mostly handle costs a region one quorum round per
  // 300 ms instead of one per read, while a write (or read) from another region to a leased
  // handle waits at most 320 ms, about two WAN round trips, and a minority region still answers
  // 503 within 1 s (unreachable_ticks plus one lease). 1 s was measured too: 0.9 % of the
  // simulator's busy workload answered 503 against 0.01 % (docs/strong.md). 20 ms covers a rate
  // difference of 6 % (NTP-disciplined clocks are within 0.05 %) and a 10 ms late reading.
  // 0 turns leases off: every read is a quorum round.
  uint32_t read_lease_ms = 300;
  uint32_t read_lease_margin_ms = 20;

  // Requests waiting in this region (in flight or queued behind another request for the same
  // handle). Beyond it a request is refused with RESOURCE_EXHAUSTED; 4096 is far above what
  // one region's clients keep in flight at WAN latency.
  size_t max_pending_requests = 4096;
  // Requests queued behind the one in flight for the same handle. A handle is one register: a
  // long queue only makes every request in it time out.
  size_t max_queued_per_handle = 64;
  // Requests for one handle served by one Paxos round: the queued requests are applied to the
  // value in order and answered together, so a busy handle costs one round per batch instead of
  // one per request. 16 keeps a round's value small.
  size_t max_batch = 16;
  // Mutations remembered in a handle's value, so a proposer whose accept round failed can tell
  // whether its mutation was chosen anyway (invariant 5). 32 covers two full batches plus the
  // competing mutations of a request timeout by far; older ones answer kUnavailable (unknown).
  size_t recent_mutations = 32;

  // Losing a disk (StrongNode invariant 8). The shell sets `rejoining` when this region's storage
  // was created or restored (from a backup, a replaced disk, a wiped data directory) at this
  // start: its acceptor records may be missing or old, so it must not vote until it has heard
  // every other region's acceptor state. A brand-new cluster therefore syncs once at its first
  // start. Recover also rejoins when the marker of a completed sync is missing, whatever this says.
  // Ignored in owner mode, where no other region holds a copy to sync from.
  bool rejoining = false;
  // A sync answer holds at most this many names and (beyond its first entry) this many bytes of
  // entries. An entry is at most ~1.5 KiB (a 64-byte name, a 256-byte owner, recent_mutations
  // history entries of ~30 bytes) and typically ~150 bytes, so a page is ~100-250 KiB: far below
  // the transport's 32 MiB message limit, and ~20 ms of a 100 Mbit/s WAN link, so votes queued
  // behind a page on the same peer link are barely delayed. One page per peer is in flight at a
  // time, so a sync of H handles takes about H / 1024 round trips to the farthest region.
  size_t sync_page_names_max = 1024;
  size_t sync_page_bytes_max = size_t{256} << 10;
  // Ticks without an answer before a rejoining region asks a region for the same page again.
  // 50 ticks = 500 ms: above the largest RTT (150 ms) plus a full page's transfer time, so it
  // fires for lost messages, not slow ones; an answer to both the request and its resend is
  // recognised by its echoed cursor and used once.
  uint32_t sync_resend_ticks = 50;

  // Owner mode: answers the owner keeps to recognise a duplicated forward. Duplicates arrive
  // within the network's reordering window (well under a second); 4096 answers cover that at
  // thousands of forwards per second, at ~100 bytes each.
  size_t max_forward_replies = 4096;

  StrongBugs bugs;
};

}  // namespace meridian
