#include "replica/idempotency.h"

#include <algorithm>
#include <string_view>

#include "base/hash.h"
#include "clock/clock_codec.h"

namespace meridian {

const IdempotencyRecord::Write& IdempotencyRecord::Winner() const {
  MERIDIAN_ASSERT(!writes.empty());
  return *std::min_element(writes.begin(), writes.end(),
                           [](const Write& a, const Write& b) { return a.stamp < b.stamp; });
}

const IdempotencyRecord* IdempotencyTable::Lookup(const std::string& key) const {
  auto it = records_.find(key);
  return it == records_.end() ? nullptr : &it->second;
}

namespace {

// Hashes the canonical form of a request: every part length-prefixed, so no two requests share
// one; profile fields and tag elements sorted, so their order does not count. Streamed into the
// hash: a profile value may be a MiB, and nothing of it is copied.
class CanonicalRequest {
 public:
  explicit CanonicalRequest(const StateKey& target) {
    Byte(static_cast<uint8_t>(target.data_class));
    String(target.key);
  }
  void Byte(uint8_t b) { hasher_.Add(std::string_view(reinterpret_cast<const char*>(&b), 1)); }
  void Number(uint64_t n) {
    for (int i = 0; i < 8; ++i)
      Byte(static_cast<uint8_t>(n >> (8 * i)));
  }
  void String(std::string_view s) {
    Number(s.size());
    hasher_.Add(s);
  }
  void Fields(const LwwMapOp& op) {
    Byte(op.clear ? 1 : 0);
    std::vector<const std::pair<std::string, std::optional<std::string>>*> fields;
    fields.reserve(op.fields.size());
    for (const auto& field : op.fields)
      fields.push_back(&field);
    std::sort(fields.begin(), fields.end(), [](auto* a, auto* b) { return *a < *b; });
    Number(fields.size());
    for (const auto* field : fields) {
      String(field->first);
      Byte(field->second ? 1 : 0);  // a deleted field differs from an empty value
      if (field->second) String(*field->second);
    }
  }
  // A KeyDelete, in a form no write of the class can take: a profile write starts with its clear
  // byte (0 or 1), a counter's delta is never 0, a tags write names at least one element, and no
  // register value is 2^64-1 bytes long. (Existing fingerprints are on disk: they stay as they
  // were.)
  void KeyDeleted(DataClass c) {
    switch (c) {
      case DataClass::kProfile:
        return Byte(2);
      case DataClass::kCounter:
        return Number(0);
      case DataClass::kTags:
        Number(0);
        return Number(0);
      case DataClass::kRegister:
        return Number(UINT64_MAX);
      case DataClass::kText:
        return Number(0);  // a text write has at least one edit
      case DataClass::kStock:
        return Byte(0);  // never made: a stock has no delete
    }
  }
  // Text edits as both forms show them: an insert's text, a delete's length. Not positions: the
  // op holds element ids, which name the same request wherever it was made.
  // A stock write as both forms show it: its kind, amount and (a lend's) region.
  void Stock(StockOpKind kind, uint64_t amount, RegionId to) {
    Byte(static_cast<uint8_t>(kind));
    Number(amount);
    Number(to);
  }
  void Inserted(std::string_view text) {
    Byte('i');
    String(text);
  }
  void Deleted(uint64_t length) {
    Byte('d');
    Number(length);
  }
  // As a set: sorted, duplicates once.
  void Elements(std::vector<std::string_view> elements) {
    std::sort(elements.begin(), elements.end());
    elements.erase(std::unique(elements.begin(), elements.end()), elements.end());
    Number(elements.size());
    for (std::string_view e : elements)
      String(e);
  }
  uint64_t Fingerprint() const {
    const uint64_t h = hasher_.Finish();
    return h == 0 ? 1 : h;  // 0 means "no fingerprint" in a record
  }

