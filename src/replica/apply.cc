// Applying one op to the replica: state, vector, oplog, idempotency, conflict accounting, records.
#include "clock/clock_codec.h"
#include "replica/op_codec.h"
#include "replica/replica.h"
#include "replica/storage_keys.h"

namespace meridian {
namespace {

// The seeded OR-set bug: a remove that deletes every dot of the element it finds on arrival,
// including concurrent adds it never observed.
void RemoveUnobserved(const KeyState& state, Op* mutated) {
  const auto& set = std::get<OrSet>(state);
  for (auto& t : std::get<std::vector<OrSetOp>>(mutated->body)) {
    if (t.is_add) continue;
    auto it = set.entries().find(t.element);
    if (it != set.entries().end()) t.observed = it->second;
  }
}

// The seeded LWW bug: equal HLC times are not told apart by region, so whichever write arrived
// first keeps the field, and regions that saw them in different orders disagree.
void DropTiedFields(const LwwMap& map, Op* mutated) {
  auto& fields = std::get<LwwMapOp>(mutated->body).fields;
  std::erase_if(fields, [&](const auto& field) {
    auto it = map.registers().find(field.first);
    return it != map.registers().end() && it->second.stamp.time == mutated->stamp.time;
  });
}

// The seeded RGA bug: a peer's inserts take lamports above everything here, as if each were the
// newest insert at its position, so concurrent inserts are ordered by arrival.
void OrderTextByArrival(const Rga& text, Op* mutated) {
  uint64_t lamport = text.max_lamport();
  for (RgaEdit& edit : std::get<RgaOp>(mutated->body).edits) {
    if (!edit.is_insert() || text.context().Covers(edit.dot)) continue;
    edit.lamport = lamport + 1;
    lamport += edit.text.size();
  }
}

}  // namespace

void Replica::ApplyOp(const Op& op, bool local, uint64_t physical_ms, Output* out) {
  MERIDIAN_ASSERT(local == (op.dot.origin == options_.self));
  // The seeded delivery bugs skip the check as they skip causal delivery: the simulator's
  // self-check must see what they break, not a refusal that hides it.
  if (!local && !options_.bugs.no_causal_wait && !options_.bugs.apply_without_dedupe) {
    // Rule 3 of peer_input.h, against the state the op meets (held ops meet a later one):
    // refused, it stays unapplied and unacknowledged, and its origin's later ops wait for it.
    const auto found = FindState(op.target);
    const Status fits = found != states_.end()
                            ? CheckApplicable(op, found->second.state)
                            : CheckApplicable(op, EmptyState(op.target.data_class));
    if (!fits.ok()) {
      Refuse(PeerRefusal::kOp);
      return;
    }
  }
  FreezeForTransfers(op.target);  // the state changes in place below
  bool inserted = false;
  const StatesIterator it = EmplaceState(op.target, &inserted);
  StoredState& stored = it->second;
  KeyState& state = stored.state;
  MERIDIAN_ASSERT(StateMatchesClass(state, op.target.data_class));
  const bool was_present = !inserted && KeyPresent(state);

  const bool concurrent =
      !local && stored.last_writer.seq != 0 && !op.deps.Covers(stored.last_writer);

  Op mutated;
  ApplyEffects effects;
  ApplyOpToState(EffectiveOp(op, state, &mutated), state, &effects);
  RecordConflicts(op, concurrent, effects);
  if (!local && !was_present && KeyPresent(state)) RecordTypeClashes(op);
  stored.last_writer = op.dot;

  if (options_.bugs.apply_without_dedupe || options_.bugs.no_causal_wait) {
    // The buggy paths may apply out of order or twice; keep the vector a max, never an assert.
    applied_.Set(op.dot.origin, std::max(applied_.Get(op.dot.origin), op.dot.seq));
  } else {
    applied_.Advance(op.dot);
  }
  if (!local) clock_.Observe(op.stamp.time, physical_ms);
  local ? ++stats_.ops_applied_local : ++stats_.ops_applied_remote;

  MarkUnsaved(it);  // saved by the tick (invariant 10): the log entry below is the op's record
  // Every applied op is logged, remote ones too: relaying topologies forward them, and a mesh
  // relays them when their origin cannot (ShouldSend).
  pb::Op encoded;
  EncodeOp(op, &encoded);
  std::string bytes = encoded.SerializeAsString();
  const uint64_t index = oplog_.Append(op.dot, bytes, tick_);
  // The op's log entry is its only record: the states, the applied vector and the clock's
  // high-water mark are saved per tick (CheckpointMarks) and recovered from the log's tail.
  out->records.Put(storage_keys::Oplog(index), std::move(bytes));
  // Postconditions: the op is covered by the vector and is the log's last entry, so a peer's
  // stream (Pump) reaches it.
  MERIDIAN_ASSERT(applied_.Covers(op.dot));
  MERIDIAN_ASSERT(index + 1 == oplog_.end_index() && oplog_.At(index)->dot == op.dot);
  out->applied.push_back(
      {op.dot, op.deps, op.stamp, op.target, op.compensates, CompensableDelta(op)});
  if (!op.idempotency_key.empty()) AfterIdempotentOp(op, physical_ms, out);
}

void Replica::RecordConflicts(const Op& op, bool concurrent, const ApplyEffects& effects) {
  const DataClass c = op.target.data_class;
  if (c == DataClass::kProfile) {
    for (const auto& contest : effects.contests) {
      // A causally later overwrite is an update, not a conflict; an incoming write that lost, or
      // won over a write it never saw, is.
      const bool incoming_won = contest.winner.writer == op.dot;
      if (incoming_won && op.deps.Covers(contest.loser.writer)) continue;
      conflicts_.Add({c, op.target.key, contest.field, ConflictOutcome::kLwwOverwrite,
                      contest.winner.stamp, contest.loser.stamp, contest.winner.value,
                      contest.loser.value, std::nullopt});
    }
    return;
  }
  if (!concurrent) return;
  const ConflictOutcome outcome = (c == DataClass::kRegister && effects.siblings_after > 1)
                                      ? ConflictOutcome::kSibling
                                      : ConflictOutcome::kCrdtMerge;
  conflicts_.Add(
      {c, op.target.key, "", outcome, op.stamp, {}, std::nullopt, std::nullopt, std::nullopt});
}

void Replica::RecordTypeClashes(const Op& op) {
  for (const DataClass other : kAllDataClasses) {
    if (other == op.target.data_class) continue;
    const auto other_state = index_.Find(other, op.target.key);
    if (!other_state || !KeyPresent((*other_state)->second.state)) continue;
    // Created over a key of another class the writer had seen is a choice (HTTP allows it), not
    // a clash. The last writer is volatile: after a restart, a key the other class has not
    // written to since is not compared.
    const Dot& last_writer = (*other_state)->second.last_writer;
    if (last_writer.seq == 0 || op.deps.Covers(last_writer)) continue;
    conflicts_.Add({op.target.data_class,
                    op.target.key,
                    "",
                    ConflictOutcome::kTypeClash,
                    op.stamp,
                    {},
                    std::nullopt,
                    std::nullopt,
                    other});
  }
}

const Op& Replica::EffectiveOp(const Op& op, const KeyState& state, Op* mutated) const {
  const bool local = op.dot.origin == options_.self;
  if (options_.bugs.lww_tie_without_region && op.target.data_class == DataClass::kProfile) {
    *mutated = op;
    DropTiedFields(std::get<LwwMap>(state), mutated);
  } else if (options_.bugs.or_set_remove_wins && op.target.data_class == DataClass::kTags) {
    *mutated = op;
    RemoveUnobserved(state, mutated);
  } else if (options_.bugs.counter_delete_ignores_baseline &&
             std::holds_alternative<PnCounterDelete>(op.body)) {
    *mutated = op;
    mutated->body = std::get<PnCounter>(state).PrepareDelete();  // what is here, not what it saw
  } else if (options_.bugs.rga_arrival_order && !local &&
             op.target.data_class == DataClass::kText) {
    *mutated = op;
    OrderTextByArrival(std::get<Rga>(state), mutated);
  } else {
    return op;
  }
  return *mutated;
}

void Replica::Replay(const Op& op) {
  const StatesIterator it = EmplaceState(op.target);
  KeyState& state = it->second.state;
  MERIDIAN_ASSERT(StateMatchesClass(state, op.target.data_class));
  Op mutated;
  ApplyEffects effects;
  ApplyOpToState(EffectiveOp(op, state, &mutated), state, &effects);
  it->second.last_writer = op.dot;
  MarkUnsaved(it);
}

void Replica::PutState(const StateKey& key, const KeyState& state, Output* out) {
  FreezeForTransfers(key);
  out->changed_unlogged.push_back(key);
  const StatesIterator it = EmplaceState(key);
  it->second.state = state;
  MarkUnsaved(it);
}

void Replica::MarkUnsaved(std::map<StateKey, StoredState>::iterator it) {
  if (it->second.unsaved) return;
  it->second.unsaved = true;
  unsaved_.push_back(it);
}

void Replica::SaveStates(Output* out) {
  if (unsaved_.empty()) return;
  for (auto it : unsaved_) {
    const StateKey& key = it->first;
    StoredState& stored = it->second;
    const std::string storage_key = storage_keys::State(key);
    std::string bytes = StateBytes(stored.state);
    const uint64_t new_hash = RangeSummary::EntryHash(
        storage_key, HasBookkeeping(stored.state) ? ContentBytes(stored.state, bytes) : bytes);
    summary_.Update(storage_key, stored.entry_hash, new_hash);
    stored.entry_hash = new_hash;
    stored.unsaved = false;
    if (HasCollectableGarbage(stored.state)) garbage_keys_.insert(key);
    out->records.Put(storage_key, std::move(bytes));
  }
  unsaved_.clear();
  // Every logged op below the log's end is in the states just saved (invariant 10).
  out->records.Put(std::string(storage_keys::kStatesThrough),
                   storage_keys::EncodeU64(oplog_.end_index()));
}

void Replica::CheckpointMarks(Output* out) {
  SaveStates(out);
  if (applied_ != persisted_applied_) {
    pb::VersionVector vv;
    Encode(applied_, &vv);
    out->records.Put(std::string(storage_keys::kAppliedVector), vv.SerializeAsString());
    persisted_applied_ = applied_;
  }
  if (persisted_clock_ < clock_.last()) {
    pb::HlcTimestamp hlc;
    Encode(clock_.last(), &hlc);
    out->records.Put(std::string(storage_keys::kHlcHighWater), hlc.SerializeAsString());
    persisted_clock_ = clock_.last();
  }
}

void Replica::AfterIdempotentOp(const Op& op, uint64_t physical_ms, Output* out) {
  if (op.compensates) {
    idempotency_.MarkCompensated(op.idempotency_key, *op.compensates, op.dot);
    if (idempotency_.Lookup(op.idempotency_key)) PersistIdempotency(op.idempotency_key, out);
    return;
  }
  const IdempotencyRecord& record = idempotency_.Record(op);
  // A rejoining region makes no op of its own yet (invariant 8); CompensatePending catches up.
  const auto pending =
      rejoining_ ? std::vector<IdempotencyRecord::Write>{}
                 : IdempotencyTable::PendingCompensations(record, options_.self, applied_);
  for (const auto& loser : pending)
    Compensate(op.idempotency_key, loser, physical_ms, out);
  PersistIdempotency(op.idempotency_key, out);
}

void Replica::PersistIdempotency(const std::string& key, Output* out) {
  const IdempotencyRecord* record = idempotency_.Lookup(key);
  MERIDIAN_ASSERT(record != nullptr);
  pb::IdempotencyRecord encoded;
  IdempotencyTable::Encode(*record, &encoded);
  out->records.Put(storage_keys::Idempotency(key), encoded.SerializeAsString());
}

// Our own write `loser` duplicated a write that won: cancel its effect once, as a new op that
// every region applies like any other, so the increment counts once everywhere.
void Replica::Compensate(const std::string& idempotency_key, const IdempotencyRecord::Write& loser,
                         uint64_t physical_ms, Output* out) {
  MERIDIAN_ASSERT(loser.dot.origin == options_.self && loser.delta != 0);
  const IdempotencyRecord* record = idempotency_.Lookup(idempotency_key);
  const KeyState& state = states_.at(record->target).state;
  decltype(Op::body) body = -loser.delta;
  PnCounter::Total counter_total = 0;
  if (const auto* stock = std::get_if<BoundedCounter>(&state)) {
    // A duplicate take gives its units back; a duplicate add takes them back, which needs the
    // rights here: if they were spent meanwhile it stays pending (tried again whenever
    // compensations are), and the stock counts the units twice till then, never below zero.
    const uint64_t units = loser.delta < 0 ? 0 - static_cast<uint64_t>(loser.delta)
                                           : static_cast<uint64_t>(loser.delta);
    auto cancel = stock->Prepare(loser.delta < 0 ? StockOpKind::kAdd : StockOpKind::kTake, units,
                                 options_.self);
    if (!cancel.ok()) {
      ++stats_.compensations_waiting;
      return;
    }
    body = *cancel;
  } else {
    counter_total = std::get<PnCounter>(state).TotalAfter(options_.self, -loser.delta);
  }
  Op op = NewLocalOp(record->target, physical_ms);
  op.body = std::move(body);
  op.counter_total = counter_total;
  op.compensates = loser.dot;
  op.idempotency_key = idempotency_key;  // so every region that applies it records it
  ++stats_.compensations;
  ApplyOp(op, /*local=*/true, physical_ms, out);
}

void Replica::CompensatePending(uint64_t physical_ms, Output* out) {
  std::vector<std::pair<std::string, IdempotencyRecord::Write>> pending;
  for (const auto& [key, record] : idempotency_.records()) {
    for (const auto& loser :
         IdempotencyTable::PendingCompensations(record, options_.self, applied_))
      pending.emplace_back(key, loser);
  }
  for (const auto& [key, loser] : pending) {
    Compensate(key, loser, physical_ms, out);
    PersistIdempotency(key, out);
  }
}

Op Replica::NewLocalOp(const StateKey& target, uint64_t physical_ms) {
  Op op;
  op.dot = {options_.self, applied_.Get(options_.self) + 1};
  op.stamp = {clock_.Now(physical_ms), options_.self};
  op.deps = applied_;
  op.target = target;
  // No record of the clock here: the op's log entry carries its stamp, and recovery resumes the
  // clock above every stamp in the log (CheckpointMarks covers what the log drops).
  return op;
}

}  // namespace meridian
