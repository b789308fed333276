// StrongNode: one region's part in class D (handles), as a sans-IO state machine.
//
// Each handle is a compare-and-set register (types.h, ApplyRequest) replicated with CASPaxos
// (Rystsov 2018): every change of one register is one Paxos round. Every region plays both roles
// for every handle: proposer for its own clients' requests, acceptor for everyone's. There is no
// leader, so no election and no failover: a request succeeds whenever its region reaches a
// majority of regions. docs/strong.md tells the whole story; the contract is here.
//
// Driven like Replica: OnClientRequest, OnMessage and Tick (timeouts count ticks; the server's
// tick is 10 ms). Each call appends to a StrongOutput: persist `records` (synced) first, then send
// `messages`, then deliver `replies`. Nothing here reads a clock, touches a file or socket, or
// iterates an unordered container; randomness comes from the seeded generator in the options.
//
// The round (slow path, two round trips):
//   proposer: ballot b = (counter, self) above every ballot it has seen; Prepare(b) to all.
//   acceptor: b > promised: promised := b (durable), Promise(b, accepted ballot, value). Else Nack.
//   proposer: on a majority of promises, takes the value of the highest accepted ballot (a free
//             handle if none), applies its batch of requests to it in order,
//             Accept(b, new value, next = b + 1).
//   acceptor: b >= promised: accepted := (b, value), promised := next (durable), Accepted(b).
//   proposer: on a majority of Accepted, the new value is chosen: reply to the clients.
//   Any Nack (someone holds a higher ballot): back off (seeded jitter) and retry with a ballot
//   above the one the Nack named.
// The 1-RTT path: every Accepted(b) also promises `next`. A majority of Accepted therefore is a
// majority of promises for `next` whose highest accepted ballot is b with the value we chose, so
// the proposer caches (next, value) and the next request for that handle at this region skips
// Prepare and sends Accept(next, f(value), next + 1) at once. If anyone prepared a higher ballot
// meanwhile, acceptors Nack and the proposer falls back to the slow path. A region that keeps
// serving one handle (the common case: a user's requests land at their nearest region) pays one
// round trip to the nearest majority per request.
//
// Invariants:
//  1. An acceptor's promised ballot never decreases and it accepts nothing below it (the
//     accepted ballot is <= promised). Both are in `records` of the step that changes them, so
//     they survive a crash: a region that restarts honours every promise it made.
//  2. A proposer issues each ballot for at most one value, ever: every ballot it sends is first
//     promised by its own acceptor in the same step (so it is durable before it leaves), and new
//     ballots start above its own acceptor's promise, so a restarted region never reuses one
//     (after a loss of records, above the promise it adopted from the other regions: inv. 8).
//  3. A value reaches a client only after a majority of acceptors accepted it (Paxos P2: then
//     every higher ballot's majority of promises includes it, so it is built upon, never lost).
//  4. The cached 1-RTT ballot is used for at most one round and forgotten on any Nack, timeout or
//     restart; an acceptor that promised anything higher rejects it (invariant 1).
//  5. A request is applied at most once. A retry after a failed accept round could otherwise
//     claim or release twice (answering "not found" to a release that worked). Each mutation
//     records (version, op id) in the value's bounded recent history; the op id is the ballot of
//     the batch's first round and the request's index in the batch, unique per handle by
//     invariant 2. Before re-applying, the proposer looks up
//     the versions it tried: found -> the earlier attempt was chosen, answer its outcome; fallen
//     out of the history -> unknown, answer kUnavailable; otherwise apply afresh.
//  6. Every request is answered exactly once, within request_timeout_ticks: kUnavailable when no
//     majority (owner mode: the owner) answered in time. A region that has heard from less than
//     a majority of regions (itself included) since its round began answers kUnavailable after
//     unreachable_ticks already: a minority answers quickly, while contention (which brings
//     Nacks, i.e. answers) gets the whole timeout. kUnavailable means "may or may not have taken
//     effect", never a wrong answer.
//  7. Requests for one handle at one region are served in arrival order, in batches of up to
//     max_batch sharing one round, from a bounded queue; distinct handles proceed independently.
//  8. A region that may have lost acceptor records is *rejoining*, and casts no vote until it has
//     the acceptor state of every other region. It may have lost them when the shell says its
//     storage was created or restored at this start (StrongOptions::rejoining) or when the
//     marker kSyncedMarkerKey is missing: the step that completes a sync writes it, and the
//     first step of a rejoin deletes it, so a crash mid-sync rejoins again. While rejoining it
//     leaves Prepare and Accept unanswered (like lost messages: proposers resend, and nothing it
//     sends can be mistaken for a vote) and answers its clients kUnavailable at once. It asks
//     every other region for its acceptor states (SyncRequest), which each region, rejoining or
//     not, sends from its records in name order, a bounded page (SyncReply) at a time; it asks
//     again after sync_resend_ticks without an answer. Each page is adopted as it arrives: per
//     name the higher accepted (ballot, value) and the higher promise, persisted in that step's
//     records. When every other region has answered in full it writes the marker and votes.
//     Why every other region suffices: a value a client was or will be told is chosen, with a
//     vote of the lost records, was accepted durably by another region before the loss (its
//     proposer's own acceptor accepts first, in the step that sends the Accept, and a proposer
//     whose own acceptor refuses abandons the round; if the proposer was this region, the other
//     voters answered it before the loss); a proposer holding a promise from the lost records
//     promised that ballot durably at its own acceptor before sending the Prepare. Acceptor
//     states only grow, so an answer taken after the sync began shows both, and adopting them
//     honours every lost vote; new ballots start above the adopted promise (invariant 2). This
//     holds for one region losing its records at a time: records lost at a majority of regions
//     lose what only they held. Owner mode keeps one copy per handle and has nothing to sync.
//
//  9. Round 1 (one round trip for a never-written handle; docs/strong.md "Round 1"). Counter 1
//     is reserved: ballot (1, P) is region P's round-1 ballot, used only while P's own acceptor
//     has never promised nor accepted anything for the handle (the standing promise of round 1
//     every acceptor holds), and P's own acceptor votes for P's value in the step that sends it,
//     durably, before anyone else can. P skips Prepare: Accept((1, P), value, next = (3, P)).
//     An acceptor votes in round 1 at most once, only under the standing promise (any promise
//     supersedes it for good), and promises (3, P) with its vote; so at most one value gets a
//     majority. P tells its client "chosen" only after its own acceptor recorded so by accepting
//     the value again at (2, P) (counter 2 is only ever this record), which it may only while it
//     still promises (3, P); else it retries as after a lost round. Classic rounds use counters
//     >= 3. Their phase 1 picks the highest ballot >= 2 reported (standard Paxos; a (2, P) record
//     included); with only round-1 votes reported, the value of a proposer that did not answer
//     (or answered round1_vote_unknown) if the votes reported for it, its proposer's own, and
//     the unknown votes could make a majority: a proposer that answered without the record
//     promised our ballot and never records it. If two values, or one never seen, could, it
//     waits for more answers. A value that changed nothing is the initial value and never
//     needs a pick. After a loss of records (inv. 8) a region marks its round-1 vote unknown
//     where it cannot tell it: its own round-1 values (their record may be lost), and names
//     where others report two or more values that changed something; with one, it takes it
//     for its vote. An unknown vote never votes in round 1 again.
// 10. No duels. A proposer whose round is refused because a region W with a higher region id
//     holds a higher ballot hands its batch's unanswered requests to W (Forward) instead of
//     retrying with a still higher ballot, which would pre-empt W and invite W to pre-empt it in
//     turn; for request_timeout_ticks after, it sends W its new requests for that handle too.
//     Requests only ever move to a higher region id, so they never bounce, and among regions
//     contending for a handle one, the highest, keeps proposing. W serves them in its rounds
//     and relays each answer (ForwardReply); they stay pending here until then or their
//     deadline. Each carries its op id and the versions it was already proposed at, so W's
//     phase 1 value tells whether an earlier attempt was chosen (invariant 5): at most once holds
//     across the hand-off. W answers a duplicated Forward once. Only to a W heard from lately:
//     handing requests to a region cut off from us would turn them into 503s.
// 11. Read leases (docs/strong.md "Read leases"). A round whose batch holds a read asks for a
//     lease (Accept.want_lease). An acceptor voting for it grants the proposer H a lease on the
//     handle: until L + M ms (read_lease_ms, read_lease_margin_ms) after the Accept arrived, by
//     its own monotonic clock, it accepts no ballot of any other region for that handle (it
//     answers Nack with the ms left; the refused proposer waits that long). H answers a read
//     locally, with no message, while the acceptors of a majority granted it leases that H counts
//     as lasting L ms from when it sent their Accept (before they arrived), with the value of
//     H's last chosen round. While that lasts no other region's value can get a majority (each
//     majority includes a granting acceptor), and a value of H's own reaches a client only
//     through H, which then serves it: H's value is the latest any client can observe. This
//     holds whatever the clocks' offsets; it assumes the two monotonic clocks' rates differ by
//     less than M over L. Leases are volatile: a region that restarts with acceptor records, or
//     rejoins, accepts nothing for L + M ms after its first step (it may have granted leases it
//     forgot). An acceptor that refused a region for a lease extends it no further and grants
//     none on that handle for L after it ends, so a writer is not starved by lease renewals.
//
// Owner mode (HandleMode::kOwner) is the comparison baseline: the owner region of a handle
// (StableHash(name) % regions) applies requests to its durable copy alone and answers; other
// regions forward. Forwards are not retransmitted (a lost forward or reply times out as
// kUnavailable), and the owner answers a duplicated forward from a bounded cache of recent
// answers, so requests stay at-most-once.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/random.h"
#include "base/status.h"
#include "base/storage.h"
#include "strong/options.h"
#include "strong/types.h"

