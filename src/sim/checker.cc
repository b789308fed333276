#include "sim/checker.h"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>

namespace meridian {
namespace {

std::string KeyName(const StateKey& k) {
  return std::string(DataClassName(k.data_class)) + "/" + k.key;
}

using KeyOps = std::vector<std::pair<const LogicalWrite*, const CreatedOp*>>;

bool IsDelete(const LogicalWrite& w) {
  return std::holds_alternative<KeyDelete>(w.write.body);
}

// Whether some delete among `ops` had applied the op `dot` when it was made.
bool DeleteCovers(const KeyOps& ops, Dot dot) {
  return std::any_of(ops.begin(), ops.end(), [&](const auto& entry) {
    return IsDelete(*entry.first) && entry.second->deps.Covers(dot);
  });
}

// The LWW reference of one profile key over the ops `within` picks: per field the highest-stamped
// write, the highest clear honoured, and each delete tombstoning the fields this reference shows
// over the ops it had applied (memoised by op serial: deletes see deletes).
class ProfileReference {
 public:
  explicit ProfileReference(const KeyOps& ops) : ops_(ops) {}

  std::map<std::string, std::string> Visible(const std::function<bool(const CreatedOp&)>& within) {
    std::optional<WriteStamp> cleared;
    std::map<std::string, std::pair<WriteStamp, std::optional<std::string>>> latest;
    auto put = [&](const std::string& field, WriteStamp stamp, std::optional<std::string> value) {
      auto it = latest.find(field);
      if (it == latest.end() || it->second.first < stamp) latest[field] = {stamp, std::move(value)};
    };
    for (const auto& [write, op] : ops_) {
      if (!within(*op)) continue;
      if (IsDelete(*write)) {
        for (const std::string& field : Observed(*op))
          put(field, op->stamp, std::nullopt);
        continue;
      }
      const auto& body = std::get<LwwMapOp>(write->write.body);
      if (body.clear && (!cleared || *cleared < op->stamp)) cleared = op->stamp;
      for (const auto& [field, value] : body.fields)
        put(field, op->stamp, value);
    }
    std::map<std::string, std::string> visible;
    for (const auto& [field, write] : latest) {
      if (write.second && (!cleared || !(write.first < *cleared))) visible[field] = *write.second;
    }
    return visible;
  }

 private:
  const std::set<std::string>& Observed(const CreatedOp& del) {
    auto it = observed_.find(del.serial);
    if (it != observed_.end()) return it->second;
    std::set<std::string> fields;
    for (const auto& [field, value] :
         Visible([&](const CreatedOp& op) { return del.deps.Covers(op.dot); }))
      fields.insert(field);
    return observed_.emplace(del.serial, std::move(fields)).first->second;
  }

