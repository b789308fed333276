// Checker: the region node's durability and reads (invariants 7-9 of checker.h).
#include <map>
#include <string>
#include <utility>

#include "sim/checker.h"

namespace meridian {
namespace {

std::string Show(PnCounter::Total total) {
  // Totals in the simulation stay far below 2^64.
  return std::to_string(static_cast<uint64_t>(total));
}

}  // namespace

void Checker::OnCrashLostOps(RegionId origin, uint32_t disk, uint64_t first, uint64_t last,
                             bool tail_lost, const std::vector<LogicalWrite*>& history) {
  const bool acks_may_go = tail_lost && wal_sync_ == WalSync::kPeriodic;
  for (LogicalWrite* w : history) {
    for (CreatedOp& op : w->created) {
      if (op.dot.origin != origin || op.disk != disk || op.dot.seq < first || op.dot.seq > last) {
        continue;
      }
      if (!lost_.insert(op.serial).second) continue;  // lost before
      if (!op.acknowledged) continue;
      if (acks_may_go) {
        ++acked_lost_allowed_;
        continue;
      }
      Violation("acknowledged write " + std::to_string(w->id) + " (" + op.dot.ToString() +
                ") was lost when region " + std::to_string(origin) + " " +
                (tail_lost ? "lost power" : "crashed") + " (wal " + WalSyncName(wal_sync_) + ")");
    }
  }
  for (Compensation& c : compensations_) {
    if (c.dot.origin == origin && c.disk == disk && c.dot.seq >= first && c.dot.seq <= last) {
      c.lost = true;
    }
  }
}

void Checker::OnCounterShown(RegionId region, const std::string& key, const PnCounter& shown) {
  auto& per_origin = shown_[region][key];
  for (RegionId r = 0; r < regions_; ++r) {
    auto& [p, n] = per_origin[r];
    p = std::max(p, shown.increments(r));
    n = std::max(n, shown.decrements(r));
  }
}

void Checker::CheckShownSurvived(const Replica& recovered, bool tail_lost) {
  const RegionId region = recovered.self();
  auto shown = std::move(shown_[region]);
  shown_[region].clear();
  if (tail_lost && wal_sync_ == WalSync::kPeriodic) return;  // reads answer once written
  for (const auto& [key, per_origin] : shown) {
    auto state = recovered.Read({DataClass::kCounter, key}).state;
    const PnCounter counter = state ? std::get<PnCounter>(*state) : PnCounter{};
    for (const auto& [origin, totals] : per_origin) {
      if (counter.increments(origin) >= totals.first && counter.decrements(origin) >= totals.second)
        continue;
      Violation("region " + std::to_string(region) + " " + (tail_lost ? "lost power" : "crashed") +
                " and came back with counter " + key + " at +" + Show(counter.increments(origin)) +
                "/-" + Show(counter.decrements(origin)) + " from region " + std::to_string(origin) +
                ", below the +" + Show(totals.first) + "/-" + Show(totals.second) +
                " a read had shown (wal " + WalSyncName(wal_sync_) + ")");
      return;
    }
  }
}

void Checker::CheckCounterCovers(const std::string& what, const std::string& key,
                                 const std::optional<KeyState>& state,
                                 const std::function<bool(const CreatedOp&)>& covers,
                                 const std::vector<LogicalWrite>& history) {
  // Per origin, the increments and decrements of the live ops picked: the totals hold at least
  // these (compensations only add to them), as in CheckReflectsVector.
  std::map<RegionId, std::pair<uint64_t, uint64_t>> floor;
  for (const auto& w : history) {
    if (w.write.target.data_class != DataClass::kCounter || w.write.target.key != key) continue;
    if (std::holds_alternative<KeyDelete>(w.write.body)) continue;  // a delete moves no total
    const int64_t delta = std::get<int64_t>(w.write.body);
    for (const CreatedOp& op : w.created) {
      if (lost_.count(op.serial) > 0 || !covers(op)) continue;
      auto& [p, n] = floor[op.dot.origin];
      (delta > 0 ? p : n) +=
          delta > 0 ? static_cast<uint64_t>(delta) : 0 - static_cast<uint64_t>(delta);
    }
  }
  const PnCounter counter = state ? std::get<PnCounter>(*state) : PnCounter{};
  for (const auto& [origin, totals] : floor) {
    if (counter.increments(origin) >= totals.first && counter.decrements(origin) >= totals.second)
      continue;
    Violation(what + ": counter " + key + " shows +" + Show(counter.increments(origin)) + "/-" +
              Show(counter.decrements(origin)) + " from region " + std::to_string(origin) +
              ", it must show at least +" + std::to_string(totals.first) + "/-" +
              std::to_string(totals.second));
    return;
  }
}

}  // namespace meridian