namespace meridian {

struct StrongStats {
  uint64_t requests = 0;
  uint64_t fast_rounds = 0;    // rounds that skipped Prepare (1-RTT path, round 1 included)
  uint64_t round1_rounds = 0;  // of which round 1 of a never-written handle (invariant 9)
  uint64_t phase1_waits = 0;   // promises a quorum of which could not tell round 1's value
  uint64_t handed_off = 0;     // requests handed to the region ahead after a lost round
  uint64_t handed_in = 0;      // requests other regions handed to us
  uint64_t slow_rounds = 0;    // rounds that began with Prepare
  uint64_t nacks = 0;
  uint64_t resends = 0;
  uint64_t unavailable = 0;
  uint64_t reapplied_checks = 0;  // retries that found their earlier attempt chosen
  uint64_t malformed_messages = 0;
  uint64_t votes_withheld = 0;  // Prepares and Accepts left unanswered while rejoining
  uint64_t sync_pages = 0;      // sync answers adopted while rejoining
  uint64_t sync_resends = 0;    // sync requests sent again (timeout, or a link came up)
  uint64_t lease_reads = 0;     // reads answered locally under a read lease (invariant 11)
  uint64_t lease_refusals = 0;  // Accepts refused for another region's lease, or after a restart
};

class StrongNode {
 public:
  // Storage key of the marker "this region's acceptor records are complete" (invariant 8),
  // beside the acceptor records ("h" + name) and apart from the replica's keys
  // (src/replica/storage_keys.h). A shell restoring a backup should delete it in the restore
  // itself, too: the node deletes it only in its first step, and a crash before that step's
  // records are durable would otherwise restart with the backup's marker as if nothing was lost.
  static constexpr std::string_view kSyncedMarkerKey = "m:handles-synced";

