#include "crdt/lww_map.h"

#include <algorithm>
#include <set>
#include <tuple>

#include "base/assert.h"
#include "clock/clock_codec.h"

namespace meridian {
namespace {

// The LWW order (invariant 4).
bool Beats(const LwwRegister& a, const LwwRegister& b) {
  return std::tie(a.stamp, a.writer, a.value) > std::tie(b.stamp, b.writer, b.value);
}

bool WellFormed(const LwwRegister& r) {
  return r.writer.seq >= 1 && r.writer.origin < kMaxRegions && r.writer.origin == r.stamp.region;
}

bool FieldNamesUnique(const LwwMapOp& op) {
  std::set<std::string> names;
  for (const auto& [name, value] : op.fields) {
    if (!names.insert(name).second) return false;
  }
  return true;
}

void Report(std::vector<LwwContest>* contests, const std::string& field, const LwwRegister& winner,
            const LwwRegister& loser) {
  if (contests != nullptr) contests->push_back(LwwContest{field, winner, loser});
}

// Invariant 2 and well-formed registers; O(fields), and profiles are small.
void AssertInvariants(const LwwMap& map) {
  const auto& mark = map.clear_mark();
  if (mark.has_value()) {
    MERIDIAN_ASSERT(mark->IsTombstone());
    MERIDIAN_ASSERT(WellFormed(*mark));
  }
  for (const auto& [name, reg] : map.registers()) {
    MERIDIAN_ASSERT(WellFormed(reg));
    MERIDIAN_ASSERT(!mark.has_value() || reg.stamp >= mark->stamp);
  }
}

void EncodeRegister(const LwwRegister& in, pb::LwwRegister* out) {
  if (in.value.has_value()) out->set_value(*in.value);
  Encode(in.stamp, out->mutable_stamp());
  Encode(in.writer, out->mutable_writer());
}

Result<LwwRegister> DecodeRegister(const pb::LwwRegister& in, const std::string& what) {
  if (!in.has_stamp()) return InvalidArgument(what + ": stamp missing");
  if (!in.has_writer()) return InvalidArgument(what + ": writer dot missing");
  auto stamp = Decode(in.stamp());
  if (!stamp.ok()) return InvalidArgument(what + ": " + stamp.status().message());
  auto writer = Decode(in.writer());
  if (!writer.ok()) return InvalidArgument(what + ": " + writer.status().message());
  if (writer->origin != stamp->region) {
    return InvalidArgument(what + ": writer origin differs from the stamp's region");
  }
  LwwRegister out{std::nullopt, *stamp, *writer};
  if (in.has_value()) out.value = in.value();
  return out;
}

}  // namespace

void LwwMap::Apply(const LwwMapOp& op, WriteStamp stamp, Dot dot,
                   std::vector<LwwContest>* contests) {
  MERIDIAN_ASSERT(dot.seq >= 1 && dot.origin < kMaxRegions);
  MERIDIAN_ASSERT(dot.origin == stamp.region);
  MERIDIAN_ASSERT(FieldNamesUnique(op));
  if (collected().Covers(dot)) return;  // already reflected; its tombstones may be collected
  RaiseHighWater(stamp);
  if (op.clear) ApplyClear(LwwRegister{std::nullopt, stamp, dot}, contests);
  for (const auto& [name, value] : op.fields)
    Put(name, LwwRegister{value, stamp, dot}, contests);
  AssertInvariants(*this);
}

void LwwMap::Merge(const LwwMap& other) {
  // A register one side's `collected` covers and that side no longer holds is gone there for
  // good (overwritten, or collected): neither side's copy survives the merge.
  auto gone = [](const LwwMap& map, const std::string& field, const LwwRegister& reg) {
    if (!map.collected().Covers(reg.writer)) return false;
    auto it = map.fields_.find(field);
    return it == map.fields_.end() || !(it->second == reg);
  };
  std::vector<std::pair<std::string, LwwRegister>> incoming;
  for (const auto& [name, reg] : other.fields_) {
    if (!gone(*this, name, reg)) incoming.emplace_back(name, reg);
  }
  std::erase_if(fields_, [&](const auto& entry) { return gone(other, entry.first, entry.second); });
  auto mark_gone = [](const LwwMap& map, const LwwRegister& mark) {
    return map.collected().Covers(mark.writer) && map.clear_mark() != mark;
  };
  const std::optional<LwwRegister>& their_mark = other.clear_mark();
  const bool take_mark = their_mark.has_value() && !mark_gone(*this, *their_mark);
  if (clear_mark().has_value() && mark_gone(other, *clear_mark())) marks_.mut().cleared.reset();
  RaiseHighWater(other.high_water_);
  if (take_mark) ApplyClear(*their_mark, nullptr);
  for (const auto& [name, reg] : incoming)
    Put(name, reg, nullptr);
  if (!other.collected().IsZero()) marks_.mut().collected.Merge(other.collected());
  AssertInvariants(*this);
}

void LwwMap::Put(const std::string& field, const LwwRegister& incoming,
                 std::vector<LwwContest>* contests) {
  // A write older than the clear mark was cleared, whenever it arrives (no resurrection).
  const std::optional<LwwRegister>& mark = clear_mark();
  if (mark.has_value() && incoming.stamp < mark->stamp) {
    Report(contests, field, *mark, incoming);
    return;
  }
  auto [it, inserted] = fields_.try_emplace(field, incoming);
  if (inserted) return;
  LwwRegister& existing = it->second;
  if (existing == incoming) return;  // the same write again
  if (Beats(incoming, existing)) {
    Report(contests, field, incoming, existing);
    existing = incoming;
  } else {
    Report(contests, field, existing, incoming);
  }
}

void LwwMap::ApplyClear(const LwwRegister& mark, std::vector<LwwContest>* contests) {
  MERIDIAN_ASSERT(mark.IsTombstone());
  // Only the highest clear matters: it hides everything a lower one would.
  if (clear_mark().has_value() && !Beats(mark, *clear_mark())) return;
  marks_.mut().cleared = mark;
  std::erase_if(fields_, [&](const auto& entry) {
    if (entry.second.stamp >= mark.stamp) return false;
    Report(contests, entry.first, mark, entry.second);
    return true;
  });
}

size_t LwwMap::CollectGarbage(const VersionVector& stable, const VersionVector& reflected) {
  const auto visible_before = Visible();
  size_t dropped = std::erase_if(fields_, [&](const auto& entry) {
    return entry.second.IsTombstone() && stable.Covers(entry.second.writer);
  });
  if (clear_mark().has_value() && stable.Covers(clear_mark()->writer)) {
    marks_.mut().cleared.reset();
    ++dropped;
  }
  if (dropped > 0) marks_.mut().collected.Merge(reflected);
  MERIDIAN_ASSERT(Visible() == visible_before);
  AssertInvariants(*this);
  return dropped;
}

LwwMapOp LwwMap::PrepareDeleteAll() const {
  LwwMapOp op;
  for (const auto& [name, reg] : fields_) {
    if (!reg.IsTombstone()) op.fields.emplace_back(name, std::nullopt);
  }
  return op;
}

bool LwwMap::HasLiveField() const {
  return std::any_of(fields_.begin(), fields_.end(),
                     [](const auto& entry) { return !entry.second.IsTombstone(); });
}

std::map<std::string, std::string> LwwMap::Visible() const {
  std::map<std::string, std::string> out;
  for (const auto& [name, reg] : fields_) {
    if (!reg.IsTombstone()) out.emplace_hint(out.end(), name, *reg.value);
  }
  return out;
}

std::optional<WriteStamp> LwwMap::MaxStamp() const {
  return high_water_;
}

void LwwMap::RaiseHighWater(const std::optional<WriteStamp>& stamp) {
  if (stamp.has_value() && (!high_water_.has_value() || *high_water_ < *stamp)) {
    high_water_ = stamp;
  }
}

size_t LwwMap::TombstoneCount() const {
  size_t count = clear_mark().has_value() ? 1 : 0;
  for (const auto& [name, reg] : fields_)
    count += reg.IsTombstone() ? 1 : 0;
  return count;
}

void LwwMap::Encode(pb::LwwMap* out, bool with_collected) const {
  AssertInvariants(*this);
  out->Clear();
  for (const auto& [name, reg] : fields_) {
    pb::LwwMap::Field* field = out->add_fields();
    field->set_name(name);
    EncodeRegister(reg, field->mutable_reg());
  }
  if (clear_mark().has_value()) EncodeRegister(*clear_mark(), out->mutable_cleared());
  if (high_water_.has_value()) meridian::Encode(*high_water_, out->mutable_high_water());
  if (with_collected && !collected().IsZero())
    meridian::Encode(collected(), out->mutable_collected());
}

Result<LwwMap> LwwMap::Decode(const pb::LwwMap& in) {
  LwwMap map;
  if (in.has_cleared()) {
    auto mark = DecodeRegister(in.cleared(), "lww map clear mark");
    if (!mark.ok()) return mark.status();
    if (!mark->IsTombstone()) return InvalidArgument("lww map clear mark carries a value");
    map.marks_.mut().cleared = *mark;
  }
  for (int i = 0; i < in.fields_size(); ++i) {
    const pb::LwwMap::Field& field = in.fields(i);
    const std::string what = "lww map field " + std::to_string(i);
    if (i > 0 && !(in.fields(i - 1).name() < field.name())) {
      return InvalidArgument(what + ": names not strictly ascending");
    }
    if (!field.has_reg()) return InvalidArgument(what + ": register missing");
    auto reg = DecodeRegister(field.reg(), what);
    if (!reg.ok()) return reg.status();
    if (map.clear_mark().has_value() && reg->stamp < map.clear_mark()->stamp) {
      return InvalidArgument(what + ": stamped below the clear mark");
    }
    map.fields_.emplace_hint(map.fields_.end(), field.name(), std::move(reg).value());
  }
  if (in.has_high_water()) {
    auto high_water = meridian::Decode(in.high_water());
    if (!high_water.ok())
      return InvalidArgument("lww map high water: " + high_water.status().message());
    map.high_water_ = *high_water;
  }
  std::optional<WriteStamp> highest;
  if (map.clear_mark().has_value()) highest = map.clear_mark()->stamp;
  for (const auto& [name, reg] : map.fields_) {
    if (!highest.has_value() || *highest < reg.stamp) highest = reg.stamp;
  }
  if (highest.has_value() && (!map.high_water_.has_value() || *map.high_water_ < *highest)) {
    return InvalidArgument("lww map high water is below a stamp it holds");
  }
  if (in.has_collected()) {
    auto collected = meridian::Decode(in.collected());
    if (!collected.ok()) {
      return InvalidArgument("lww map collected vector: " + collected.status().message());
    }
    map.marks_.mut().collected = *collected;
  }
  AssertInvariants(map);
  return map;
}

}  // namespace meridian
