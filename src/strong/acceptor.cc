// The acceptor half of CASPaxos: Prepare and Accept (invariants 1 and 8 of strong_node.h).
#include <algorithm>

#include "strong/handle_name.h"
#include "strong/strong_node.h"

namespace meridian {

// The standing promise of round 1 every acceptor holds for every handle until it promises a
// classic ballot, votes, or loses track of its vote (invariant 9).
bool StrongNode::StandingPromiseHolds(const AcceptorState& st) {
  return st.promised.IsZero() && st.accepted.IsZero() && !st.round1_unknown;
}

void StrongNode::HandlePrepare(RegionId from, const pb::Prepare& m, StrongOutput* out) {
  const Ballot b = Decode(m.ballot());
  // Counter 1 is round 1, which has no phase 1 (invariant 9).
  if (!IsCanonicalHandleName(m.name()) || b.counter < kFirstClassicCounter || b.region != from) {
    ++stats_.malformed_messages;
    return;
  }
  if (rejoining_) {  // no vote before the lost records are rebuilt (invariant 8)
    ++stats_.votes_withheld;
    return;
  }
  AcceptorState& st = Acceptor(m.name());
  pb::StrongMessage reply;
  // A repeated Prepare of the ballot we promised last (a resend after a lost Promise) gets the
  // same Promise again, unless that ballot has since been accepted here: then it is stale.
  const bool repeat = b == st.promised && st.accepted < b;
  if (b > st.promised || repeat) {
    if (!repeat) {
      st.promised = b;
      Persist(m.name(), st, out);
    }
    pb::Promise* p = reply.mutable_promise();
    p->set_name(m.name());
    Encode(b, p->mutable_ballot());
    Encode(st.accepted, p->mutable_accepted());
    Encode(st.value, p->mutable_value());
    p->set_round1_vote_unknown(st.round1_unknown);
  } else {
    pb::Nack* n = reply.mutable_nack();
    n->set_name(m.name());
    Encode(b, n->mutable_ballot());
    Encode(st.promised, n->mutable_promised());
  }
  Send(from, std::move(reply), out);
}

void StrongNode::HandleAccept(RegionId from, const pb::Accept& m, StrongOutput* out) {
  const Ballot b = Decode(m.ballot());
  const Ballot next = Decode(m.next());
  auto value = Decode(m.value());
  const bool round1 = b.counter == kRound1Counter;
  if (!IsCanonicalHandleName(m.name()) || b.IsZero() || b.counter == kRound1ChosenCounter ||
      b.region != from || !value.ok() || (!next.IsZero() && (next <= b || next.region != from)) ||
      (round1 && next != Ballot{kFirstClassicCounter, from})) {
    ++stats_.malformed_messages;
    return;
  }
  if (rejoining_) {  // no vote before the lost records are rebuilt (invariant 8)
    ++stats_.votes_withheld;
    return;
  }
  pb::StrongMessage reply;
  // Another region holds a read lease here, or we restarted and wait out the leases we may
  // have forgotten (invariant 11): refuse, saying how long, before anything else.
  if (const uint64_t wait_ms = LeaseWaitMs(from, m.name()); wait_ms > 0) {
    NoteLeaseRefusal(m.name());
    pb::Nack* n = reply.mutable_nack();
    n->set_name(m.name());
    Encode(b, n->mutable_ballot());
    auto known = acceptors_.find(m.name());  // (a refusal creates no state)
    Encode(known == acceptors_.end() ? Ballot{} : known->second.promised, n->mutable_promised());
    n->set_lease_ms_left(wait_ms);
    Send(from, std::move(reply), out);
    return;
  }
  AcceptorState& st = Acceptor(m.name());
  // st.accepted == b: a resend after a lost Accepted. A ballot carries one value only
  // (invariant 2), so accepting it again changes nothing; answering again is truthful.
  // Round 1 (invariant 9): one vote, and only under the standing promise, i.e. while nothing
  // was promised. A classic ballot: at or above the promise (invariant 1).
  bool vote;
  if (round1) {
    vote = st.accepted == b || StandingPromiseHolds(st);
  } else {
    vote = st.accepted == b || b >= st.promised || options_.bugs.accept_without_promise;
  }
  if (vote) {
    if (st.accepted != b) {
      st.accepted = b;
      st.value = std::move(value).value();
      st.promised = std::max({st.promised, b, next});
      Persist(m.name(), st, out);
    }
    pb::Accepted* a = reply.mutable_accepted();
    a->set_name(m.name());
    Encode(b, a->mutable_ballot());
    a->set_lease(GrantLease(from, m.name(), m.want_lease()));
  } else {
    pb::Nack* n = reply.mutable_nack();
    n->set_name(m.name());
    Encode(b, n->mutable_ballot());
    // Round 1 refused with nothing promised (a vote lost with the records): a classic ballot
    // is what the proposer needs, so name the lowest one.
    Encode(std::max(st.promised, Ballot{kFirstClassicCounter, 0}), n->mutable_promised());
  }
  Send(from, std::move(reply), out);
}

}  // namespace meridian