  // A node with empty storage: rejoining when options.rejoining (invariant 8). With
  // options.rejoining false it takes its empty records to be complete (a new cluster's first
  // start, as the simulator runs it) and writes the marker in its first step.
  explicit StrongNode(StrongOptions options);

  // Rebuilds a node from the acceptor records a previous incarnation persisted ("h" + name),
  // rejoining when options.rejoining or the marker is missing (invariant 8). Proposer state
  // (caches, requests in flight) is volatile: requests in flight at a crash are never answered,
  // and the shell answers their clients with an error when it restarts. REQUIRES: a
  // random_seed differing from earlier incarnations' (sync ids and forward ids come from it).
  static Result<std::unique_ptr<StrongNode>> Recover(StrongOptions options, const Storage& storage);

  // A client request, identified by the shell's `request_id` (echoed in the reply; the shell
  // keeps ids unique among its pending requests). Returns the canonical (case-folded) handle
  // name, or an error and changes nothing: INVALID_ARGUMENT for a bad name or owner,
  // RESOURCE_EXHAUSTED when too many requests are pending. The reply arrives in a later (or this)
  // step's `out->replies`, always within request_timeout_ticks (invariant 6); in this step, as
  // kUnavailable naming the regions awaited, while the region is rejoining (invariant 8).
  // `physical_ms` only stamps a claim's record.
  Result<std::string> OnClientRequest(uint64_t request_id, HandleRequest request,
                                      uint64_t physical_ms, StrongOutput* out);

  // A message from peer `from` (the transport's word for the sender, checked against the
  // message's own). Malformed or misaddressed messages are counted and dropped.
  void OnMessage(RegionId from, const pb::StrongMessage& message, StrongOutput* out);

