// Losing a disk: how a region that may have lost acceptor records rebuilds them from every other
// region before it votes again, and how every region answers (invariant 8 of strong_node.h).
#include <algorithm>

#include "strong/handle_name.h"
#include "strong/strong_node.h"

namespace meridian {
namespace {

// The marker's value is never read; its presence is the fact.
constexpr std::string_view kSyncedMarkerValue = "1";

}  // namespace

// Merges another region's state of one name into ours: the higher accepted (ballot, value) and
// the higher promise. Both are states some acceptor really held, so ours stays one an acceptor
// could reach by receiving delayed messages. Equal accepted ballots carry one value (invariant
// 2), so a tie changes nothing. Returns whether `ours` changed.
// A round-1 vote of theirs is not adopted here: it was their vote, not necessarily ours
// (invariant 9; AdoptRound1Votes decides once every region has answered).
bool StrongNode::Adopt(const AcceptorState& theirs, AcceptorState& ours) {
  bool changed = false;
  if (theirs.accepted.counter >= kRound1ChosenCounter && theirs.accepted > ours.accepted) {
    ours.accepted = theirs.accepted;
    ours.value = theirs.value;
    changed = true;
  }
  const Ballot promised = std::max({ours.promised, theirs.promised, ours.accepted});
  if (promised != ours.promised) {
    ours.promised = promised;
    changed = true;
  }
  return changed;
}

// Owner mode keeps one copy of each handle, at its owner: there is nothing to sync from. The
// seeded bug votes at once, as every region did before rejoining existed.
bool StrongNode::RejoinApplies(const StrongOptions& options) {
  return options.mode == HandleMode::kConsensus && !options.bugs.vote_while_rejoining;
}

std::vector<RegionId> StrongNode::awaited_regions() const {
  std::vector<RegionId> awaited;
  for (const auto& [region, peer] : sync_peers_) {
    if (!peer.done) awaited.push_back(region);
  }
  return awaited;
}

std::string StrongNode::RejoiningMessage() const {
  const std::vector<RegionId> awaited = awaited_regions();
  std::string regions;
  for (RegionId r : awaited)
    regions += (regions.empty() ? "" : ", ") + std::to_string(r);
  return "handles at region " + std::to_string(options_.self) +
         " are rejoining after a loss of records: waiting for acceptor state from region" +
         (awaited.size() == 1 ? " " : "s ") + regions;
}

// The first step of this incarnation, whichever entry point it is. A rejoining region deletes
// the marker before anything else of the step can reach disk (the batch is atomic), so a crash
// at any later point of the sync restarts it; then it asks every other region. A region that
// trusts records without a marker (a new node whose options say so) writes the marker, so that
// its restarts trust them too.
void StrongNode::BeginStep(StrongOutput* out) {
  if (began_) return;
  began_ = true;
  if (!rejoining_) {
    if (!marker_durable_ && options_.mode == HandleMode::kConsensus) {
      out->records.Put(std::string(kSyncedMarkerKey), std::string(kSyncedMarkerValue));
      marker_durable_ = true;
    }
    return;
  }
  MERIDIAN_ASSERT(busy_.empty() && pending_ == 0);  // no request was accepted yet
  out->records.Delete(std::string(kSyncedMarkerKey));
  marker_durable_ = false;
  sync_id_ = random_.Next();
  for (RegionId r = 0; r < options_.region_count; ++r) {
    if (r == options_.self) continue;
    sync_peers_[r] = PeerSync{};
    SendSyncRequest(r, out);
  }
  if (sync_peers_.empty()) {  // a single region: nobody holds anything it could have lost
    rejoining_ = false;
    out->records.Put(std::string(kSyncedMarkerKey), std::string(kSyncedMarkerValue));
    marker_durable_ = true;
  }
}

void StrongNode::SendSyncRequest(RegionId to, StrongOutput* out) {
  PeerSync& peer = sync_peers_.at(to);
  peer.asked_tick = tick_;
  pb::StrongMessage m;
  m.mutable_sync_request()->set_sync_id(sync_id_);
  m.mutable_sync_request()->set_after(peer.after);
  Send(to, std::move(m), out);
}

// Every region answers, rejoining or not (two regions rejoining at once would otherwise wait for
// each other forever). The page comes from acceptors_, which equals the durable records: every
// change to it is in the records of the step that made it, this message leaves after this step's
// records (and so every earlier step's) are durable, and this handler changes nothing. So the
// promises reported are ones this region honours across any crash.
void StrongNode::HandleSyncRequest(RegionId from, const pb::SyncRequest& m, StrongOutput* out) {
  // Nothing of ours is waiting to be voted on undrained: acceptors_ is this step's final word.
  MERIDIAN_ASSERT(self_inbox_.empty());
  if (!m.after().empty() && !IsCanonicalHandleName(m.after())) {
    ++stats_.malformed_messages;
    return;
  }
  pb::StrongMessage reply;
  pb::SyncReply* page = reply.mutable_sync_reply();
  page->set_sync_id(m.sync_id());
  page->set_after(m.after());
  size_t bytes = 0;
  auto it = acceptors_.upper_bound(m.after());
  for (; it != acceptors_.end(); ++it) {
    // Never promised anything: a name a local proposer merely looked up holds nothing to report.
    if (it->second.promised.IsZero()) continue;
    if (static_cast<size_t>(page->entries_size()) >= options_.sync_page_names_max) break;
    pb::SyncEntry entry;
    entry.set_name(it->first);
    EncodeRecord(it->second, entry.mutable_record());
    const size_t entry_bytes = entry.ByteSizeLong();
    // At least one entry per page, so every page moves the cursor.
    if (page->entries_size() > 0 && bytes + entry_bytes > options_.sync_page_bytes_max) break;
    bytes += entry_bytes;
    *page->add_entries() = std::move(entry);
  }
  page->set_last(it == acceptors_.end());
  Send(from, std::move(reply), out);
}

// A page is checked whole before any of it is used, so a malformed one changes nothing.
Status StrongNode::ValidateSyncReply(const pb::SyncReply& m) const {
  if (!m.after().empty() && !IsCanonicalHandleName(m.after())) {
    return InvalidArgument("sync reply after a bad name");
  }
  if (!m.last() && m.entries_size() == 0) {
    return InvalidArgument("sync reply neither last nor moving the cursor");
  }
  const std::string* previous = &m.after();
  for (const pb::SyncEntry& e : m.entries()) {
    if (!IsCanonicalHandleName(e.name()) || e.name() <= *previous) {
      return InvalidArgument("sync reply names not canonical and ascending after the cursor");
    }
    previous = &e.name();
    auto state = DecodeRecord(e.record());
    if (!state.ok()) return state.status();
    if (state->promised.region >= options_.region_count ||
        state->accepted.region >= options_.region_count) {
      return InvalidArgument("sync reply ballot of an unknown region");
    }
  }
  return Status::Ok();
}

void StrongNode::HandleSyncReply(RegionId from, const pb::SyncReply& m, StrongOutput* out) {
  if (!ValidateSyncReply(m).ok()) {
    ++stats_.malformed_messages;
    return;
  }
  // A late answer to a finished sync or to an earlier incarnation's: its snapshot may predate
  // the loss of records, so it must not count.
  if (!rejoining_ || m.sync_id() != sync_id_) return;
  PeerSync& peer = sync_peers_.at(from);
  // The answer to a page already adopted (the request was resent, or the network duplicated it).
  if (peer.done || m.after() != peer.after) return;
  for (const pb::SyncEntry& e : m.entries()) {
    const AcceptorState theirs = DecodeRecord(e.record()).value();
    AcceptorState& ours = Acceptor(e.name());
    if (Adopt(theirs, ours)) Persist(e.name(), ours, out);
    if (theirs.accepted.counter == kRound1Counter) {
      round1_reports_[e.name()].emplace(theirs.accepted, theirs.value);
    }
  }
  ++stats_.sync_pages;
  if (m.last()) {
    peer.done = true;
  } else {
    peer.after = m.entries(m.entries_size() - 1).name();
    SendSyncRequest(from, out);
  }
  const bool complete = std::all_of(sync_peers_.begin(), sync_peers_.end(),
                                    [](const auto& entry) { return entry.second.done; });
  if (!complete) return;
  // Every adoption is in this step's records or an earlier step's, so the marker (in this step's
  // records) is durable no earlier than they are; the first vote comes in a later step.
  AdoptRound1Votes(out);
  for (const auto& [name, st] : acceptors_)
    MERIDIAN_ASSERT(!(st.promised < st.accepted));
  out->records.Put(std::string(kSyncedMarkerKey), std::string(kSyncedMarkerValue));
  marker_durable_ = true;
  rejoining_ = false;
  sync_peers_.clear();
}

// Invariant 9 after a loss of records. Where our records still hold a classic ballot or our own
// round-1 vote (a restored backup: a round-1 vote never changes), they tell the truth. Otherwise
// our lost vote, if any, was for a value another region reported (any value a client may have
// been told was chosen is held by another voter), or for one only we held (never chosen). With
// exactly one such value reported, taking it for our vote is safe: a vote for a value that was
// not chosen and is the only one in round 1 cannot make two values chosen. Values that changed
// nothing (version 0) are the initial value, which every other value extends, so they do not
// count. With two or more values that changed something, we may have made either one chosen:
// our vote is unknown, and we never vote in round 1 again.
void StrongNode::AdoptRound1Votes(StrongOutput* out) {
  // Our own round-1 value in our records (a restored backup): we may have recorded it chosen,
  // at (2, self), after the backup was taken, and lost that record.
  for (auto& [name, st] : acceptors_) {
    if (st.accepted == Ballot{kRound1Counter, options_.self} && !st.round1_unknown) {
      st.round1_unknown = true;
      Persist(name, st, out);
    }
  }
  for (const auto& [name, reported] : round1_reports_) {
    AcceptorState& st = Acceptor(name);
    if (!st.accepted.IsZero() || st.round1_unknown) continue;
    // Values that changed nothing are the initial value, which any other value extends.
    std::optional<std::pair<Ballot, HandleValue>> adopt;
    size_t changed = 0;
    for (const auto& [ballot, value] : reported) {
      if (value.version == 0 && changed > 0) continue;
      if (value.version != 0) ++changed;
      if (!adopt || value.version != 0) adopt = {ballot, value};
    }
    // A value of our own proposer: we may have recorded it chosen (invariant 9) and lost that.
    if (changed <= 1 && adopt->first.region != options_.self) {
      st.accepted = adopt->first;
      st.value = adopt->second;
    } else {
      st.round1_unknown = true;
    }
    st.promised = std::max({st.promised, st.accepted, Ballot{kFirstClassicCounter, 0}});
    Persist(name, st, out);
  }
  round1_reports_.clear();
}

void StrongNode::OnPeerConnected(RegionId peer, StrongOutput* out) {
  MERIDIAN_ASSERT(peer < options_.region_count && peer != options_.self);
  const bool first_step = !began_;
  BeginStep(out);
  // The first step has just asked every region: asking again would only duplicate it.
  if (first_step || !rejoining_ || sync_peers_.at(peer).done) return;
  ++stats_.sync_resends;
  SendSyncRequest(peer, out);
}

void StrongNode::TickSync(StrongOutput* out) {
  if (!rejoining_) return;
  for (auto& [region, peer] : sync_peers_) {
    if (peer.done || tick_ - peer.asked_tick < options_.sync_resend_ticks) continue;
    ++stats_.sync_resends;
    SendSyncRequest(region, out);
  }
}

}  // namespace meridian
