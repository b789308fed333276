// Checker invariant 12: stocks (bounded counters, src/crdt/bounded_counter.h).
//  - After every step of every region: every stock it holds shows a value >= 0 and every
//    region's rights >= 0 (a region never took or lent units it did not hold, by its view or any
//    later one), computed from the rows, not from the replica's own checks.
//  - At quiescence: the value is the sum of the created adds less the created takes, each op
//    once (a retry's duplicate in a second region counts until its compensation, which counts
//    too), so no acknowledged add or take is lost or doubled. Lends move rights, not units: the
//    value check does not see them, the rights check above does (a right lent twice leaves its
//    lender below zero once both borrowers hold it).
#include <string>

#include "crdt/bounded_counter.h"
#include "sim/checker.h"

namespace meridian {

void Checker::CheckStocks(RegionId region, const Replica& replica) {
  for (auto it = replica.states().lower_bound(StateKey{DataClass::kStock, ""});
       it != replica.states().end(); ++it) {
    const auto& stock = std::get<BoundedCounter>(it->second.state);
    std::string wrong;
    if (stock.Value() < 0) wrong += " value " + std::to_string(stock.Value());
    for (RegionId r = 0; r < regions_; ++r) {
      if (stock.Rights(r) < 0) {
        wrong += " rights of region " + std::to_string(r) + " " + std::to_string(stock.Rights(r));
      }
    }
    if (!wrong.empty()) {
      Violation("region " + std::to_string(region) + " stock " + it->first.key +
                " below zero:" + wrong);
    }
  }
}

void Checker::CheckStockTotals(const Replica& replica, const std::vector<LogicalWrite>& history) {
  for (const auto& [key, ops] : OpsByKey(history, DataClass::kStock)) {
    int64_t expected = 0;
    for (const auto& [write, op] : ops) {
      const auto& body = std::get<StockWrite>(write->write.body);
      const auto units = static_cast<int64_t>(body.amount);
      expected += body.kind == StockOpKind::kAdd ? units : -units;
    }
    for (const Compensation& c : compensations_) {
      if (!c.lost && c.key == StateKey{DataClass::kStock, key}) expected += c.delta;
    }
    const KeyState* state = replica.Find({DataClass::kStock, key});
    const int64_t value = state ? std::get<BoundedCounter>(*state).Value() : 0;
    if (value != expected) {
      Violation("region " + std::to_string(replica.self()) + " stock " + key + " = " +
                std::to_string(value) + ", expected " + std::to_string(expected) +
                " (created adds less takes, compensations included)");
    }
  }
}

}  // namespace meridian
