// Read leases: linearizable reads answered locally (invariant 11 of strong_node.h; the argument
// is in docs/strong.md "Read leases"). Both ends measure a lease on their own monotonic clock:
//   holder:   lease from acceptor A lasts until  sent(Accept to A) + L          (holder's clock)
//   acceptor: refuses other regions' Accepts until arrived(Accept) + L + M      (acceptor's clock)
// arrived >= sent in real time, so the acceptor's refusal outlasts the holder's use of the lease
// unless the two clocks' rates differ by more than M over L.
#include <algorithm>

#include "strong/strong_node.h"

namespace meridian {

void StrongNode::AdvanceClock(uint64_t steady_ms) {
  // A reading below an earlier one (a shell bug) is ignored: the clock never goes back.
  now_ms_ = std::max(now_ms_, steady_ms);
  if (!clock_started_) {
    clock_started_ = true;
    // A restarted acceptor may have granted leases it no longer knows of: it waits them out.
    if (lease_quiet_pending_) {
      lease_quiet_until_ms_ =
          now_ms_ + uint64_t{options_.read_lease_ms} + options_.read_lease_margin_ms;
    }
  }
}

bool StrongNode::WantsLease(const Proposal& p) {
  return std::any_of(p.batch.begin(), p.batch.end(), [](const Batched& b) {
    return !b.answered && b.request.request.kind == HandleOpKind::kRead;
  });
}

bool StrongNode::HoldsReadLease(const std::string& name) const {
  if (options_.mode != HandleMode::kConsensus || options_.read_lease_ms == 0 || !clock_started_ ||
      rejoining_) {
    return false;
  }
  auto it = slots_.find(name);
  if (it == slots_.end() || !it->second.chosen) return false;
  size_t valid = 0;
  for (const auto& [acceptor, until_ms] : it->second.lease_until_ms) {
    if (now_ms_ < until_ms || options_.bugs.read_on_expired_lease) ++valid;
  }
  return valid >= quorum();
}

bool StrongNode::ServeFromLease(const Request& r, StrongOutput* out) {
  if (r.request.kind != HandleOpKind::kRead || !HoldsReadLease(r.request.name)) return false;
  const HandleValue& value = *slots_.at(r.request.name).chosen;
  AppliedRequest a =
      ApplyRequest(r.request, value, OpId{}, r.physical_ms, options_.recent_mutations);
  MERIDIAN_ASSERT(!a.mutated);
  ++stats_.lease_reads;
  ++pending_;  // Reply() counts it out again
  Reply(r, a.outcome, RecordOf(r.request.name, value), "", out);
  return true;
}

uint64_t StrongNode::LeaseWaitMs(RegionId from, const std::string& name) const {
  if (options_.read_lease_ms == 0 || !clock_started_) return 0;
  uint64_t wait = lease_quiet_until_ms_ > now_ms_ ? lease_quiet_until_ms_ - now_ms_ : 0;
  auto it = grants_.find(name);
  if (it != grants_.end() && it->second.holder != from && it->second.until_ms > now_ms_) {
    wait = std::max(wait, it->second.until_ms - now_ms_);
  }
  return wait;
}

void StrongNode::NoteLeaseRefusal(const std::string& name) {
  ++stats_.lease_refusals;
  auto it = grants_.find(name);
  if (it != grants_.end() && it->second.until_ms > now_ms_) it->second.contended = true;
}

bool StrongNode::GrantLease(RegionId from, const std::string& name, bool wanted) {
  if (!wanted || options_.read_lease_ms == 0 || !clock_started_) return false;
  const uint64_t until = now_ms_ + uint64_t{options_.read_lease_ms} + options_.read_lease_margin_ms;
  auto it = grants_.find(name);
  if (it != grants_.end()) {
    Grant& g = it->second;
    // A writer waited for this lease: no renewal, and no new lease until the writer had its
    // chance (one lease length after the contended lease ended).
    if (g.contended && now_ms_ < g.until_ms + options_.read_lease_ms) return false;
    if (g.until_ms > now_ms_) {
      MERIDIAN_ASSERT(g.holder == from);  // LeaseWaitMs refused everyone else
      g.until_ms = std::max(g.until_ms, until);
      return true;
    }
  }
  grants_[name] = Grant{from, until, false};
  return true;
}

// A round of ours was chosen: its value is the handle's latest, and the leases its voters granted
// last L from when we sent them the Accept.
void StrongNode::NoteChosen(const std::string& name, const Proposal& p) {
  Slot& slot = slots_.at(name);
  slot.chosen = p.proposed;
  const uint64_t until = p.accept_sent_ms + options_.read_lease_ms;
  for (RegionId a : p.lease_votes) {
    uint64_t& current = slot.lease_until_ms[a];
    current = std::max(current, until);
  }
}

}  // namespace meridian
