#include "replica/idempotency.h"

#include <algorithm>

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
void InsertWrite(IdempotencyRecord& record, const IdempotencyRecord::Write& write) {
  auto it =
      std::lower_bound(record.writes.begin(), record.writes.end(), write.dot,
                       [](const IdempotencyRecord::Write& w, const Dot& d) { return w.dot < d; });
  if (it != record.writes.end() && it->dot == write.dot) {
    it->compensated = it->compensated || write.compensated;
    return;
  }
  record.writes.insert(it, write);
}
}  // namespace

const IdempotencyRecord& IdempotencyTable::Record(const Op& op) {
  MERIDIAN_ASSERT(!op.idempotency_key.empty());
  auto& record = records_[op.idempotency_key];
  if (record.writes.empty()) record.target = op.target;
  const int64_t* delta = std::get_if<int64_t>(&op.body);
  InsertWrite(record, {op.dot, op.stamp, delta ? *delta : 0, false});
  return record;
}

void IdempotencyTable::MarkCompensated(const std::string& key, Dot dot) {
  auto& record = records_.at(key);
  for (auto& w : record.writes) {
    if (w.dot == dot) {
      MERIDIAN_ASSERT(!w.compensated);
      w.compensated = true;
      return;
    }
  }
  MERIDIAN_ASSERT_MSG(false, "compensated dot not in its idempotency record");
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
    const IdempotencyRecord& record, RegionId self) {
  std::vector<IdempotencyRecord::Write> out;
  if (record.target.data_class != DataClass::kCounter || record.writes.size() < 2) return out;
  const Dot winner = record.Winner().dot;
  for (const auto& w : record.writes) {
    if (w.dot != winner && w.dot.origin == self && !w.compensated) out.push_back(w);
  }
  return out;
}

std::vector<std::string> IdempotencyTable::Collect(const VersionVector& stable, size_t keep,
                                                   RegionId self) {
  std::vector<std::string> dropped;
  for (auto it = records_.begin(); it != records_.end() && records_.size() > keep;) {
    const auto& writes = it->second.writes;
    const bool all_stable = std::all_of(writes.begin(), writes.end(),
                                        [&](const auto& w) { return stable.Covers(w.dot); });
    // An own losing counter write must be compensated before its record may go.
    const bool settled = PendingCompensations(it->second, self).empty();
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
    if (w.compensated) meridian::Encode(w.dot, out->add_compensated());
  }
}

Result<IdempotencyRecord> IdempotencyTable::Decode(const pb::IdempotencyRecord& in) {
  IdempotencyRecord record;
  auto c = DataClassFromNumber(in.data_class());
  if (!c) return InvalidArgument("idempotency record has an unknown class");
  record.target = {*c, in.key()};
  if (in.dots_size() != in.stamps_size() || in.dots_size() != in.deltas_size() ||
      in.dots_size() == 0) {
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
    record.writes.push_back({*dot, *stamp, in.deltas(i), false});
  }
  for (const auto& c_dot : in.compensated()) {
    auto dot = meridian::Decode(c_dot);
    if (!dot.ok()) return dot.status();
    bool found = false;
    for (auto& w : record.writes) {
      if (w.dot == *dot) found = w.compensated = true;
    }
    if (!found) return InvalidArgument("idempotency record compensates an unknown dot");
  }
  return record;
}

}  // namespace meridian