  // The shell's link to `peer` came up (a new connection). A rejoining region asks that region
  // again at once instead of after sync_resend_ticks: its earlier request may have been lost
  // while the link was down, as when a new cluster's regions start one after another.
  // REQUIRES: peer < region_count, peer != self.
  void OnPeerConnected(RegionId peer, StrongOutput* out);

  // Time passes by one tick: resends (sync requests too), backoff retries, timeouts.
  void Tick(StrongOutput* out);

  // The shell's monotonic clock (ms; steady, never stepped; it need not survive a restart), read
  // when the event about to be passed in happened, or later. Read leases (invariant 11) are
  // measured on it; nothing else is. Call it before each OnClientRequest, OnMessage,
  // OnPeerConnected and Tick; until the first call no lease is granted or used. A reading
  // below an earlier one is ignored.
  void AdvanceClock(uint64_t steady_ms);
  // Whether a read of `name` (canonical) would be answered locally now (invariant 11).
  bool HoldsReadLease(const std::string& name) const;

  // The value this region's acceptor holds for `name` (canonical): a local, possibly stale view,
  // for debugging and the simulator; linearizable reads go through OnClientRequest.
  std::optional<HandleValue> LocalValue(const std::string& name) const;

  // Whether this region still waits for other regions' acceptor states (invariant 8), and which.
  bool rejoining() const { return rejoining_; }
  std::vector<RegionId> awaited_regions() const;

  RegionId self() const { return options_.self; }
  const StrongOptions& options() const { return options_; }
  const StrongStats& stats() const { return stats_; }
  size_t pending_requests() const { return pending_; }
  // Majority of regions (the quorum), or 1 with the quorum-of-one bug.
  size_t quorum() const;

 private:
  struct AcceptorState {
    Ballot promised;
    Ballot accepted;
    HandleValue value;
    bool round1_unknown = false;  // invariant 9: lost which round-1 value it voted for
  };
  // One acceptor's answer to a Prepare.
  struct Vote {
    Ballot accepted;
    HandleValue value;
    bool round1_unknown = false;
  };
  struct Request {
    uint64_t request_id = 0;
    HandleRequest request;  // name canonical
    uint64_t physical_ms = 0;
    uint64_t deadline_tick = 0;
    // Handed to us by another region (invariant 10): answered with a ForwardReply to `origin`
    // (region, forward id) instead of a client reply, applied under `op_id`, and already
    // proposed at `tried_versions` there.
    std::optional<std::pair<RegionId, uint64_t>> origin;
    std::optional<OpId> op_id;
    std::vector<uint64_t> tried_versions;
    uint32_t hops = 0;
  };
  enum class Phase : uint8_t { kPreparing, kAccepting, kBackoff };
  // One request of a proposal's batch.
  struct Batched {
    Request request;
    uint32_t index = 0;                    // op id: (proposal's op_ballot, index)
    std::vector<uint64_t> tried_versions;  // versions its mutation was proposed at
    HandleOutcome outcome = HandleOutcome::kNotFound;
    HandleRecord record;    // the reply's record once the proposal is chosen
    bool answered = false;  // already answered (outcome unknown, invariant 5)
  };
  // The requests of a handle in flight at this region (one batch), and its current round.
  struct Proposal {
    std::vector<Batched> batch;  // in arrival order; applied to the value in this order
    Ballot op_ballot;            // ballot of its first round (invariant 5)
    Phase phase = Phase::kPreparing;
    Ballot ballot;
    std::set<RegionId> answered;     // promises or accepts for `ballot`
    std::map<RegionId, Vote> votes;  // the promises' reports (phase 1)
    HandleValue proposed;
    uint64_t started_tick = 0;  // when the batch's first round began
    uint64_t phase_started_tick = 0;
    uint64_t retry_tick = 0;      // kBackoff: when to start the next round
    uint32_t rounds_lost = 0;     // rounds of this batch that lost to a higher ballot
    uint64_t accept_sent_ms = 0;  // when the current ballot's Accept was first sent
    // Unreachability (invariant 6) counts from here: the batch's start, or the end of a wait for
    // a lease (invariant 11), which sends nothing.
    uint64_t reach_since_tick = 0;
    bool lease_wait = false;
    std::set<RegionId> lease_votes;  // acceptors whose Accepted granted a lease (inv. 11)
    std::map<RegionId, uint64_t> lease_refused;  // acceptors that refused it for a lease: ms left
  };
  struct FastPath {
    Ballot next;  // promised by a majority, together with `value` as their highest accepted
    HandleValue value;
  };
  struct Slot {
    std::optional<Proposal> active;
    std::deque<Request> queue;
    std::optional<FastPath> fast;
    uint64_t highest_seen_counter = 0;  // from Nacks: new ballots go above it
    // Invariant 10: until defer_until_tick, requests for this handle go to region defer_to,
    // which is ahead on it, instead of into rounds of ours that would pre-empt it.
    RegionId defer_to = 0;
    uint64_t defer_until_tick = 0;
    // Invariant 11, as a lease holder: the value of our last chosen round, and per acceptor the
    // end of the lease it granted us (our clock, from when we sent it the Accept).
    std::optional<HandleValue> chosen;
    std::map<RegionId, uint64_t> lease_until_ms;
  };
  // Invariant 11, as an acceptor: the lease granted on a handle, in our clock.
  struct Grant {
    RegionId holder = 0;
    uint64_t until_ms = 0;
    bool contended = false;  // another region was refused for it: extend no further
  };
  // How far a rejoining region got with one other region's acceptor states.
  struct PeerSync {
    std::string after;        // the next page starts after this name
    bool done = false;        // the region has answered in full
    uint64_t asked_tick = 0;  // when the page after `after` was last asked for
  };
  // A request sent to another region (owner mode: the owner; consensus mode: a region that was
  // ahead), answered when that region replies or at the request's deadline.
  struct PendingForward {
    Request request;
    RegionId to = 0;
  };

