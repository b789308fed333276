// The simulated clients: writes (retried elsewhere when no reply comes, with their idempotency
// key), counter reads (local, session, quorum) and handle requests, each sent to a region's node
// as a command; what they are told arrives when the node releases it.
#include <algorithm>

#include "sim/simulation_impl.h"
#include "strong/handle_name.h"

namespace meridian::sim_internal {
namespace {

bool Succeeded(const NodeReply& reply) {
  if (std::holds_alternative<Status>(reply.result)) return false;
  const auto* handle = std::get_if<HandleReply>(&reply.result);
  return handle == nullptr || handle->outcome != HandleOutcome::kUnavailable;
}

}  // namespace

void Simulation::TakeRegisterContext(LogicalWrite& w, RegionId r) {
  // A pinned key's register lives in its group's replica; contexts are tried on the others.
  if (w.write.target.data_class != DataClass::kRegister || Pinned(w.write.target)) return;
  // Each attempt decides afresh: a context read in another region may name writes this one
  // lacks (the write would wait), and the checker judges each created op by its own context.
  w.write.observed_context.reset();
  w.context_applied.reset();
  const Replica& replica = regions_[r].node->replica();
  const KeyState* state = replica.Find(w.write.target);
  const VersionVector none;
  const VersionVector& context = state ? std::get<MvRegister>(*state).context() : none;
  auto [read, fresh] = register_reads_.try_emplace({r, w.write.target.key});
  // A read from before a crash may show writes the crash took, whose dots the region then hands
  // to other writes: the client reads afresh instead (real clients share that concession with
  // session tokens; the reference here could not tell those writes apart).
  if (!fresh && read->second.process == regions_[r].process && context_random_.Chance(0.5)) {
    w.write.observed_context = read->second.context;
    w.context_applied = read->second.applied;
    w.context_region = r;
    w.context_process = read->second.process;
  }
  read->second = {context, replica.applied(), regions_[r].process};
}

void Simulation::Handle(const ClientEvent& e) {
  PlannedWrite& planned = history_[e.write_id];
  LogicalWrite& w = planned.write;
  const RegionId r = static_cast<RegionId>((planned.home + w.attempts) % o_.regions);
  ++w.attempts;
  if (w.attempts > 1) ++result_.retries;
  Region& region = regions_[r];
  if (!region.node) {
    // Connection refused: nothing was applied.
    if (w.attempts < kClientMaxAttempts) Schedule(now_ + kClientRetryMs, e);
    return;
  }
  if (w.attempts == 1) TakeRegisterContext(w, r);
  if (w.write.observed_context && regions_[w.context_region].process != w.context_process) {
    // Its region crashed since the read (the concession of docs/server.md): no context now.
    w.write.observed_context.reset();
    w.context_applied.reset();
  }
  if (w.write.observed_context && !region.node->replica().CheckObservedContext(w.write).ok()) {
    // The client sends a write with a context only to a region that has applied what the context
    // names, so that the op is made now, in this command's output, where it is recorded. (The
    // node's wait for a context ahead of it: RegisterContextNodeTest, RegisterContextTest.)
    if (w.attempts < kClientMaxAttempts) Schedule(now_ + kClientRetryMs, e);
    return;
  }
  const RequestId id = next_request_++;
  requests_[id] = {Request::Kind::kWrite, w.id, r, now_};
  NodeOutput out;
  const uint64_t snapshots = region.node->replica().stats().snapshots_applied;
  issuing_ = id;
  region.node->OnCommand(id, WriteCommand{w.write, 1, planned.level}, Now(r), &out);
  bool applied = false;
  for (const AppliedOp& op : out.applied) {
    if (applied || op.dot.origin != r || !(op.target == w.write.target)) continue;
    w.created.push_back(
        {w.id, next_serial_++, op.dot, op.deps, op.stamp, region.disks, false, w.context_applied});
    applied = true;
    Trace("write " + std::to_string(w.id) + " " +
          std::string(DataClassName(w.write.target.data_class)) + "/" + w.write.target.key +
          " at " + std::to_string(r) + " -> " + op.dot.ToString());
  }
  if (applied && Pinned(w.write.target)) {
    // A pinned key's ops live in its own group's replica, never in every region's.
    checker_.Violation("residency: a write of pinned key " + w.write.target.key +
                       " was applied in the group of every region at region " + std::to_string(r) +
                       (Allowed(w.write.target, r) ? "" : ", outside the key's set"));
  }
  if (const auto* stock = std::get_if<StockWrite>(&w.write.body);
      !applied && stock && stock->kind == StockOpKind::kTake) {
    stock_takes_waiting_[id] = requests_[id];  // answered in this Process unless it waits
  }
  Process(r, out, snapshots);
  issuing_ = 0;
  if (requests_.count(id) != 0) Schedule(now_ + kClientRetryMs, ClientTimeoutEvent{id});
  if (applied && region.armed_write_crashes > 0) {
    // The aimed crash: a read of the key at this very instant, then the crash, before the pass
    // is written or while its fsync runs.
    --region.armed_write_crashes;
    SimRead read;
    read.key = w.write.target;
    read.region = r;
    read.at_ms = now_;
    reads_.push_back(std::move(read));
    Schedule(now_, ReadEvent{reads_.size() - 1});
    const uint64_t at = now_ + shell_random_.Uniform(kWriteDelayMaxMs + o_.sync_ms_max + 1);
    const auto down_ms = static_cast<uint32_t>(shell_random_.Range(100, 800));
    Schedule(at, CrashEvent{r, down_ms, shell_random_.Chance(0.5), std::nullopt});
  }
}

void Simulation::Handle(const ClientTimeoutEvent& e) {
  auto it = requests_.find(e.id);
  if (it == requests_.end()) return;  // answered
  const Request request = it->second;
  requests_.erase(it);  // a reply after this finds no one waiting
  if (request.kind == Request::Kind::kErase) return RetryErasure(request.index);
  LogicalWrite& w = history_[request.index].write;
  Trace("write " + std::to_string(w.id) + ": no reply from " + std::to_string(request.region));
  // It may or may not have been applied: only a write with a key may be retried safely.
  if (!w.write.idempotency_key.empty() && w.attempts < kClientMaxAttempts) {
    Schedule(now_, ClientEvent{w.id});
  }
}

void Simulation::OnReply(RegionId r, NodeReply reply) {
  if (regions_[r].storage_failed && Succeeded(reply)) {
    // Contract 3 of region_node.h: after a failed Write or fsync, refusals only.
    checker_.Violation("region " + std::to_string(r) +
                       " answered a request successfully after its storage failed");
  }
  stock_takes_waiting_.erase(reply.id);
  auto it = requests_.find(reply.id);
  if (it == requests_.end()) return;  // the client stopped waiting
  const Request request = it->second;
  requests_.erase(it);
  MERIDIAN_ASSERT(request.region == r);
  switch (request.kind) {
    case Request::Kind::kWrite:
      return OnWriteReply(request, reply);
    case Request::Kind::kRead:
      return OnReadReply(request, reply);
    case Request::Kind::kErase:
      return OnEraseReply(request, reply);
    case Request::Kind::kHandle:
      if (const auto* answer = std::get_if<HandleReply>(&reply.result)) {
        return OnHandleAnswer(request.index, answer->outcome, answer->record.owner,
                              answer->message);
      }
      const Status& status = std::get<Status>(reply.result);
      const bool allowed = HandleAllowed(handle_ops_[request.index].request.name, r);
      if (status.code() == StatusCode::kMisdirected && !allowed) {
        // Outside the handle's set, refused before anything changed: try the next region.
        ++result_.misdirected;
        if (reply.id != issuing_) {
          checker_.Violation("residency: a handle request at region " + std::to_string(r) +
                             " was answered Misdirected only after a wait");
        }
      } else if (status.code() != StatusCode::kUnavailable) {
        handle_violations_.push_back("a valid handle request was refused: " + status.ToString());
      }
      return OnHandleAnswer(request.index, HandleOutcome::kUnavailable, "", status.message());
  }
}

bool Simulation::CheckMisdirected(const StateKey& key, RegionId r, const NodeReply& reply,
                                  bool immediate, const std::string& what) {
  const auto* status = std::get_if<Status>(&reply.result);
  const bool misdirected = status != nullptr && status->code() == StatusCode::kMisdirected;
  const std::string which = what + " of " + std::string(DataClassName(key.data_class)) + " " +
                            key.key + " at region " + std::to_string(r);
  if (Allowed(key, r)) {
    if (misdirected) {
      checker_.Violation("residency: " + which +
                         ", in the key's set, was answered Misdirected: " + status->ToString());
    }
    return !misdirected;
  }
  if (misdirected) {
    ++result_.misdirected;
    if (!immediate) {
      checker_.Violation("residency: " + which + " was answered Misdirected only after a wait");
    }
    return false;
  }
  // Refused for another reason (a rejoining or failed region): allowed, nothing was served.
  if (status == nullptr) {
    checker_.Violation("residency: " + which + ", outside the key's set, was served");
  }
  return false;
}

void Simulation::AttributeServedStockTakes(RegionId r, const std::vector<AppliedOp>& applied) {
  const uint32_t disk = regions_[r].disks;
  for (const AppliedOp& op : applied) {
    if (op.dot.origin != r || op.target.data_class != DataClass::kStock || op.compensates ||
        op.counter_delta == 0) {
      continue;  // not a client's add or take made here (a lend, a compensation, a peer's)
    }
    const auto made_by = [&](const LogicalWrite& w) {
      return std::any_of(w.created.begin(), w.created.end(), [&](const CreatedOp& c) {
        return c.dot == op.dot && c.disk == disk && !checker_.lost(c);
      });
    };
    bool known = false;
    for (const PlannedWrite& p : history_) {
      known = known || (p.write.write.target == op.target && made_by(p.write));
    }
    if (known) continue;  // attributed when its command ran
    for (auto it = stock_takes_waiting_.begin(); it != stock_takes_waiting_.end(); ++it) {
      if (it->second.region != r) continue;
      LogicalWrite& w = history_[it->second.index].write;
      const auto* take = std::get_if<StockWrite>(&w.write.body);
      if (!(w.write.target == op.target) || take == nullptr || take->kind != StockOpKind::kTake ||
          -static_cast<int64_t>(take->amount) != op.counter_delta) {
        continue;
      }
      stock_takes_waiting_.erase(it);
      w.created.push_back(
          {w.id, next_serial_++, op.dot, op.deps, op.stamp, disk, false, std::nullopt});
      Trace("write " + std::to_string(w.id) + " stock/" + op.target.key + " served at " +
            std::to_string(r) + " after waiting for rights -> " + op.dot.ToString());
      break;
    }
  }
}

void Simulation::OnWriteReply(const Request& request, NodeReply& reply) {
  LogicalWrite& w = history_[request.index].write;
  const bool pinned = Pinned(w.write.target);
  auto retry = [&]() {
    if (w.attempts < kClientMaxAttempts) Schedule(now_ + kClientRetryMs, ClientEvent{w.id});
  };
  if (pinned &&
      !CheckMisdirected(w.write.target, request.region, reply, reply.id == issuing_, "a write")) {
    // Outside the set: nothing applied (the client, like the router, tries the next region).
    if (const auto* status = std::get_if<Status>(&reply.result)) {
      if (status->code() == StatusCode::kMisdirected) ++w.misdirected;
      Trace("write " + std::to_string(w.id) + " at " + std::to_string(request.region) + ": " +
            status->ToString());
      if (w.attempts < kClientMaxAttempts) Schedule(now_ + 1, ClientEvent{w.id});
    }
    return;
  }
  if (JudgeGone(request.region, w.write.target, reply, "a write")) {
    Trace("write " + std::to_string(w.id) + " at " + std::to_string(request.region) + ": Gone");
    return;  // refused at once, for good: the subject was erased
  }
  if (const auto* status = std::get_if<Status>(&reply.result)) {
    Trace("write " + std::to_string(w.id) + " at " + std::to_string(request.region) + ": " +
          status->ToString());
    // A w=majority or w=all write that too few regions acknowledged in time stays applied and
    // keeps replicating (RegionNode contract 5): like a late refusal, its outcome is open.
    const bool late = history_[request.index].level != WriteLevel::kCount &&
                      status->code() == StatusCode::kDeadlineExceeded && reply.id != issuing_;
    // A text edit at a position past the text where it arrived (the client cannot see the
    // text): refused, nothing applied, and not retried. The workload makes no other bad edit.
    if (status->code() == StatusCode::kInvalidArgument &&
        w.write.target.data_class == DataClass::kText) {
      ++result_.text_edits_refused;
      return;
    }
    // A stock take that neither the rights here nor those lent in time covered (contract 9):
    // refused, nothing taken, and not retried (the stock is sold out as far as it knows).
    if (status->code() == StatusCode::kAborted && w.write.target.data_class == DataClass::kStock) {
      ++result_.stock_takes_refused;
      return;
    }
    if (status->code() != StatusCode::kUnavailable && !late) {
      checker_.Violation("a valid write was refused: " + status->ToString());
    }
    // Refused at once (a rejoining or failed region): nothing was applied. Answered later (its
    // disk failed on the way): it may or may not take effect, and only a key makes a retry safe.
    if (reply.id == issuing_ || !w.write.idempotency_key.empty()) retry();
    return;
  }
  const WriteReply& written = std::get<WriteReply>(reply.result);
  Random& fates = pinned ? pinned_random_ : random_;
  if (!w.write.idempotency_key.empty() && fates.Chance(o_.reply_loss)) {
    ++result_.faults;
    return retry();  // the reply was lost; only a write with a key may be retried safely
  }
  w.acknowledged = true;
  std::optional<uint64_t> serial;  // the op the reply names
  for (CreatedOp& op : w.created) {
    if (op.dot == written.dot && !checker_.lost(op)) {
      op.acknowledged = true;
      serial = op.serial;
    }
  }
  Trace("write " + std::to_string(w.id) + " acknowledged by " + std::to_string(request.region) +
        " as " + written.dot.ToString() + (written.deduplicated ? " (deduplicated)" : ""));
  if (!pinned) CheckWriteLevel(history_[request.index], written);
  Random& fates_reads = pinned ? pinned_random_ : reads_random_;
  if (w.write.target.data_class == DataClass::kCounter && o_.regions > 1 &&
      std::holds_alternative<int64_t>(w.write.body) && fates_reads.Chance(o_.session_reads)) {
    ScheduleSessionRead(w, written, request.region, serial, fates_reads);
  }
}

void Simulation::CheckWriteLevel(const PlannedWrite& planned, const WriteReply& written) {
  if (planned.level == WriteLevel::kCount || written.dot.seq == 0) return;
  const uint32_t needed =
      planned.level == WriteLevel::kMajority ? o_.regions / 2 + 1 : uint32_t{o_.regions};
  // The regions that applied the op at some point (a region that has since crashed or lost its
  // disk had it when it acknowledged), or hold it now (a state transfer applies no op).
  std::set<RegionId> holding;
  if (auto it = holders_.find(written.dot); it != holders_.end()) holding = it->second;
  for (RegionId r = 0; r < o_.regions; ++r) {
    const Region& region = regions_[r];
    const VersionVector& applied =
        region.node ? region.node->replica().applied() : region.applied_at_crash;
    if (applied.Get(written.dot.origin) >= written.dot.seq) holding.insert(r);
  }
  if (holding.size() < needed || written.replicated_to < needed) {
    checker_.Violation("write " + std::to_string(planned.write.id) + " asked for " +
                       (planned.level == WriteLevel::kMajority ? "w=majority" : "w=all") +
                       " and was acknowledged as " + written.dot.ToString() + " held by " +
                       std::to_string(written.replicated_to) + " regions, while " +
                       std::to_string(holding.size()) + " had applied it; it needs " +
                       std::to_string(needed));
  }
  ++result_.leveled_writes_acknowledged;
}

void Simulation::PlanReads() {
  auto plan = [&](Consistency consistency) {
    SimRead read;
    read.key = {DataClass::kCounter,
                "k" + std::to_string(reads_random_.Uniform(o_.keys_per_class))};
    read.region = static_cast<RegionId>(reads_random_.Uniform(o_.regions));
    read.at_ms = reads_random_.Uniform(o_.workload_ms);
    read.consistency = consistency;
    reads_.push_back(std::move(read));
    Schedule(reads_.back().at_ms, ReadEvent{reads_.size() - 1});
  };
  for (uint32_t i = 0; i < o_.local_reads; ++i)
    plan(Consistency::kLocal);
  for (uint32_t i = 0; i < o_.quorum_reads; ++i)
    plan(Consistency::kQuorum);
}

void Simulation::ScheduleSessionRead(const LogicalWrite& w, const WriteReply& reply,
                                     RegionId wrote_at, std::optional<uint64_t> serial,
                                     Random& random) {
  // The client reads its write back in another region, soon: often before it has arrived (and,
  // for a pinned key, sometimes outside its set: Misdirected).
  SimRead read;
  read.key = w.write.target;
  read.region = static_cast<RegionId>((wrote_at + 1 + random.Uniform(o_.regions - 1)) % o_.regions);
  read.at_ms = now_ + random.Uniform(60);
  read.session = reply.applied;
  read.write_id = w.id;
  read.write_dot = reply.dot;
  read.write_serial = serial;
  // A pinned write's dot is in slot space (residency.h), past the region ids: no serial names it.
  read.write_disk = reply.dot.origin < o_.regions ? regions_[reply.dot.origin].disks : 0;
  reads_.push_back(std::move(read));
  Schedule(reads_.back().at_ms, ReadEvent{reads_.size() - 1});
}

void Simulation::Handle(const ReadEvent& e) {
  SimRead& read = reads_[e.read_id];
  if (!regions_[read.region].node) return;  // connection refused
  read.at_ms = now_;
  ++result_.reads;
  if (read.consistency == Consistency::kQuorum) {
    // Per origin, the highest op that a majority of regions had synced.
    const size_t majority = o_.regions / 2 + 1;
    for (RegionId origin = 0; origin < o_.regions; ++origin) {
      std::vector<uint64_t> synced;
      for (const Region& region : regions_)
        synced.push_back(region.synced.Get(origin));
      std::sort(synced.rbegin(), synced.rend());
      read.majority_synced.Set(origin, synced[majority - 1]);
    }
  }
  const RegionId r = read.region;
  const RequestId id = next_request_++;
  requests_[id] = {Request::Kind::kRead, e.read_id, r, now_};
  issuing_ = id;
  Drive(r, [&](RegionNode& node, NodeOutput* out) {
    node.OnCommand(id, ReadCommand{read.key, read.session, read.consistency}, Now(r), out);
  });
  issuing_ = 0;
}

void Simulation::OnReadReply(const Request& request, NodeReply& reply) {
  SimRead& read = reads_[request.index];
  read.answered_ms = now_;
  const char* kind = read.session                               ? "session"
                     : read.consistency == Consistency::kQuorum ? "quorum"
                                                                : "local";
  const std::string what = std::string("a ") + kind + " read of " +
                           std::string(DataClassName(read.key.data_class)) + " " + read.key.key +
                           " at region " + std::to_string(request.region);
  // Answered within its timeout, plus what holding it for durability may add.
  const uint64_t bound_ms = kDurabilitySlackMs + 2 * uint64_t{o_.tick_ms} +
                            (read.session ? kSessionWaitMs : 0) +
                            (read.consistency == Consistency::kQuorum ? kQuorumTimeoutMs : 0);
  if (now_ - read.at_ms > bound_ms) {
    checker_.Violation(what + " was answered after " + std::to_string(now_ - read.at_ms) +
                       " ms, more than its bound of " + std::to_string(bound_ms) + " ms");
  }
  if (Pinned(read.key)) {
    // Served in the key's set only; its content is judged by the group's convergence (R3), and a
    // session read's token must still cover the write's.
    if (!CheckMisdirected(read.key, request.region, reply, reply.id == issuing_,
                          std::string("a ") + kind + " read"))
      return;
    const auto* result = std::get_if<ReadResult>(&reply.result);
    if (result == nullptr) return;  // timed out or refused: allowed
    ++result_.reads_answered;
    if (read.session && !result->applied.Dominates(*read.session)) {
      checker_.Violation(what + ": its token " + result->applied.ToString() +
                         " does not cover the session's " + read.session->ToString());
    }
    return;
  }
  if (JudgeGone(request.region, read.key, reply, std::string("a ") + kind + " read")) return;
  const auto* result = std::get_if<ReadResult>(&reply.result);
  if (result == nullptr) return;  // timed out or refused: allowed
  ++result_.reads_answered;
  // The reads aimed at a crash read whatever the write wrote; only counters are judged.
  if (read.key.data_class != DataClass::kCounter) return;
  if (result->state && !std::holds_alternative<PnCounter>(*result->state)) {
    checker_.Violation(what + " answered a state of another class");
    return;
  }
  if (read.session && !result->applied.Dominates(*read.session)) {
    checker_.Violation(what + ": its token " + result->applied.ToString() +
                       " does not cover the session's " + read.session->ToString());
  }
  if (read.consistency == Consistency::kLocal && result->state) {
    checker_.OnCounterShown(request.region, read.key.key, std::get<PnCounter>(*result->state));
  }
  if (read.session && read.write_serial && !WriteOpLost(read) &&
      regions_[read.write_dot.origin].disks == read.write_disk) {
    const Dot d = read.write_dot;
    checker_.CheckCounterCovers(
        what + " with the token of write " + std::to_string(read.write_id) + " (" + d.ToString() +
            ")",
        read.key.key, result->state,
        [d](const CreatedOp& op) { return op.dot.origin == d.origin && op.dot.seq <= d.seq; },
        Writes());
  }
  if (read.consistency == Consistency::kQuorum) {
    const VersionVector& floor = read.majority_synced;
    checker_.CheckCounterCovers(
        what + " (a majority had synced " + floor.ToString() + " when it was asked)", read.key.key,
        result->state,
        [&floor](const CreatedOp& op) { return op.dot.seq <= floor.Get(op.dot.origin); }, Writes());
  }
}

bool Simulation::HandleAllowed(const std::string& name, RegionId r) const {
  const Residency& residency = residency_.residency();
  const Result<std::string> canonical = CanonicalHandleName(name);
  MERIDIAN_ASSERT(canonical.ok());  // the workload names only valid handles
  return Residency::Holds(residency.groups()[residency.GroupOfHandle(*canonical)].mask, r);
}

void Simulation::Handle(const HandleClientEvent& e) {
  HandleOperation& op = handle_ops_[e.op_id];
  op.invoke_ms = now_;
  Region& region = regions_[op.region];
  if (!region.node) {
    // Connection refused: certainly not applied; the client tries the next region.
    return OnHandleAnswer(op.id, HandleOutcome::kUnavailable, "", "region down");
  }
  const RequestId id = next_request_++;
  requests_[id] = {Request::Kind::kHandle, op.id, op.region, now_};
  issuing_ = id;
  const RegionId r = op.region;
  Drive(r, [&](RegionNode& node, NodeOutput* out) {
    node.OnCommand(id, HandleCommand{op.request}, Now(r), out);
  });
  issuing_ = 0;
}

void Simulation::OnHandleAnswer(uint64_t op_id, HandleOutcome outcome, const std::string& owner,
                                const std::string& message) {
  MERIDIAN_ASSERT(op_id < handle_ops_.size());
  HandleOperation& op = handle_ops_[op_id];
  if (op.complete_ms) {
    handle_violations_.push_back("handle request #" + std::to_string(op_id) + " answered twice");
    return;
  }
  op.complete_ms = now_;
  op.outcome = outcome;
  op.result_owner = owner;
  Trace("handle " + DescribeOperation(op) + (message.empty() ? "" : " (" + message + ")"));
  // Invariant 6 of strong_node.h: every request is answered within the request timeout (plus
  // the tick that notices it), also in a minority; the node may hold the answer for an fsync.
  const uint64_t bound_ms =
      (StrongOptions{}.request_timeout_ticks + 2) * uint64_t{o_.tick_ms} + kDurabilitySlackMs;
  if (now_ - op.invoke_ms > bound_ms) {
    handle_violations_.push_back("handle request answered after " +
                                 std::to_string(now_ - op.invoke_ms) +
                                 " ms: " + DescribeOperation(op));
  }
  if (outcome == HandleOutcome::kUnavailable && handle_attempts_[op_id] + 1 < kHandleMaxAttempts) {
    const uint64_t retry =
        NewHandleOp(op.request, static_cast<RegionId>((op.region + 1) % o_.regions));
    handle_attempts_[retry] = handle_attempts_[op_id] + 1;
    if (final_reads_.count(op_id) != 0) final_reads_.insert(retry);
    Schedule(now_ + kHandleRetryMs, HandleClientEvent{retry});
  }
}

}  // namespace meridian::sim_internal