  const KeyOps& ops_;
  std::map<uint64_t, std::set<std::string>> observed_;
};

}  // namespace

// The created ops of every logical write to keys of class `c`, grouped by key; ops lost with a
// disk, and keys of erased subjects, are left out.
std::map<std::string, std::vector<std::pair<const LogicalWrite*, const CreatedOp*>>>
Checker::OpsByKey(const std::vector<LogicalWrite>& history, DataClass c) const {
  std::map<std::string, std::vector<std::pair<const LogicalWrite*, const CreatedOp*>>> out;
  for (const auto& w : history) {
    if (w.write.target.data_class != c || (erased_ && erased_(w.write.target.key))) continue;
    for (const auto& op : w.created) {
      if (lost_.count(op.serial) == 0) out[w.write.target.key].push_back({&w, &op});
    }
  }
  return out;
}

void Checker::OnStorageReplaced(RegionId region) {
  last_applied_[region] = VersionVector();
  tracked_[region] = VersionVector();
}

void Checker::OnOpsLost(RegionId origin, uint64_t first, uint64_t last,
                        const std::vector<LogicalWrite>& history) {
  // By op, not by dot: the region's next incarnation hands the same dots to new writes.
  for (const auto& w : history) {
    for (const auto& op : w.created) {
      if (op.dot.origin == origin && op.dot.seq >= first && op.dot.seq <= last) {
        if (lost_.insert(op.serial).second && op.acknowledged && w.needs_majority) {
          Violation("acknowledged w=majority/all write " + std::to_string(w.id) + " (" +
                    op.dot.ToString() + ") was lost with the disk of region " +
                    std::to_string(origin) + ", the only one that held it");
        }
      }
    }
  }
  for (Compensation& c : compensations_) {
    if (c.dot.origin == origin && c.dot.seq >= first && c.dot.seq <= last) c.lost = true;
  }
}

void Checker::OnCompensation(const AppliedOp& op, uint32_t disk) {
  MERIDIAN_ASSERT(op.compensates.has_value() && op.counter_delta != 0);
  compensations_.push_back({op.target, op.dot, op.counter_delta, disk, false});
}

void Checker::CheckReflectsVector(const Replica& replica,
                                  const std::vector<LogicalWrite>& history) {
  const VersionVector& applied = replica.applied();
  for (const auto& [key, ops] : OpsByKey(history, DataClass::kCounter)) {
    // Per origin, the increments and decrements of the ops the vector covers: the totals hold
    // at least these (compensations only add to them).
    std::map<RegionId, std::pair<uint64_t, uint64_t>> floor;
    for (const auto& [write, op] : ops) {
      if (!applied.Covers(op->dot) || IsDelete(*write)) continue;  // a delete moves no total
      const int64_t delta = std::get<int64_t>(write->write.body);
      auto& [p, n] = floor[op->dot.origin];
      (delta > 0 ? p : n) +=
          delta > 0 ? static_cast<uint64_t>(delta) : 0 - static_cast<uint64_t>(delta);
    }
    auto state = replica.Read({DataClass::kCounter, key}).state;
    const PnCounter counter = state ? std::get<PnCounter>(*state) : PnCounter{};
    for (const auto& [origin, totals] : floor) {
      if (counter.increments(origin) < totals.first || counter.decrements(origin) < totals.second) {
        Violation("region " + std::to_string(replica.self()) + " counter " + key +
                  " misses ops of region " + std::to_string(origin) + " that its vector " +
                  applied.ToString() + " claims (after a state transfer)");
        return;
      }
    }
  }
}

Checker::Checker(RegionId regions)
    : regions_(regions), tracked_(regions), last_applied_(regions), shown_(regions) {}

void Checker::Violation(std::string what) {
  // The first few are enough to debug a seed; thousands would only flood the output.
  if (violations_.size() < 20) violations_.push_back(std::move(what));
}

void Checker::OnStep(RegionId region, const std::vector<AppliedOp>& applied,
                     const std::optional<VersionVector>& merged_snapshot,
                     const VersionVector& applied_after) {
  VersionVector& tracked = tracked_[region];
  if (merged_snapshot) tracked.Merge(*merged_snapshot);
  for (const AppliedOp& op : applied) {
    if (tracked.Covers(op.dot)) {
      Violation("region " + std::to_string(region) + " applied " + op.dot.ToString() + " twice");
      continue;
    }
    bool ready = tracked.Get(op.dot.origin) + 1 == op.dot.seq;
    for (RegionId r = 0; r < regions_; ++r) {
      if (r != op.dot.origin && tracked.Get(r) < op.deps.Get(r)) ready = false;
    }
    if (!ready) {
      Violation("region " + std::to_string(region) + " applied " + op.dot.ToString() +
                " before its dependencies " + op.deps.ToString() + " (had " + tracked.ToString() +
                ")");
    }
    tracked.Set(op.dot.origin, std::max(tracked.Get(op.dot.origin), op.dot.seq));
  }
  if (!applied_after.Dominates(last_applied_[region])) {
    Violation("region " + std::to_string(region) + " version vector went backwards: " +
              last_applied_[region].ToString() + " -> " + applied_after.ToString());
  }
  last_applied_[region] = applied_after;
}

void Checker::OnRestart(RegionId region, const VersionVector& recovered,
                        const VersionVector& durable) {
  if (!recovered.Dominates(durable)) {
    Violation("region " + std::to_string(region) + " restarted with less than it had made " +
              "durable: " + durable.ToString() + " -> " + recovered.ToString());
  }
  last_applied_[region] = recovered;
  tracked_[region] = recovered;  // what was persisted is what it has applied
}

std::optional<KeyState> Checker::Shown(const Replica& replica, const StateKey& key) {
  std::optional<KeyState> state = replica.Read(key).state;
  if (!open_) return state;
  auto opened = open_(replica.self(), key, std::move(state));
  if (!opened.ok()) {
    Violation("region " + std::to_string(replica.self()) + " " +
              std::string(DataClassName(key.data_class)) + " " + key.key +
              " does not open for a reader at quiescence: " + opened.status().ToString());
    return std::nullopt;
  }
  return std::move(opened).value();
}

void Checker::CheckQuiescent(const std::vector<const Replica*>& replicas,
                             const std::vector<LogicalWrite>& history) {
  CheckConverged(replicas);
  for (const Replica* r : replicas) {
    CheckCounters(*r, history);
    CheckTags(*r, history);
    CheckProfiles(*r, history);
    CheckRegisters(*r, history);
    CheckTexts(*r, history);
    CheckStockTotals(*r, history);
  }
}

void Checker::CheckConverged(const std::vector<const Replica*>& replicas) {
  const Replica& first = *replicas.front();
  for (const Replica* other : replicas) {
    if (!(other->applied() == first.applied())) {
      Violation("not converged: vectors " + first.applied().ToString() + " vs " +
                other->applied().ToString());
      return;
    }
    std::set<StateKey> keys;
    for (const auto& [k, s] : first.states())
      keys.insert(k);
    for (const auto& [k, s] : other->states())
      keys.insert(k);
    for (const StateKey& k : keys) {
      auto a = first.states().find(k), b = other->states().find(k);
      if (a == first.states().end() || b == other->states().end() ||
          ContentBytes(a->second.state) != ContentBytes(b->second.state)) {
        Violation("not converged: key " + KeyName(k) + " differs between regions " +
                  std::to_string(first.self()) + " and " + std::to_string(other->self()));
        return;
      }
    }
  }
}

void Checker::CheckCounters(const Replica& replica, const std::vector<LogicalWrite>& history) {
  for (const auto& [key, ops] : OpsByKey(history, DataClass::kCounter)) {
    // Every logical write once (exactly-once), then less what deletes removed: the deltas of the
    // ops, compensations included, that some delete had applied when it was made.
    std::set<uint64_t> counted;
    __extension__ __int128 expected = 0;
    bool present = false;
    for (const auto& [write, op] : ops) {
      if (IsDelete(*write)) continue;
      const int64_t delta = std::get<int64_t>(write->write.body);
      if (counted.insert(write->id).second) expected += delta;
      if (DeleteCovers(ops, op->dot)) {
        expected -= delta;
      } else {
        present = true;
      }
    }
    for (const Compensation& c : compensations_) {
      if (c.lost || !(c.key == StateKey{DataClass::kCounter, key})) continue;
      if (DeleteCovers(ops, c.dot)) {
        expected -= c.delta;
      } else {
        present = true;
      }
    }
    auto state = replica.Read({DataClass::kCounter, key}).state;
    auto value = state ? std::get<PnCounter>(*state).Value() : Result<int64_t>(int64_t{0});
    const bool shown = state && KeyPresent(*state);
    if (!value.ok() || *value != expected || shown != present) {
      Violation("region " + std::to_string(replica.self()) + " counter " + key + " = " +
                (value.ok() ? std::to_string(*value) : value.status().ToString()) +
                (shown ? " (present)" : " (not present)") + ", expected " +
                std::to_string(static_cast<int64_t>(expected)) +
                (present ? " (present)" : " (not present)"));
    }
  }
}

void Checker::CheckTags(const Replica& replica, const std::vector<LogicalWrite>& history) {
  for (const auto& [key, ops] : OpsByKey(history, DataClass::kTags)) {
    std::set<std::string> expected;
    for (const auto& [write, add_op] : ops) {
      if (IsDelete(*write)) continue;
      for (const auto& e : std::get<TagsWrite>(write->write.body).add) {
        bool removed = false;
        for (const auto& [other, rm_op] : ops) {
          // A delete of the key removes every add it had applied; a remove, those of its element.
          bool removes_e = IsDelete(*other);
          if (!removes_e) {
            const auto& removes = std::get<TagsWrite>(other->write.body).remove;
            removes_e = std::find(removes.begin(), removes.end(), e) != removes.end();
          }
          if (removes_e && rm_op->deps.Covers(add_op->dot)) removed = true;
        }
        if (!removed) expected.insert(e);
      }
    }
    auto state = Shown(replica, {DataClass::kTags, key});
    std::vector<std::string> actual =
        state ? std::get<OrSet>(*state).Elements() : std::vector<std::string>{};
    if (std::set<std::string>(actual.begin(), actual.end()) != expected) {
      Violation("region " + std::to_string(replica.self()) + " tags " + key +
                " differ from the add-wins reference (" + std::to_string(actual.size()) +
                " elements, expected " + std::to_string(expected.size()) + ")");
    }
  }
}

void Checker::CheckProfiles(const Replica& replica, const std::vector<LogicalWrite>& history) {
  for (const auto& [key, ops] : OpsByKey(history, DataClass::kProfile)) {
    ProfileReference reference(ops);
    const std::map<std::string, std::string> expected =
        reference.Visible([](const CreatedOp&) { return true; });
    auto state = Shown(replica, {DataClass::kProfile, key});
    auto actual = state ? std::get<LwwMap>(*state).Visible() : std::map<std::string, std::string>{};
    if (actual != expected) {
      auto show = [](const std::map<std::string, std::string>& m) {
        std::string out = "{";
        for (const auto& [f, v] : m)
          out += f + "=" + v + " ";
        return out + "}";
      };
      Violation("region " + std::to_string(replica.self()) + " profile " + key +
                " differs from the LWW reference (a lost or resurrected field): " + show(actual) +
                " expected " + show(expected));
    }
  }
}

void Checker::CheckRegisters(const Replica& replica, const std::vector<LogicalWrite>& history) {
  for (const auto& [key, ops] : OpsByKey(history, DataClass::kRegister)) {
    std::multiset<std::string> expected;
    std::optional<std::pair<WriteStamp, std::string>> latest;  // what a string read must answer
    for (const auto& [write, op] : ops) {
      bool covered = false;
      for (const auto& [other, later] : ops) {
        // A write with a context replaces only what its client's read showed (issue 16).
        const bool seen = !later->context_applied || later->context_applied->Covers(op->dot);
        if (later != op && later->deps.Covers(op->dot) && seen) covered = true;
      }
      // A delete covers what it had applied and shows no value of its own.
      if (covered || IsDelete(*write)) continue;
      const std::string& value = std::get<std::string>(write->write.body);
      expected.insert(value);
      if (!latest || op->stamp > latest->first) latest.emplace(op->stamp, value);
    }
    auto state = Shown(replica, {DataClass::kRegister, key});
    const MvRegister empty;
    const MvRegister& reg = state ? std::get<MvRegister>(*state) : empty;
    auto values = reg.Values();
    const std::string where = "region " + std::to_string(replica.self()) + " register " + key;
    if (std::multiset<std::string>(values.begin(), values.end()) != expected) {
      std::string shown, wanted;
      for (const std::string& v : values)
        shown += " " + v;
      for (const std::string& v : expected)
        wanted += " " + v;
      std::string ops_seen;
      for (const auto& [write, op] : ops)
        ops_seen += " w" + std::to_string(write->id) + "@" + op->dot.ToString() +
                    (op->context_applied ? "ctx" + op->context_applied->ToString() : "");
      Violation(where + " siblings differ from the reference: shows" + shown + "; expected" +
                wanted + "; ops" + ops_seen);
    }
    const std::optional<std::string> want =
        latest ? std::optional<std::string>(latest->second) : std::nullopt;
    if (reg.Latest() != want) Violation(where + " reads another value than the last writer's");
  }
}

}  // namespace meridian
