// The proposer half of CASPaxos: batched rounds, the 1-RTT path, retries and timeouts
// (invariants 2-7 of strong_node.h).
#include <algorithm>

#include "strong/strong_node.h"

namespace meridian {

// The ballot an Accept of `b` asks its acceptors to promise: the proposer's next round skips
// Prepare with it. After round 1 that is (3, self), above the chosen marker (2, self).
Ballot StrongNode::NextBallot(Ballot b) const {
  if (b.counter == kRound1Counter) return {kFirstClassicCounter, options_.self};
  return {b.counter + 1, options_.self};
}

StrongNode::Proposal* StrongNode::ActiveFor(const std::string& name, Ballot ballot) {
  auto it = slots_.find(name);
  if (it == slots_.end() || !it->second.active || it->second.active->ballot != ballot) {
    return nullptr;
  }
  return &*it->second.active;
}

void StrongNode::Enqueue(Request request, StrongOutput* out) {
  ++pending_;
  const std::string name = request.request.name;
  Slot& slot = slots_[name];
  slot.queue.push_back(std::move(request));
  if (!slot.active) StartNext(name, out);
}

// Takes up to max_batch queued requests into a new proposal: they share its rounds.
void StrongNode::StartNext(const std::string& name, StrongOutput* out) {
  Slot& slot = slots_.at(name);
  MERIDIAN_ASSERT(!slot.active);
  if (slot.queue.empty()) {
    busy_.erase(name);
    return;
  }
  // Not emplace(): clang 14 takes a nested struct with member initializers for not default
  // constructible inside its enclosing class (LLVM bug 36684), and the fuzz build is clang's.
  slot.active = Proposal{};
  while (!slot.queue.empty() && slot.active->batch.size() < options_.max_batch) {
    Batched b;
    b.request = std::move(slot.queue.front());
    b.index = static_cast<uint32_t>(slot.active->batch.size());
    b.tried_versions = b.request.tried_versions;  // handed to us: tried at the origin already
    slot.active->batch.push_back(std::move(b));
    slot.queue.pop_front();
  }
  slot.active->started_tick = tick_;
  slot.active->reach_since_tick = tick_;
  busy_.insert(name);
  // Invariant 10: a region ahead of us on this handle lately serves it while it stays in touch.
  if (slot.defer_until_tick > tick_ && tick_ >= options_.unreachable_ticks &&
      HandOff(name, *slot.active, slot.defer_to, tick_ - options_.unreachable_ticks, out)) {
    return;
  }
  StartRound(name, out);
}

void StrongNode::StartRound(const std::string& name, StrongOutput* out) {
  Slot& slot = slots_.at(name);
  Proposal& p = *slot.active;
  const AcceptorState& own = Acceptor(name);
  p.answered.clear();
  p.votes.clear();
  p.phase_started_tick = tick_;
  // Our own acceptor would refuse the Accept for another region's read lease (or after a
  // restart): wait that out before sending anything (invariant 11).
  if (const uint64_t wait_ms = LeaseWaitMs(options_.self, name); wait_ms > 0) {
    NoteLeaseRefusal(name);  // the holder may not renew it meanwhile: we would starve
    WaitForLease(p, wait_ms);
    return;
  }
  // Round 1 (invariant 9): nobody ever asked our acceptor for a promise on this handle, so
  // round 1's standing promise holds here, and no Nack told us of a competitor. Our acceptor
  // votes for our value in this step (the Accept to ourselves is drained before anything else
  // can reach it), then the nearest other acceptor's vote makes a majority of three: one round
  // trip to the nearest majority for a first claim.
  if (options_.round1 && StandingPromiseHolds(own) && slot.highest_seen_counter == 0) {
    slot.fast.reset();
    p.ballot = {kRound1Counter, options_.self};
    if (p.op_ballot.IsZero()) p.op_ballot = p.ballot;
    ++stats_.fast_rounds;
    ++stats_.round1_rounds;
    Propose(name, HandleValue{}, out);
    return;
  }
  // 1-RTT path: a majority promised `fast->next` when it accepted our last value, and our own
  // acceptor still holds exactly that promise (anything else means someone else came by).
  if (slot.fast && own.promised == slot.fast->next && own.accepted < slot.fast->next) {
    p.ballot = slot.fast->next;
    const HandleValue base = std::move(slot.fast->value);
    slot.fast.reset();
    if (p.op_ballot.IsZero()) p.op_ballot = p.ballot;
    ++stats_.fast_rounds;
    Propose(name, base, out);
    return;
  }
  slot.fast.reset();
  // Above every ballot our acceptor promised or saw accepted (so never one we used before,
  // invariant 2) and above every ballot a Nack told us about (so it can win).
  const uint64_t counter = std::max(
      kFirstClassicCounter,
      std::max({own.promised.counter, own.accepted.counter, slot.highest_seen_counter}) + 1);
  p.ballot = {counter, options_.self};
  if (p.op_ballot.IsZero()) p.op_ballot = p.ballot;
  p.phase = Phase::kPreparing;
  ++stats_.slow_rounds;
  for (RegionId r = 0; r < options_.region_count; ++r)
    SendPrepare(name, p, r, out);
}

void StrongNode::SendPrepare(const std::string& name, const Proposal& p, RegionId to,
                             StrongOutput* out) {
  pb::StrongMessage m;
  m.mutable_prepare()->set_name(name);
  Encode(p.ballot, m.mutable_prepare()->mutable_ballot());
  Send(to, std::move(m), out);
}

void StrongNode::SendAccept(const std::string& name, const Proposal& p, RegionId to,
                            StrongOutput* out) {
  pb::StrongMessage m;
  pb::Accept* a = m.mutable_accept();
  a->set_name(name);
  Encode(p.ballot, a->mutable_ballot());
  Encode(p.proposed, a->mutable_value());
  Encode(NextBallot(p.ballot), a->mutable_next());
  a->set_want_lease(WantsLease(p));
  Send(to, std::move(m), out);
}

// Phase 2: `base` is the current value (the highest accepted among a majority of promises, or
// the cached value on the 1-RTT path). The batch's requests are applied to it in order.
void StrongNode::Propose(const std::string& name, const HandleValue& base, StrongOutput* out) {
  Proposal& p = *slots_.at(name).active;
  p.phase = Phase::kAccepting;
  p.answered.clear();
  p.lease_votes.clear();
  p.lease_refused.clear();
  p.phase_started_tick = tick_;
  p.accept_sent_ms = now_ms_;
  HandleValue value = base;
  bool any_open = false;
  // A request handed to us keeps the op id it was first proposed under (invariant 10).
  auto request_op_id = [&p](const Batched& b) {
    return b.request.op_id ? *b.request.op_id : OpId{p.op_ballot, b.index};
  };
  for (Batched& b : p.batch) {
    if (b.answered) continue;
    const HandleRequest& request = b.request.request;
    const OpId op_id = request_op_id(b);
    // Invariant 5: did an earlier round get this request's mutation chosen after all? `base`
    // is the chosen history up to now, as far as a majority knows it.
    bool applied = false, unknown = false;
    for (uint64_t version : b.tried_versions) {
      if (options_.bugs.reapply_on_retry) break;
      if (version > base.version) continue;  // not in the chosen history: that attempt lost
      auto it = std::find_if(base.recent.begin(), base.recent.end(),
                             [&](const HandleMutation& m) { return m.version == version; });
      if (it == base.recent.end()) {
        unknown = true;
      } else if (it->op_id == op_id) {
        applied = true;
      }
    }
    if (applied) {
      ++stats_.reapplied_checks;
      const bool claim = request.kind == HandleOpKind::kClaim;
      b.outcome = claim ? HandleOutcome::kClaimed : HandleOutcome::kReleased;
      b.record = {name, claim ? request.owner : "", 0, 0};
    } else if (unknown) {
      b.answered = true;
      Reply(b.request, HandleOutcome::kUnavailable, {name, "", 0, 0},
            "outcome unknown: the handle changed too often while this request retried", out);
      continue;
    } else {
      AppliedRequest a =
          ApplyRequest(request, value, op_id, b.request.physical_ms, options_.recent_mutations);
      if (a.mutated) b.tried_versions.push_back(a.value.version);
      value = std::move(a.value);
      b.outcome = a.outcome;
      b.record = RecordOf(name, value);
    }
    any_open = true;
  }
  if (!any_open) return Finish(name, std::nullopt, out);
  p.proposed = std::move(value);
  for (RegionId r = 0; r < options_.region_count; ++r)
    SendAccept(name, p, r, out);
}

void StrongNode::HandlePromise(RegionId from, const pb::Promise& m, StrongOutput* out) {
  Proposal* p = ActiveFor(m.name(), Decode(m.ballot()));
  if (p == nullptr || p->phase != Phase::kPreparing) return;  // a late answer to an old round
  auto value = Decode(m.value());
  const Ballot accepted = Decode(m.accepted());
  if (!value.ok() || !(accepted < p->ballot)) {
    ++stats_.malformed_messages;
    return;
  }
  if (!p->answered.insert(from).second) return;
  p->votes[from] = Vote{accepted, std::move(value).value(), m.round1_vote_unknown()};
  Slot& slot = slots_.at(m.name());
  slot.highest_seen_counter = std::max(slot.highest_seen_counter, accepted.counter);
  if (p->answered.size() < quorum()) return;
  std::optional<HandleValue> base = ChooseBase(*p);
  if (!base) {  // round 1 is undecided among these answers: wait for more (resends ask again)
    ++stats_.phase1_waits;
    return;
  }
  Propose(m.name(), *base, out);
}

// Invariant 9. A classic ballot's value, if any was reported, is built upon as in Paxos: every
// value chosen below it (round 1 included) is that value. Otherwise only round-1 votes were
// reported, each naming its proposer's region (the ballot's), whose own acceptor voted for it.
std::optional<HandleValue> StrongNode::ChooseBase(const Proposal& p) const {
  const Vote* classic = nullptr;
  std::map<RegionId, const HandleValue*> round1_values;  // by proposer
  for (const auto& [region, vote] : p.votes) {
    if (vote.accepted.counter >= kRound1ChosenCounter) {
      if (classic == nullptr || vote.accepted > classic->accepted) classic = &vote;
    } else if (vote.accepted.counter == kRound1Counter) {
      round1_values[vote.accepted.region] = &vote.value;
    }
  }
  if (classic != nullptr) return classic->value;
  // Each acceptor's round-1 vote as far as we can tell: reported; none (it answered with no
  // vote, and having promised our ballot it can no longer vote); its own value (a proposer we
  // heard of that did not answer); or unknown (anything, including a value we never saw).
  std::map<RegionId, size_t> votes_for;  // by proposer
  size_t unknown = 0;
  auto answered = [&p](RegionId a) {
    auto it = p.votes.find(a);
    return it != p.votes.end() && !it->second.round1_unknown;
  };
  for (RegionId a = 0; a < options_.region_count; ++a) {
    if (answered(a)) {
      const Vote& v = p.votes.at(a);
      if (v.accepted.counter == kRound1Counter) ++votes_for[v.accepted.region];
    } else if (round1_values.count(a) != 0) {
      ++votes_for[a];
    } else {
      ++unknown;
    }
  }
  if (unknown >= quorum()) return std::nullopt;  // a value we never saw may have a majority
  // A value counts as chosen only once its proposer recorded so (the classic ballot (2, P)
  // above); a proposer that answered us without that record promised our ballot and never will:
  // its value can be passed over. A round-1 value that changed nothing (reads, releases of the
  // free handle) is the initial value, which every other value extends: it never needs a pick.
  std::optional<RegionId> possible;
  for (const auto& [proposer, count] : votes_for) {
    if (answered(proposer) || count + unknown < quorum() ||
        round1_values.at(proposer)->version == 0) {
      continue;
    }
    if (possible) return std::nullopt;  // two values may have been chosen: ask the rest
    possible = proposer;
  }
  if (possible) return *round1_values.at(*possible);
  return HandleValue{};  // nothing but the free handle was chosen in round 1
}

void StrongNode::HandleAccepted(RegionId from, const pb::Accepted& m, StrongOutput* out) {
  Proposal* p = ActiveFor(m.name(), Decode(m.ballot()));
  if (p == nullptr || p->phase != Phase::kAccepting) return;
  if (m.lease()) p->lease_votes.insert(from);
  if (!p->answered.insert(from).second || p->answered.size() < quorum()) return;
  Slot& slot = slots_.at(m.name());
  if (p->ballot.counter == kRound1Counter) {
    // Round 1 (invariant 9): our value has a majority; it counts as chosen once our own acceptor
    // records so at (2, self), durably before the reply. It can only while it still promises
    // nothing above (3, self): an acceptor that answered someone's phase 1 since has told them
    // it holds no such record, and they may have built on another value.
    AcceptorState& own = Acceptor(m.name());
    const Ballot next = NextBallot(p->ballot);
    const bool recordable = own.promised == next && own.accepted == p->ballot;
    if (!recordable && !options_.bugs.round1_chosen_after_promise) {
      slot.fast.reset();
      BackOff(*p);
      return;
    }
    if (recordable) {
      MERIDIAN_ASSERT(own.value == p->proposed);
      own.accepted = {kRound1ChosenCounter, options_.self};
      Persist(m.name(), own, out);
    }
  }
  // Chosen (invariant 3). Each Accepted also promised next: cache it for the 1-RTT path.
  slot.fast = FastPath{NextBallot(p->ballot), p->proposed};
  NoteChosen(m.name(), *p);
  Finish(m.name(), std::nullopt, out);
}

void StrongNode::HandleNack(RegionId from, const pb::Nack& m, StrongOutput* out) {
  Proposal* p = ActiveFor(m.name(), Decode(m.ballot()));
  const Ballot promised = Decode(m.promised());
  // Refused for another region's read lease (invariant 11): no one is ahead to hand off to and
  // no higher ballot helps. The round goes on while the others can still make a majority (two
  // regions whose own acceptors each granted themselves a lease would otherwise both give up);
  // once they cannot, or our own acceptor refused (a value is chosen only with our own
  // acceptor's vote, invariant 8), it is abandoned and retried when the leases are over.
  if (m.lease_ms_left() > 0) {
    if (p == nullptr || p->phase != Phase::kAccepting || p->answered.count(from) != 0) return;
    ++stats_.nacks;
    p->lease_refused[from] = std::max(p->lease_refused[from], m.lease_ms_left());
    if (from != options_.self && options_.region_count - p->lease_refused.size() >= quorum()) {
      return;
    }
    slots_.at(m.name()).fast.reset();
    uint64_t wait_ms = 0;
    for (const auto& [acceptor, left_ms] : p->lease_refused)
      wait_ms = std::max(wait_ms, left_ms);
    WaitForLease(*p, wait_ms);
    return;
  }
  // A Nack naming a promise not above our ballot is a late answer to a resend we no longer need
  // (e.g. our own acceptor, which promised this very ballot).
  if (p == nullptr || p->phase == Phase::kBackoff || !(promised > p->ballot)) return;
  ++stats_.nacks;
  Slot& slot = slots_.at(m.name());
  slot.highest_seen_counter = std::max(slot.highest_seen_counter, promised.counter);
  slot.fast.reset();
  if (p->answered.count(from) != 0) return;
  // Someone is running a higher ballot: this round could still win without the refuser, but
  // it would most likely be overtaken. The region ahead serves our requests in its next round
  // (invariant 10); failing that, a higher ballot after a short backoff.
  if (HandOff(m.name(), *p, promised.region, p->started_tick, out)) return;
  BackOff(*p);
}

// Randomised exponential backoff: at least backoff_ticks_min (time for the winner to finish its
// round), plus jitter from a window that doubles with each lost round (up to 4x), so duelling
// proposers soon stop colliding; the jitter comes from the seeded generator.
void StrongNode::BackOff(Proposal& p) {
  p.phase = Phase::kBackoff;
  const uint32_t doublings = std::min<uint32_t>(p.rounds_lost++, 2);
  p.retry_tick = tick_ + options_.backoff_ticks_min +
                 random_.Uniform(uint64_t{options_.backoff_ticks_max} << doublings);
}

// Waits out a read lease of another region (invariant 11): a backoff until just after it ends.
void StrongNode::WaitForLease(Proposal& p, uint64_t wait_ms) {
  p.phase = Phase::kBackoff;
  p.retry_tick = tick_ + (wait_ms + options_.tick_ms - 1) / options_.tick_ms + 1;
  p.lease_wait = true;
}

// Answers every request of the active batch not yet answered: with its outcome once the
// proposal is chosen, or kUnavailable with `unavailable` as the message. Then starts the next.
void StrongNode::Finish(const std::string& name, std::optional<std::string> unavailable,
                        StrongOutput* out) {
  Slot& slot = slots_.at(name);
  MERIDIAN_ASSERT(slot.active);
  for (Batched& b : slot.active->batch) {
    if (b.answered) continue;
    if (unavailable) {
      Reply(b.request, HandleOutcome::kUnavailable, {name, "", 0, 0}, *unavailable, out);
    } else {
      Reply(b.request, b.outcome, std::move(b.record), "", out);
    }
  }
  slot.active.reset();
  StartNext(name, out);
}

void StrongNode::TickProposals(StrongOutput* out) {
  const std::vector<std::string> names(busy_.begin(), busy_.end());
  for (const std::string& name : names) {
    Slot& slot = slots_.at(name);
    while (!slot.queue.empty() && slot.queue.front().deadline_tick <= tick_) {
      // Same timeout for all, so queued deadlines ascend: the front expires first.
      Reply(slot.queue.front(), HandleOutcome::kUnavailable, {name, "", 0, 0},
            "the handle's queue did not drain within the request timeout", out);
      slot.queue.pop_front();
    }
    Proposal& p = *slot.active;
    // The batch's oldest request sets its deadline: the batch is answered as one.
    if (tick_ >= p.batch.front().request.deadline_tick) {
      slot.fast.reset();
      Finish(name,
             "no majority of regions answered within " +
                 std::to_string(options_.request_timeout_ticks * options_.tick_ms) + " ms",
             out);
      continue;
    }
    // Waiting out a lease sends nothing: reachability counts from the round after it.
    if (p.lease_wait) {
      if (tick_ < p.retry_tick) continue;
      p.lease_wait = false;
      p.reach_since_tick = tick_;
    }
    if (tick_ - p.reach_since_tick >= options_.unreachable_ticks) {
      size_t heard = 1;  // ourselves
      for (RegionId r = 0; r < options_.region_count; ++r) {
        if (r != options_.self && last_heard_tick_[r] > p.reach_since_tick) ++heard;
      }
      if (heard < quorum()) {
        slot.fast.reset();
        Finish(name,
               "this region cannot reach a majority of regions (heard from " +
                   std::to_string(heard) + " of " + std::to_string(options_.region_count) +
                   " within " + std::to_string(options_.unreachable_ticks * options_.tick_ms) +
                   " ms)",
               out);
        continue;
      }
    }
    if (p.phase == Phase::kBackoff) {
      if (tick_ >= p.retry_tick) StartRound(name, out);
      continue;
    }
    if (tick_ - p.phase_started_tick < options_.resend_ticks) continue;
    // No quorum yet: the message or its answer may be lost. Ask again whoever has not answered;
    // acceptors answer repeats idempotently.
    ++stats_.resends;
    p.phase_started_tick = tick_;
    for (RegionId r = 0; r < options_.region_count; ++r) {
      if (p.answered.count(r) != 0) continue;
      if (p.phase == Phase::kPreparing) {
        SendPrepare(name, p, r, out);
      } else {
        SendAccept(name, p, r, out);
      }
    }
  }
}

}  // namespace meridian