 private:
  StableHasher hasher_;
};

void InsertWrite(IdempotencyRecord& record, const IdempotencyRecord::Write& write) {
  auto it =
      std::lower_bound(record.writes.begin(), record.writes.end(), write.dot,
                       [](const IdempotencyRecord::Write& w, const Dot& d) { return w.dot < d; });
  if (it != record.writes.end() && it->dot == write.dot) {
    // The later compensation if two are known: after a lost disk the region's next incarnation
    // may have made another, under a sequence number it reused.
    if (write.compensated_by &&
        (!it->compensated_by || *it->compensated_by < *write.compensated_by)) {
      it->compensated_by = write.compensated_by;
    }
    if (it->fingerprint == 0) it->fingerprint = write.fingerprint;  // a legacy copy learns it
    return;
  }
  record.writes.insert(it, write);
}

}  // namespace

uint64_t RequestFingerprint(const ClientWrite& write) {
  CanonicalRequest c(write.target);
  if (std::holds_alternative<KeyDelete>(write.body)) {
    c.KeyDeleted(write.target.data_class);
  } else if (const auto* fields = std::get_if<LwwMapOp>(&write.body)) {
    c.Fields(*fields);
  } else if (const auto* delta = std::get_if<int64_t>(&write.body)) {
    c.Number(static_cast<uint64_t>(*delta));
  } else if (const auto* tags = std::get_if<TagsWrite>(&write.body)) {
    c.Elements({tags->add.begin(), tags->add.end()});
    c.Elements({tags->remove.begin(), tags->remove.end()});
  } else if (const auto* text = std::get_if<TextWrite>(&write.body)) {
    c.Number(text->edits.size());
    for (const TextEdit& e : text->edits)
      e.insert ? c.Inserted(e.text) : c.Deleted(e.len);
  } else if (const auto* stock = std::get_if<StockWrite>(&write.body)) {
    c.Stock(stock->kind, stock->amount, stock->to);
  } else {
    c.String(std::get<std::string>(write.body));
  }
  return c.Fingerprint();
}

uint64_t RequestFingerprint(const Op& op) {
  CanonicalRequest c(op.target);
  if (op.key_delete) {
    c.KeyDeleted(op.target.data_class);  // whatever its body removed: the request was a delete
  } else if (const auto* fields = std::get_if<LwwMapOp>(&op.body)) {
    c.Fields(*fields);
  } else if (const auto* delta = std::get_if<int64_t>(&op.body)) {
    c.Number(static_cast<uint64_t>(*delta));
  } else if (const auto* tag_ops = std::get_if<std::vector<OrSetOp>>(&op.body)) {
    // BuildOp makes one OrSetOp per requested add and remove.
    std::vector<std::string_view> add, remove;
    for (const OrSetOp& t : *tag_ops)
      (t.is_add ? add : remove).push_back(t.element);
    c.Elements(std::move(add));
    c.Elements(std::move(remove));
  } else if (const auto* text = std::get_if<RgaOp>(&op.body)) {
    c.Number(text->edits.size());
    for (const RgaEdit& e : text->edits)
      e.is_insert() ? c.Inserted(EncodeUtf8(e.text)) : c.Deleted(e.removed.size());
  } else if (const auto* stock = std::get_if<StockOp>(&op.body)) {
    c.Stock(stock->kind, stock->amount, stock->to);
  } else {
    c.String(std::get<MvOp>(op.body).value);
  }
  return c.Fingerprint();
}

Status CheckIdempotentRetry(const std::string& idempotency_key, const IdempotencyRecord& record,
                            const ClientWrite& write) {
  // The other request's class and key are not named: they may be someone else's business.
  const std::string refused = "Idempotency-Key '" + idempotency_key + "' was already used for ";
  const std::string advice =
      "; a retry must repeat the request exactly, a new request needs a new key";
  if (record.target != write.target) {
    return FailedPrecondition(refused + "another class or key" + advice);
  }
  const uint64_t recorded = record.Winner().fingerprint;
  if (recorded != 0 && !write.body_sealed && recorded != RequestFingerprint(write)) {
    return FailedPrecondition(refused + "a request with different parameters" + advice);
  }
  return Status::Ok();
}

int64_t CompensableDelta(const Op& op) {
  if (const auto* delta = std::get_if<int64_t>(&op.body)) return *delta;
  if (const auto* stock = std::get_if<StockOp>(&op.body)) {
    const auto units = static_cast<int64_t>(stock->amount);  // < 2^62
    if (stock->kind == StockOpKind::kAdd) return units;
    if (stock->kind == StockOpKind::kTake) return -units;
  }
  return 0;
}

const IdempotencyRecord& IdempotencyTable::Record(const Op& op) {
  MERIDIAN_ASSERT(!op.idempotency_key.empty());
  auto& record = records_[op.idempotency_key];
  if (record.writes.empty()) record.target = op.target;
  InsertWrite(record,
              {op.dot, op.stamp, CompensableDelta(op), std::nullopt, RequestFingerprint(op)});
  return record;
}

void IdempotencyTable::MarkCompensated(const std::string& key, Dot dot, Dot by) {
  auto record = records_.find(key);
  if (record == records_.end()) return;
  for (auto& w : record->second.writes) {
    if (w.dot == dot && (!w.compensated_by || *w.compensated_by < by)) w.compensated_by = by;
  }
}

const IdempotencyRecord& IdempotencyTable::MergeRecord(const std::string& key,
                                                       const IdempotencyRecord& incoming) {
  auto& record = records_[key];
  if (record.writes.empty()) record.target = incoming.target;
  for (const auto& w : incoming.writes)
    InsertWrite(record, w);
  return record;
}

std::vector<IdempotencyRecord::Write> IdempotencyTable::PendingCompensations(
    const IdempotencyRecord& record, RegionId self, const VersionVector& applied) {
  std::vector<IdempotencyRecord::Write> out;
  if (record.target.data_class != DataClass::kCounter || record.writes.size() < 2) return out;
  const Dot winner = record.Winner().dot;
  for (const auto& w : record.writes) {
    const bool compensated = w.compensated_by && applied.Covers(*w.compensated_by);
    // A duplicated delete (delta 0) removes what it saw, as its twin did: nothing to cancel.
    if (w.dot != winner && w.dot.origin == self && w.delta != 0 && !compensated) out.push_back(w);
  }
  return out;
}

std::vector<std::string> IdempotencyTable::Collect(const VersionVector& stable, size_t keep,
                                                   RegionId self, const VersionVector& applied) {
  std::vector<std::string> dropped;
  for (auto it = records_.begin(); it != records_.end() && records_.size() > keep;) {
    const auto& writes = it->second.writes;
    const bool all_stable = std::all_of(writes.begin(), writes.end(),
                                        [&](const auto& w) { return stable.Covers(w.dot); });
    // An own losing counter write must be compensated before its record may go.
    const bool settled = PendingCompensations(it->second, self, applied).empty();
    if (all_stable && settled) {
      dropped.push_back(it->first);
      it = records_.erase(it);
    } else {
      ++it;
    }
  }
  return dropped;
}

void IdempotencyTable::Restore(const std::string& key, IdempotencyRecord record) {
  records_[key] = std::move(record);
}

void IdempotencyTable::Encode(const IdempotencyRecord& record, pb::IdempotencyRecord* out) {
  out->Clear();
  out->set_data_class(static_cast<uint32_t>(record.target.data_class));
  out->set_key(record.target.key);
  for (const auto& w : record.writes) {
    meridian::Encode(w.dot, out->add_dots());
    meridian::Encode(w.stamp, out->add_stamps());
    out->add_deltas(w.delta);
    if (w.compensated_by) {
      meridian::Encode(w.dot, out->add_compensated());
      meridian::Encode(*w.compensated_by, out->add_compensated_by());
    }
  }
  // All or none, so that decoding can line them up with the dots.
  const bool fingerprinted = std::any_of(record.writes.begin(), record.writes.end(),
                                         [](const auto& w) { return w.fingerprint != 0; });
  if (!fingerprinted) return;
  for (const auto& w : record.writes)
    out->add_fingerprints(w.fingerprint);
}

Result<IdempotencyRecord> IdempotencyTable::Decode(const pb::IdempotencyRecord& in) {
  IdempotencyRecord record;
  auto c = DataClassFromNumber(in.data_class());
  if (!c) return InvalidArgument("idempotency record has an unknown class");
  record.target = {*c, in.key()};
  if (in.dots_size() != in.stamps_size() || in.dots_size() != in.deltas_size() ||
      in.dots_size() == 0 ||
      (in.fingerprints_size() != 0 && in.fingerprints_size() != in.dots_size())) {
    return InvalidArgument("idempotency record lists are inconsistent");
  }
  for (int i = 0; i < in.dots_size(); ++i) {
    auto dot = meridian::Decode(in.dots(i));
    auto stamp = meridian::Decode(in.stamps(i));
    if (!dot.ok()) return dot.status();
    if (!stamp.ok()) return stamp.status();
    if (!record.writes.empty() && !(record.writes.back().dot < *dot)) {
      return InvalidArgument("idempotency record dots not ascending");
    }
    const uint64_t fingerprint = in.fingerprints_size() == 0 ? 0 : in.fingerprints(i);
    record.writes.push_back({*dot, *stamp, in.deltas(i), std::nullopt, fingerprint});
  }
  if (in.compensated_by_size() != 0 && in.compensated_by_size() != in.compensated_size()) {
    return InvalidArgument("idempotency record compensation lists are inconsistent");
  }
  for (int i = 0; i < in.compensated_size(); ++i) {
    auto dot = meridian::Decode(in.compensated(i));
    if (!dot.ok()) return dot.status();
    // Records written before compensations were named: the dot's own origin at seq 0, which
    // every vector covers (compensated as before).
    Dot by{dot->origin, 0};
    if (in.compensated_by_size() != 0) {
      auto named = meridian::Decode(in.compensated_by(i));
      if (!named.ok()) return named.status();
      if (named->origin != dot->origin) return InvalidArgument("compensation by another region");
      by = *named;
    }
    bool found = false;
    for (auto& w : record.writes) {
      if (w.dot == *dot) {
        found = true;
        w.compensated_by = by;
      }
    }
    if (!found) return InvalidArgument("idempotency record compensates an unknown dot");
  }
  return record;
}

}  // namespace meridian