  // --- dispatch (strong_node.cc) ---
  void Send(RegionId to, pb::StrongMessage message, StrongOutput* out);
  void DrainSelf(StrongOutput* out);
  void Dispatch(RegionId from, const pb::StrongMessage& message, StrongOutput* out);
  void Reply(const Request& r, HandleOutcome outcome, HandleRecord record, std::string message,
             StrongOutput* out);
  AcceptorState& Acceptor(const std::string& name);
  void Persist(const std::string& name, const AcceptorState& state, StrongOutput* out);
  static void EncodeRecord(const AcceptorState& state, pb::AcceptorRecord* out);
  // A record as read from disk or from a peer: DATA_LOSS unless its value decodes and its
  // accepted ballot is not above its promise.
  static Result<AcceptorState> DecodeRecord(const pb::AcceptorRecord& record);

  // --- acceptor (acceptor.cc) ---
  void HandlePrepare(RegionId from, const pb::Prepare& m, StrongOutput* out);
  void HandleAccept(RegionId from, const pb::Accept& m, StrongOutput* out);

  // --- read leases (read_lease.cc, invariant 11) ---
  // Answers a read from our lease if we hold one; false if the read needs a round.
  bool ServeFromLease(const Request& r, StrongOutput* out);
  // The ms an Accept from `from` for `name` must wait for a lease of another region, or 0.
  uint64_t LeaseWaitMs(RegionId from, const std::string& name) const;
  // Called when our acceptor votes for `from`'s Accept; returns whether it grants a lease.
  bool GrantLease(RegionId from, const std::string& name, bool wanted);
  void NoteLeaseRefusal(const std::string& name);
  void NoteChosen(const std::string& name, const Proposal& p);
  static bool WantsLease(const Proposal& p);

  // --- proposer (proposer.cc) ---
  void Enqueue(Request request, StrongOutput* out);
  void StartNext(const std::string& name, StrongOutput* out);
  void StartRound(const std::string& name, StrongOutput* out);
  void SendPrepare(const std::string& name, const Proposal& p, RegionId to, StrongOutput* out);
  void SendAccept(const std::string& name, const Proposal& p, RegionId to, StrongOutput* out);
  void Propose(const std::string& name, const HandleValue& base, StrongOutput* out);
  void HandlePromise(RegionId from, const pb::Promise& m, StrongOutput* out);
  // Phase 1's choice of the value to build on from `votes` (invariant 9), or nullopt while more
  // answers are needed to tell which round-1 value may have been chosen.
  std::optional<HandleValue> ChooseBase(const Proposal& p) const;
  // Round 1's standing promise still holds at this acceptor state (invariant 9).
  static bool StandingPromiseHolds(const AcceptorState& st);
  Ballot NextBallot(Ballot b) const;
  void HandleAccepted(RegionId from, const pb::Accepted& m, StrongOutput* out);
  void HandleNack(RegionId from, const pb::Nack& m, StrongOutput* out);
  void Finish(const std::string& name, std::optional<std::string> unavailable, StrongOutput* out);
  void BackOff(Proposal& p);
  void WaitForLease(Proposal& p, uint64_t wait_ms);
  void TickProposals(StrongOutput* out);
  Proposal* ActiveFor(const std::string& name, Ballot ballot);

