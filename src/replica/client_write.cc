// Local writes: validation, idempotent retries, and turning a request into an op.
#include <algorithm>

#include "replica/replica.h"

namespace meridian {
namespace {

bool BodyMatchesClass(const ClientWrite& w) {
  // Any class but stock can be deleted (a stock reset to zero would race a concurrent take).
  if (std::holds_alternative<KeyDelete>(w.body)) return w.target.data_class != DataClass::kStock;
  switch (w.target.data_class) {
    case DataClass::kProfile:
      return std::holds_alternative<LwwMapOp>(w.body);
    case DataClass::kCounter:
      return std::holds_alternative<int64_t>(w.body);
    case DataClass::kTags:
      return std::holds_alternative<TagsWrite>(w.body);
    case DataClass::kRegister:
      return std::holds_alternative<std::string>(w.body);
    case DataClass::kText:
      return std::holds_alternative<TextWrite>(w.body);
    case DataClass::kStock:
      return std::holds_alternative<StockWrite>(w.body);
  }
  return false;
}

// The op body that deletes everything `state` shows (observed-remove, per class); of a
// register, only the siblings `seen` covers when there is a client's context.
decltype(Op::body) DeleteBody(const KeyState& state, const VersionVector* seen) {
  if (const auto* map = std::get_if<LwwMap>(&state)) return map->PrepareDeleteAll();
  if (const auto* counter = std::get_if<PnCounter>(&state)) return counter->PrepareDelete();
  if (const auto* set = std::get_if<OrSet>(&state)) return set->PrepareRemoveAll();
  if (const auto* text = std::get_if<Rga>(&state)) return text->PrepareDeleteAll();
  return std::get<MvRegister>(state).PrepareDelete(seen);
}

// The client's context, if any (null: the write observes everything this region shows).
const VersionVector* SeenOf(const ClientWrite& write, const ReplicaBugs& bugs) {
  if (bugs.register_context_ignored) return nullptr;  // seeded bug (self-check)
  return write.observed_context ? &*write.observed_context : nullptr;
}

}  // namespace

Status Replica::CheckObservedContext(const ClientWrite& write) const {
  if (!write.observed_context) return Status::Ok();
  if (write.target.data_class != DataClass::kRegister) {
    return InvalidArgument("a context applies to register writes only");
  }
  const VersionVector& seen = *write.observed_context;
  for (RegionId r = options_.region_count; r < kMaxRegions; ++r) {
    if (seen.Get(r) != 0) {
      return InvalidArgument("the context names region " + std::to_string(r) +
                             ", which is not in this cluster");
    }
  }
  const KeyState* state = Find(write.target);
  const VersionVector none;
  const VersionVector& here = state ? std::get<MvRegister>(*state).context() : none;
  std::string missing;
  for (RegionId r = 0; r < options_.region_count; ++r) {
    if (seen.Get(r) <= here.Get(r)) continue;
    missing += (missing.empty() ? "" : ", ") + std::string("region ") + std::to_string(r) +
               "'s writes " + std::to_string(here.Get(r) + 1) + ".." + std::to_string(seen.Get(r));
  }
  if (missing.empty()) return Status::Ok();
  return Unavailable("the context names register writes this region has not applied yet (" +
                     missing + ")");
}

Status Replica::ValidateWrite(const ClientWrite& write) const {
  if (write.target.key.empty()) return InvalidArgument("key is empty");
  if (std::holds_alternative<KeyDelete>(write.body) &&
      write.target.data_class == DataClass::kStock) {
    return InvalidArgument("a stock cannot be deleted: take what is left of it");
  }
  if (!BodyMatchesClass(write)) return InvalidArgument("write body does not match the class");
  MERIDIAN_RETURN_IF_ERROR(CheckObservedContext(write));
  if (const auto* op = std::get_if<LwwMapOp>(&write.body)) {
    if (!op->clear && op->fields.empty()) return InvalidArgument("profile write sets no field");
    for (const auto& [field, value] : op->fields) {
      if (field.empty()) return InvalidArgument("profile field name is empty");
    }
  }
  if (const auto* delta = std::get_if<int64_t>(&write.body)) {
    if (*delta == 0) return InvalidArgument("counter delta is zero");
    auto it = FindState(write.target);
    PnCounter empty;
    const PnCounter& counter = it == states_.end() ? empty : std::get<PnCounter>(it->second.state);
    MERIDIAN_RETURN_IF_ERROR(counter.CheckDelta(options_.self, *delta));
  }
  if (const auto* tags = std::get_if<TagsWrite>(&write.body)) {
    if (tags->add.empty() && tags->remove.empty()) return InvalidArgument("tags write is empty");
    for (const auto& e : tags->add) {
      if (std::find(tags->remove.begin(), tags->remove.end(), e) != tags->remove.end()) {
        return InvalidArgument("tag '" + e + "' is both added and removed in one write");
      }
    }
  }
  if (const auto* text = std::get_if<TextWrite>(&write.body)) {
    // Positions are checked against this region's text now; BuildOp translates them again.
    const KeyState* state = Find(write.target);
    const Rga empty;
    MERIDIAN_RETURN_IF_ERROR(
        (state ? std::get<Rga>(*state) : empty).Prepare(*text, options_.self).status());
  }
  if (const auto* stock = std::get_if<StockWrite>(&write.body)) {
    MERIDIAN_RETURN_IF_ERROR(PrepareStock(*stock, write.target).status());
  }
  return Status::Ok();
}

Result<StockOp> Replica::PrepareStock(const StockWrite& write, const StateKey& key) const {
  if (write.amount == 0) return InvalidArgument("stock amount is zero");
  if (write.kind == StockOpKind::kLend &&
      (write.to >= options_.region_count || write.to == options_.self)) {
    return InvalidArgument("stock lend to region " + std::to_string(write.to) +
                           ", which is this one or not in the cluster");
  }
  const KeyState* state = Find(key);
  const BoundedCounter empty;
  return (state ? std::get<BoundedCounter>(*state) : empty)
      .Prepare(write.kind, write.amount, options_.self, write.to, options_.bugs.escrow_double_lend);
}

Result<WriteReply> Replica::OnClientWrite(const ClientWrite& write, uint64_t physical_ms,
                                          Output* out) {
  if (rejoining_) {
    std::string waiting;
    for (RegionId r : catch_up_.not_heard)
      waiting += (waiting.empty() ? "" : ",") + std::to_string(r);
    return Unavailable(
        "the region's storage is new or restored: it accepts writes once it holds every op of "
        "its own that its peers hold" +
        (waiting.empty() ? std::string(" (catching up)")
                         : " (not yet heard from regions " + waiting + ")"));
  }
  // A known key first: a retry of a write that was accepted is answered as that write even when
  // the state has moved since (a counter delta that would now overflow), and a reuse for another
  // request is refused, not applied.
  if (!write.idempotency_key.empty()) {
    if (const IdempotencyRecord* record = idempotency_.Lookup(write.idempotency_key)) {
      MERIDIAN_RETURN_IF_ERROR(CheckIdempotentRetry(write.idempotency_key, *record, write));
      ++stats_.idempotent_retries;
      return WriteReply{record->Winner().dot, applied_, /*deduplicated=*/true};
    }
  }
  MERIDIAN_RETURN_IF_ERROR(ValidateWrite(write));
  if (std::holds_alternative<KeyDelete>(write.body)) {
    // Observed-remove: what this region shows nothing of, a delete here would not remove, so an
    // op would change nothing anywhere. None is made (and no idempotency record: a retry is
    // again a delete of whatever the region it reaches shows).
    const KeyState* state = Find(write.target);
    if (state == nullptr || !KeyPresent(*state)) return WriteReply{Dot{}, applied_, false};
  }
  BeginStep(out);
  Op op = BuildOp(write, physical_ms);
  const Dot dot = op.dot;
  ApplyOp(op, /*local=*/true, physical_ms, out);
  stability_.OnApplied(applied_);
  PumpAll(physical_ms, out);
  return WriteReply{dot, applied_, false};
}

Op Replica::BuildOp(const ClientWrite& write, uint64_t physical_ms) {
  Op op = NewLocalOp(write.target, physical_ms);
  op.idempotency_key = write.idempotency_key;
  auto it = FindState(write.target);
  const KeyState current =
      it == states_.end() ? EmptyState(write.target.data_class) : it->second.state;
  if (write.target.data_class == DataClass::kProfile) {
    // Stamp above everything this key has held, so a write beats what its writer saw even when
    // a clamped clock skew left our HLC behind a peer's stamps (and collected tombstones stay
    // collected: nothing causally later can sort below them).
    const LwwMap& map = std::get<LwwMap>(current);
    const auto high_water = map.MaxStamp();
    if (high_water && !(high_water->time < op.stamp.time)) {
      const HlcTimestamp hw = high_water->time;
      op.stamp.time = hw.logical == UINT32_MAX ? HlcTimestamp{hw.physical_ms + 1, 0}
                                               : HlcTimestamp{hw.physical_ms, hw.logical + 1};
    }
  }
  if (std::holds_alternative<KeyDelete>(write.body)) {
    op.body = DeleteBody(current, SeenOf(write, options_.bugs));
    op.key_delete = true;
  } else if (const auto* fields = std::get_if<LwwMapOp>(&write.body)) {
    op.body = *fields;
  } else if (const auto* delta = std::get_if<int64_t>(&write.body)) {
    op.body = *delta;
    op.counter_total = std::get<PnCounter>(current).TotalAfter(options_.self, *delta);
  } else if (const auto* tags = std::get_if<TagsWrite>(&write.body)) {
    // Prepared one after another on a scratch copy, so two adds in one request get two dots.
    OrSet scratch = std::get<OrSet>(current);
    std::vector<OrSetOp> ops;
    auto prepare = [&](OrSetOp t) {
      scratch.Apply(t);
      ops.push_back(std::move(t));
    };
    for (const auto& e : tags->add)
      prepare(scratch.PrepareAdd(e, options_.self));
    for (const auto& e : tags->remove)
      prepare(scratch.PrepareRemove(e));
    op.body = std::move(ops);
  } else if (const auto* text = std::get_if<TextWrite>(&write.body)) {
    auto prepared = std::get<Rga>(current).Prepare(*text, options_.self);
    MERIDIAN_ASSERT(prepared.ok());  // ValidateWrite prepared it on the same state
    op.body = *std::move(prepared);
  } else if (const auto* stock = std::get_if<StockWrite>(&write.body)) {
    auto prepared = PrepareStock(*stock, write.target);
    MERIDIAN_ASSERT(prepared.ok());  // ValidateWrite prepared it on the same state
    op.body = *prepared;
  } else {
    op.body = std::get<MvRegister>(current).PrepareWrite(
        std::get<std::string>(write.body), options_.self, SeenOf(write, options_.bugs));
  }
  return op;
}

}  // namespace meridian
