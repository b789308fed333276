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
//     ballots start above its own acceptor's promise, so a restarted region never reuses one.
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
#include <vector>

#include "base/random.h"
#include "base/status.h"
#include "base/storage.h"
#include "strong/options.h"
#include "strong/types.h"

namespace meridian {

struct StrongStats {
  uint64_t requests = 0;
  uint64_t fast_rounds = 0;  // rounds that skipped Prepare (1-RTT path)
  uint64_t slow_rounds = 0;  // rounds that began with Prepare
  uint64_t nacks = 0;
  uint64_t resends = 0;
  uint64_t unavailable = 0;
  uint64_t reapplied_checks = 0;  // retries that found their earlier attempt chosen
  uint64_t malformed_messages = 0;
};

class StrongNode {
 public:
  explicit StrongNode(StrongOptions options);

  // Rebuilds a node from the acceptor records a previous incarnation persisted ("h" + name).
  // Proposer state (caches, requests in flight) is volatile: requests in flight at a crash are
  // never answered, and the shell answers their clients with an error when it restarts.
  static Result<std::unique_ptr<StrongNode>> Recover(StrongOptions options, const Storage& storage);

  // A client request, identified by the shell's `request_id` (echoed in the reply; the shell
  // keeps ids unique among its pending requests). Returns the canonical (case-folded) handle
  // name, or an error and changes nothing: INVALID_ARGUMENT for a bad name or owner,
  // RESOURCE_EXHAUSTED when too many requests are pending. The reply arrives in a later (or this)
  // step's `out->replies`, always within request_timeout_ticks (invariant 6).
  // `physical_ms` only stamps a claim's record.
  Result<std::string> OnClientRequest(uint64_t request_id, HandleRequest request,
                                      uint64_t physical_ms, StrongOutput* out);

  // A message from peer `from` (the transport's word for the sender, checked against the
  // message's own). Malformed or misaddressed messages are counted and dropped.
  void OnMessage(RegionId from, const pb::StrongMessage& message, StrongOutput* out);

  // Time passes by one tick: resends, backoff retries, timeouts.
  void Tick(StrongOutput* out);

  // The value this region's acceptor holds for `name` (canonical): a local, possibly stale view,
  // for debugging and the simulator; linearizable reads go through OnClientRequest.
  std::optional<HandleValue> LocalValue(const std::string& name) const;

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
  };
  struct Request {
    uint64_t request_id = 0;
    HandleRequest request;  // name canonical
    uint64_t physical_ms = 0;
    uint64_t deadline_tick = 0;
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
    std::set<RegionId> answered;  // promises or accepts for `ballot`
    Ballot highest_accepted;      // among the promises
    HandleValue highest_value;
    HandleValue proposed;
    uint64_t started_tick = 0;  // when the batch's first round began
    uint64_t phase_started_tick = 0;
    uint64_t retry_tick = 0;   // kBackoff: when to start the next round
    uint32_t rounds_lost = 0;  // rounds of this batch that lost to a higher ballot
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
  };
  struct PendingForward {
    uint64_t request_id = 0;
    std::string name;
    uint64_t deadline_tick = 0;
  };

  // --- dispatch (strong_node.cc) ---
  void Send(RegionId to, pb::StrongMessage message, StrongOutput* out);
  void DrainSelf(StrongOutput* out);
  void Dispatch(RegionId from, const pb::StrongMessage& message, StrongOutput* out);
  void Reply(const Request& r, HandleOutcome outcome, HandleRecord record, std::string message,
             StrongOutput* out);
  AcceptorState& Acceptor(const std::string& name);
  void Persist(const std::string& name, const AcceptorState& state, StrongOutput* out);

  // --- acceptor (acceptor.cc) ---
  void HandlePrepare(RegionId from, const pb::Prepare& m, StrongOutput* out);
  void HandleAccept(RegionId from, const pb::Accept& m, StrongOutput* out);

  // --- proposer (proposer.cc) ---
  void Enqueue(Request request, StrongOutput* out);
  void StartNext(const std::string& name, StrongOutput* out);
  void StartRound(const std::string& name, StrongOutput* out);
  void SendPrepare(const std::string& name, const Proposal& p, RegionId to, StrongOutput* out);
  void SendAccept(const std::string& name, const Proposal& p, RegionId to, StrongOutput* out);
  void Propose(const std::string& name, const HandleValue& base, StrongOutput* out);
  void HandlePromise(RegionId from, const pb::Promise& m, StrongOutput* out);
  void HandleAccepted(RegionId from, const pb::Accepted& m, StrongOutput* out);
  void HandleNack(RegionId from, const pb::Nack& m, StrongOutput* out);
  void Finish(const std::string& name, std::optional<std::string> unavailable, StrongOutput* out);
  void BackOff(Proposal& p);
  void TickProposals(StrongOutput* out);
  Proposal* ActiveFor(const std::string& name, Ballot ballot);

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
  uint64_t next_forward_id_;
  std::deque<pb::StrongMessage> self_inbox_;  // messages to our own acceptor / proposer
  size_t pending_ = 0;
  uint64_t tick_ = 0;
  StrongStats stats_;
};

}  // namespace meridian