  // --- losing a disk (rejoin.cc, invariant 8) ---
  static bool RejoinApplies(const StrongOptions& options);
  void BeginStep(StrongOutput* out);
  void SendSyncRequest(RegionId to, StrongOutput* out);
  void HandleSyncRequest(RegionId from, const pb::SyncRequest& m, StrongOutput* out);
  void HandleSyncReply(RegionId from, const pb::SyncReply& m, StrongOutput* out);
  Status ValidateSyncReply(const pb::SyncReply& m) const;
  static bool Adopt(const AcceptorState& theirs, AcceptorState& ours);
  void AdoptRound1Votes(StrongOutput* out);
  void TickSync(StrongOutput* out);
  std::string RejoiningMessage() const;

  // --- handing a lost round's requests to the region ahead (hand_off.cc, invariant 10) ---
  bool HandOff(const std::string& name, Proposal& p, RegionId to, uint64_t heard_since,
               StrongOutput* out);
  void HandleHandedOff(RegionId from, const pb::Forward& m, StrongOutput* out);
  void SendForwardReply(const Request& r, HandleOutcome outcome, const HandleRecord& record,
                        const std::string& message, StrongOutput* out);
  void RememberForwardReply(std::pair<RegionId, uint64_t> key, const pb::ForwardReply& reply);

  // --- owner mode (owner_mode.cc) ---
  RegionId OwnerOf(const std::string& name) const;
  AppliedRequest ApplyAsOwner(const HandleRequest& request, uint64_t physical_ms,
                              StrongOutput* out);
  void HandleForward(RegionId from, const pb::Forward& m, StrongOutput* out);
  void HandleForwardReply(RegionId from, const pb::ForwardReply& m, StrongOutput* out);
  void TickForwards(StrongOutput* out);

  StrongOptions options_;
  Random random_;
  std::map<std::string, AcceptorState> acceptors_;
  std::map<std::string, Slot> slots_;
  std::set<std::string> busy_;  // names whose slot has an active proposal
  std::map<uint64_t, PendingForward> forwards_;
  std::vector<uint64_t> last_heard_tick_;  // per region: last tick any strong message arrived
  // Owner mode, at the owner: answers to recent forwards by (sender, forward id), oldest first
  // in the deque, so that a duplicated forward is answered again instead of applied again.
  std::map<std::pair<RegionId, uint64_t>, pb::ForwardReply> forward_replies_;
  std::deque<std::pair<RegionId, uint64_t>> forward_reply_order_;
  // Consensus mode: requests handed to us and not answered yet, by (sender, forward id), so a
  // duplicated Forward is not served twice (invariant 10).
  std::set<std::pair<RegionId, uint64_t>> handed_in_;
  uint64_t next_forward_id_;
  std::deque<pb::StrongMessage> self_inbox_;  // messages to our own acceptor / proposer
  // Invariant 11: the shell's monotonic clock, leases granted by our acceptor, and the end of
  // the wait after a restart (set at the first clock reading when `lease_quiet_pending_`).
  uint64_t now_ms_ = 0;
  bool clock_started_ = false;
  bool lease_quiet_pending_ = false;
  uint64_t lease_quiet_until_ms_ = 0;
  std::map<std::string, Grant> grants_;
  size_t pending_ = 0;
  uint64_t tick_ = 0;
  StrongStats stats_;
  // Invariant 8. `began_`: the first step ran (it deletes or writes the marker, and starts the
  // sync). `marker_durable_`: Recover found the marker. While rejoining, `sync_peers_` holds every
  // other region and `sync_id_` tells this sync's answers from earlier ones'.
  bool rejoining_;
  bool began_ = false;
  bool marker_durable_ = false;
  uint64_t sync_id_ = 0;
  std::map<RegionId, PeerSync> sync_peers_;
  // Round-1 votes other regions reported during this sync, by name, then ballot (invariant 9);
  // at most one per region and name, so bounded like acceptors_.
  std::map<std::string, std::map<Ballot, HandleValue>> round1_reports_;
};

}  // namespace meridian
