// RegionNode: client commands. Writes become replica steps; reads answer from the state (after a
// session wait, or across a majority of regions); handle commands go to the strong node.
#include <algorithm>
#include <string>
#include <utility>

#include "clock/clock_codec.h"
#include "node/region_node.h"
#include "replica/peer_input.h"
#include "strong/handle_name.h"

namespace meridian {

void RegionNode::HandleWrite(RequestId id, WriteCommand command, NodeTime now, NodeOutput* out) {
  const Result<size_t> group = GroupHere(command.write.target);
  if (!group.ok()) {
    out->replies.push_back({id, group.status()});
    return;
  }
  Replica& replica = *MutableGroupReplica(*group);
  if (Status seen = replica.CheckObservedContext(command.write); !seen.ok()) {
    // A context naming register writes not applied here waits for them, as a session read
    // does: observing a dot this region lacks would break causal delivery (MvRegister).
    if (seen.code() != StatusCode::kUnavailable) {
      out->replies.push_back({id, seen});
      return;
    }
    if (session_waits_.size() >= options_.max_waiting_reads) {
      out->replies.push_back(
          {id, ResourceExhausted("too many requests are waiting here for their session token "
                                 "or context; retry later")});
      return;
    }
    session_waits_.push_back({id, ReadCommand{command.write.target, std::nullopt},
                              now.steady_ms + static_cast<uint64_t>(options_.session_wait_ms),
                              std::move(command)});
    return;
  }
  if (Status sealed = SealSubjectWrite(&command, replica, now, out); !sealed.ok()) {
    out->replies.push_back({id, sealed});
    return;
  }
  const uint32_t regions = GroupSize(*group);
  if (command.level == WriteLevel::kMajority) command.replicas = regions / 2 + 1;
  if (command.level == WriteLevel::kAll) command.replicas = regions;
  const char* scope = *group == 0 ? "the cluster has " : "the key's residency set has ";
  if (command.replicas > regions) {
    out->replies.push_back(
        {id, InvalidArgument("the write asks for " + std::to_string(command.replicas) +
                             " regions; " + scope + std::to_string(regions))});
    return;
  }
  if (command.replicas > 1) {
    // Contract 5: known at once, so say so before changing anything.
    size_t reachable = 1;
    for (RegionId peer : replica.neighbors())
      reachable += links_verified_[GlobalId(*group, peer)] ? 1 : 0;
    if (reachable < command.replicas) {
      out->replies.push_back(
          {id, Unavailable("the write needs " + std::to_string(command.replicas) + " of " +
                           std::to_string(regions) + " regions; only " + std::to_string(reachable) +
                           " reachable from " + options_.region_names[options_.replica.self] +
                           " (directly replicating) right now; nothing was written")});
      return;
    }
  }
  Output step;
  Result<WriteReply> reply = replica.OnClientWrite(command.write, now.physical_ms, &step);
  if (!reply.ok()) {
    if (WaitForStockRights(id, *group, command, reply.status(), now, out)) return;  // contract 9
    if (reply.status().code() == StatusCode::kAborted) ++stock_refused_;
    out->replies.push_back({id, reply.status()});
    return;
  }
  const bool applied = !step.applied.empty();
  Absorb(*group, std::move(step), out);
  const Dot local_dot = reply->dot;
  reply->dot = ToSlot(*group, reply->dot);
  reply->applied = ToSlots(*group, reply->applied);
  if (command.replicas > 1 && local_dot.seq > 0) {
    // Synced here and acknowledged by peers (contract 5), which implies durable here too.
    const bool applied_here = replica.applied().Covers(local_dot);
    replication_waits_.push_back({id, *group, local_dot, std::move(reply).value(), step_,
                                  applied_here, command.replicas,
                                  now.steady_ms + static_cast<uint64_t>(options_.write_wait_ms)});
    ServeReplicatedWrites(out);
  } else {
    // A deduplicated retry waits too: the write it repeats may still be on its way to disk.
    HoldReply({id, std::move(reply).value()}, /*needs_sync=*/false, out);
  }
  if (applied && !session_waits_.empty()) ServeSatisfiedWaits(now, out);
}

void RegionNode::HandleRead(RequestId id, const ReadCommand& command, NodeTime now,
                            NodeOutput* out) {
  const Result<size_t> group = GroupHere(command.key);
  if (!group.ok()) {
    out->replies.push_back({id, group.status()});
    return;
  }
  const bool bug = options_.bugs.session_wait_ignores_token;  // seeded bug (self-check)
  if (command.session && !HasApplied(*group, *command.session) && !bug) {
    if (session_waits_.size() >= options_.max_waiting_reads) {
      out->replies.push_back(
          {id, ResourceExhausted(
                   "too many reads are waiting for their session token here; retry later")});
      return;
    }
    session_waits_.push_back(
        {id, command, now.steady_ms + static_cast<uint64_t>(options_.session_wait_ms)});
    return;
  }
  ServeRead(id, command, now, out);
}

void RegionNode::ServeRead(RequestId id, const ReadCommand& command, NodeTime now,
                           NodeOutput* out) {
  // HandleRead checked the group is here.
  const size_t group =
      options_.bugs.residency_ignored ? 0 : options_.residency.GroupOf(command.key);
  if (command.consistency != Consistency::kLocal) {
    StartQuorumRead(id, group, command.key, command.consistency == Consistency::kAll, now, out);
    return;
  }
  ReadResult result = group_replica(group)->Read(command.key);
  if (Status opened = OpenForReader(command.key, &result.state); !opened.ok()) {
    out->replies.push_back({id, opened});
    return;
  }
  auto pending = undurable_keys_.find(command.key);
  const bool bug = options_.bugs.read_undurable;  // seeded bug (self-check)
  if (pending == undurable_keys_.end() || pending->second <= durable_step() || bug) {
    // The key is on disk, other keys may not be: hand out the vector that is durable, which
    // covers every op this key's state holds, and the client's own past, which stays in its
    // token even when not all of it is durable here yet.
    result.applied = durable_applied_;
  } else {
    result.applied = SlotApplied();
  }
  if (command.session) result.applied.Merge(*command.session);
  if (pending == undurable_keys_.end() || pending->second <= durable_step() || bug) {
    out->replies.push_back({id, std::move(result)});
    return;
  }
  HoldReply({id, std::move(result)}, /*needs_sync=*/false, out);
}

void RegionNode::ServeScan(RequestId id, const ScanCommand& command, NodeTime now,
                           NodeOutput* out) {
  if (command.limit < 1 || command.limit > kScanLimitMax) {
    out->replies.push_back(
        {id, InvalidArgument("a scan's limit must be from 1 to " + std::to_string(kScanLimitMax))});
    return;
  }
  if (command.scope == ScanScope::kGlobal) return StartGlobalScan(id, command, now, out);
  // Every group held here, merged in key order. A group's page that was cut (limit or examined
  // bound) ends the merged page at its cursor, since keys past it were not looked at there.
  ScanResult result;
  std::optional<StateKey> cut;
  bool undurable = false;
  for (auto [group, replica] : replicas()) {
    ScanResult page = ScanGroup(*replica, command, &undurable);
    if (page.next && (!cut || *page.next < *cut)) cut = page.next;
    for (auto& entry : page.entries)
      result.entries.push_back(std::move(entry));
  }
  if (pinned_.size() > 0) {
    std::sort(result.entries.begin(), result.entries.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    if (cut) {
      std::erase_if(result.entries, [&cut](const auto& e) { return e.first > *cut; });
    }
  }
  result.next = cut;
  if (result.entries.size() > command.limit) {
    result.entries.resize(command.limit);
    result.next = result.entries.back().first;
  }
  AnswerScanPage(id, std::move(result), undurable, out);
}

void RegionNode::AnswerScanPage(RequestId id, ScanResult result, bool undurable, NodeOutput* out) {
  // Contract 7: a subject's values are opened; an erased subject's keys are left out.
  for (auto it = result.entries.begin(); it != result.entries.end();) {
    std::optional<KeyState> state = std::move(it->second);
    const Status opened = OpenForReader(it->first, &state);
    if (opened.code() == StatusCode::kGone) {
      it = result.entries.erase(it);
      continue;
    }
    if (!opened.ok()) {
      out->replies.push_back({id, opened});
      return;
    }
    it->second = std::move(*state);
    ++it;
  }
  if (!undurable) {
    result.applied = durable_applied_;
    out->replies.push_back({id, std::move(result)});
    return;
  }
  // As a read of one key: a page that shows a write not yet durable waits until it is.
  result.applied = SlotApplied();
  HoldReply({id, std::move(result)}, /*needs_sync=*/false, out);
}

ScanResult RegionNode::ScanGroup(const Replica& replica, const ScanCommand& command,
                                 bool* undurable, bool absent) const {
  const auto& states = replica.states();
  const DataClass first = command.data_class.value_or(DataClass::kProfile);  // lowest in order
  auto it = command.after ? states.upper_bound(*command.after)
                          : states.lower_bound({first, command.prefix});
  // The next class in the map's order, for a scan of every class.
  auto next_class = [](DataClass c) { return DataClassFromNumber(static_cast<uint32_t>(c) + 1); };
  ScanResult result;
  size_t examined = 0;
  size_t absent_entries = 0;
  std::optional<StateKey> last;
  while (it != states.end()) {
    const StateKey& key = it->first;
    const KeyState& state = it->second.state;
    if (command.data_class && key.data_class != *command.data_class) break;
    if (!key.key.starts_with(command.prefix)) {
      if (key.key < command.prefix) {
        it = states.lower_bound({key.data_class, command.prefix});
        continue;
      }
      const auto next = command.data_class ? std::nullopt : next_class(key.data_class);
      if (!next) break;
      it = states.lower_bound({*next, command.prefix});
      continue;
    }
    if (result.entries.size() - absent_entries == command.limit || examined == kScanExaminedMax) {
      result.next = last;  // more may follow: the client asks again from here
      break;
    }
    ++examined;
    last = key;
    const bool present = KeyPresent(state);
    if (present || absent) {
      // Only present keys count towards the limit: a page holds `limit` of them.
      if (!present) ++absent_entries;
      result.entries.emplace_back(key, state);
      auto pending = undurable_keys_.find(key);
      *undurable =
          *undurable || (pending != undurable_keys_.end() && pending->second > durable_step() &&
                         !options_.bugs.read_undurable);
    }
    ++it;
  }
  return result;
}

void RegionNode::ServeSatisfiedWaits(NodeTime now, NodeOutput* out) {
  if (session_waits_.empty()) return;
  std::vector<SessionWait> ready;
  std::erase_if(session_waits_, [&](SessionWait& wait) {
    const size_t group =
        options_.bugs.residency_ignored ? 0 : options_.residency.GroupOf(wait.command.key);
    const bool satisfied = wait.write
                               ? group_replica(group)->CheckObservedContext(wait.write->write).ok()
                               : HasApplied(group, *wait.command.session);
    if (!satisfied) return false;
    ready.push_back(std::move(wait));
    return true;
  });
  for (SessionWait& wait : ready) {
    if (wait.write) {
      HandleWrite(wait.id, std::move(*wait.write), now, out);
    } else {
      ServeRead(wait.id, wait.command, now, out);
    }
  }
}

uint32_t RegionNode::RegionsHolding(const ReplicationWait& wait,
                                    const std::vector<PeerStatus>& peers) const {
  // A write's dot names it in every region of its group: a peer's acknowledged vector covers it
  // once the peer has synced it.
  uint32_t holding = wait.applied_here && synced_ >= wait.step ? 1 : 0;
  for (const PeerStatus& peer : peers)
    holding += peer.acked.Covers(wait.local_dot) ? 1 : 0;
  return holding;
}

void RegionNode::ServeReplicatedWrites(NodeOutput* out) {
  std::map<size_t, std::vector<PeerStatus>> peers;  // per group, as needed
  std::erase_if(replication_waits_, [&](ReplicationWait& wait) {
    auto it = peers.find(wait.group);
    if (it == peers.end()) it = peers.emplace(wait.group, group_replica(wait.group)->Peers()).first;
    if (!wait.applied_here && group_replica(wait.group)->applied().Covers(wait.local_dot)) {
      wait.applied_here = true;  // in this step or an earlier one since the wait began
      wait.step = step_;
    }
    uint32_t holding = RegionsHolding(wait, it->second);
    if (options_.bugs.write_level_counts_one_more) ++holding;  // seeded bug (self-check)
    if (synced_ < wait.step || holding < wait.needed) return false;
    wait.reply.replicated_to = holding;
    out->replies.push_back({wait.id, std::move(wait.reply)});
    return true;
  });
}

void RegionNode::ExpireWaits(NodeTime now, NodeOutput* out) {
  ExpireStockWaits(now, out);
  const std::string& self = options_.region_names[options_.replica.self];
  std::erase_if(replication_waits_, [&](const ReplicationWait& wait) {
    if (now.steady_ms < wait.deadline_ms) return false;
    const uint32_t holding = RegionsHolding(wait, group_replica(wait.group)->Peers());
    out->replies.push_back(
        {wait.id,
         DeadlineExceeded("the write is applied in " + std::to_string(holding) + " of " +
                          std::to_string(GroupSize(wait.group)) + " regions (" + self +
                          " took it) but needs " + std::to_string(wait.needed) + " within " +
                          std::to_string(options_.write_wait_ms) +
                          " ms; it stays applied and keeps replicating: retry with the same "
                          "idempotency key to wait again")});
    return true;
  });
  std::erase_if(session_waits_, [&](const SessionWait& wait) {
    if (now.steady_ms < wait.deadline_ms) return false;
    if (wait.write) {
      const size_t group =
          options_.bugs.residency_ignored ? 0 : options_.residency.GroupOf(wait.command.key);
      const Status missing = group_replica(group)->CheckObservedContext(wait.write->write);
      out->replies.push_back(
          {wait.id, DeadlineExceeded("context not satisfied within " +
                                     std::to_string(options_.session_wait_ms) + " ms in region " +
                                     self + ": " + missing.message() +
                                     "; nothing was written: retry, or write in the region "
                                     "that served the read")});
      return true;
    }
    out->replies.push_back(
        {wait.id, DeadlineExceeded("session token not satisfied within " +
                                   std::to_string(options_.session_wait_ms) + " ms: region " +
                                   self + " has applied " + SlotApplied().ToString() +
                                   " but the token needs " + wait.command.session->ToString() +
                                   "; retry, or read in the region that took the write")});
    return true;
  });
  for (auto it = global_scans_.begin(); it != global_scans_.end();) {
    if (now.steady_ms < it->second.deadline_ms) {
      ++it;
      continue;
    }
    FinishGlobalScan(it->second, out);  // partial: the regions still awaited are named
    it = global_scans_.erase(it);
  }
  std::erase_if(quorum_reads_, [&](const auto& entry) {
    const QuorumRead& read = entry.second;
    if (now.steady_ms < read.deadline_ms) return false;
    out->replies.push_back(
        {read.id, Unavailable("quorum read: " + std::to_string(read.answered.size()) + " of " +
                              std::to_string(GroupSize(read.group)) + " regions answered within " +
                              std::to_string(options_.quorum_timeout_ms) +
                              " ms; a majority needs " + std::to_string(read.needed))});
    return true;
  });
}

size_t RegionNode::ReachableRegions() const {
  return 1 + static_cast<size_t>(std::count(links_verified_.begin(), links_verified_.end(), true));
}

void RegionNode::StartQuorumRead(RequestId id, size_t group, const StateKey& key, bool all,
                                 NodeTime now, NodeOutput* out) {
  Replica& replica = *MutableGroupReplica(group);
  const size_t regions = GroupSize(group);
  const bool bug = options_.bugs.quorum_read_local;  // seeded bug (self-check)
  // `majority` is how many regions must answer: every one for consistency=all.
  const size_t majority = bug ? 1 : all ? regions : regions / 2 + 1;
  const char* what = all ? "every region" : "a majority";
  if (replica.neighbors().size() + 1 < majority) {
    out->replies.push_back({id, Unavailable(std::string("quorum read: this region replicates "
                                                        "directly with too few regions for ") +
                                            what)});
    return;
  }
  // Known at once: with too few peers connected no majority can answer, so say so now rather
  // than after quorum_timeout_ms (as a handle claim in the same spot does).
  size_t connected = 1;
  for (RegionId peer : replica.neighbors())
    connected += links_verified_[GlobalId(group, peer)] ? 1 : 0;
  if (connected < majority) {
    out->replies.push_back(
        {id, Unavailable("quorum read: only " + std::to_string(connected) + " of " +
                         std::to_string(regions) + " regions reachable from " +
                         options_.region_names[options_.replica.self] + ", " + what + " needs " +
                         std::to_string(majority))});
    return;
  }
  QuorumRead read{id,           group,
                  key,          now.steady_ms + static_cast<uint64_t>(options_.quorum_timeout_ms),
                  majority,     {replica.self()},
                  std::nullopt, {}};
  ReadResult local = replica.Read(key);
  read.merged = std::move(local.state);
  read.joined = ToSlots(group, local.applied);
  if (majority == 1) {
    if (Status opened = OpenForReader(key, &read.merged); !opened.ok()) {
      out->replies.push_back({id, opened});
      return;
    }
    HoldReply({id, ReadResult{std::move(read.merged), read.joined}}, false, out);
    return;
  }
  const uint64_t quorum_id = next_quorum_id_++;
  quorum_reads_.emplace(quorum_id, std::move(read));
  Output step;
  replica.RequestRead(quorum_id, key, now.physical_ms, &step);
  Absorb(group, std::move(step), out);
}

void RegionNode::OnReadReply(size_t group, RegionId from, const pb::ReadReply& reply,
                             NodeOutput* out) {
  auto it = quorum_reads_.find(reply.id());
  if (it == quorum_reads_.end()) return;  // answered or expired already
  QuorumRead& read = it->second;
  if (read.group != group) {  // an answer from another group's replica: not for this read
    ++read_replies_refused_;
    return;
  }
  if (std::find(read.answered.begin(), read.answered.end(), from) != read.answered.end()) return;
  // Rules 2 and 6 of src/replica/peer_input.h: the joined vector becomes the client's session
  // token, so a region outside the group in it would follow the client everywhere.
  auto applied = Decode(reply.applied());
  if (!applied.ok() || !CheckVectorRegions(*applied, GroupSize(group)).ok()) {
    ++read_replies_refused_;
    return;
  }
  if (reply.found()) {
    auto state = DecodeState(reply.state(), read.key.data_class);
    if (!state.ok()) {
      ++read_replies_refused_;
      return;
    }
    if (read.merged) {
      MergeState(*read.merged, *state);
    } else {
      read.merged = std::move(state).value();
    }
  }
  read.joined.Merge(ToSlots(group, *applied));
  read.answered.push_back(from);
  if (read.answered.size() < read.needed) return;
  // Held behind every step so far: the local state read at the start is durable by then.
  if (Status opened = OpenForReader(read.key, &read.merged); !opened.ok()) {
    out->replies.push_back({read.id, opened});
  } else {
    HoldReply({read.id, ReadResult{std::move(read.merged), std::move(read.joined)}}, false, out);
  }
  quorum_reads_.erase(it);
}

Result<size_t> RegionNode::HandleGroupHere(std::string_view name) {
  const bool unpinned = options_.residency.empty() || options_.bugs.residency_ignored;
  if (unpinned && !options_.slices.sliced()) return size_t{0};
  // An invalid name gets the handle node's own refusal (400 naming the problem), in group 0.
  const Result<std::string> canonical = CanonicalHandleName(name);
  if (!canonical.ok()) return size_t{0};
  if (options_.slices.sliced()) {
    Status refused = SliceRefusal(options_.handle_slot_prefix + *canonical, "handle");
    if (!refused.ok()) return refused;
  }
  if (unpinned) return size_t{0};
  const size_t group = options_.residency.GroupOfHandle(*canonical);
  if (group == 0 || group_strong(group) != nullptr) return group;
  return MisdirectedTo(group, "handle", *options_.residency.RuleForHandle(*canonical));
}

size_t RegionNode::ReachableMembers(size_t group) const {
  if (group == 0) return ReachableRegions();
  size_t reachable = 0;
  for (RegionId member : options_.residency.groups()[group].members) {
    reachable += member == options_.replica.self || links_verified_[member] ? 1 : 0;
  }
  return reachable;
}

void RegionNode::HandleHandle(RequestId id, const HandleCommand& command, NodeTime now,
                              NodeOutput* out) {
  const Result<size_t> group = HandleGroupHere(command.request.name);
  if (!group.ok()) {
    out->replies.push_back({id, group.status()});
    return;
  }
  StrongNode& strong = *MutableGroupStrong(*group);
  if (options_.strong.mode == HandleMode::kConsensus &&
      ReachableMembers(*group) < strong.quorum()) {
    // Known to be cut off from a majority: say so now rather than after the request timeout.
    // (A link that just died may still look up; then the timeout answers.)
    out->replies.push_back(
        {id, Unavailable("region " + options_.region_names[options_.replica.self] + " reaches " +
                         std::to_string(ReachableMembers(*group)) + " of " +
                         std::to_string(GroupSize(*group)) + " regions" +
                         (*group == 0 ? std::string()
                                      : " of the handle's set (" +
                                            MaskNames(options_.residency.groups()[*group].mask,
                                                      options_.region_names) +
                                            ")") +
                         "; a handle needs a majority of " + std::to_string(strong.quorum()))});
    return;
  }
  handle_requests_.insert(id);
  strong.AdvanceClock(now.steady_ms);  // read leases (StrongNode invariant 11)
  StrongOutput step;
  Result<std::string> accepted =
      strong.OnClientRequest(id, command.request, now.physical_ms, &step);
  if (!accepted.ok()) {
    handle_requests_.erase(id);
    out->replies.push_back({id, accepted.status()});
  }
  AbsorbStrong(*group, std::move(step), now, out);
}

}  // namespace meridian
