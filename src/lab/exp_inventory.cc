// (issue 16) Inventory that cannot be oversold, on live regions: one `stock` key (a bounded
// counter, docs/replication.md section 2), stocked unevenly, sold by buyers in every
// region at once, with the third region cut off from the others for the middle third of the run.
//   Two thirds of the stock is added in the first region, a sixth in each other. Buyers take
//   1-3 units at a time, one take per 100 ms each, until the run ends; a monitor reads the stock in
//   every region all along. Asserted: no region ever shows a value below zero; the units sold
//   (takes answered 200) never exceed the units added; after the heal every region shows the same
//   value, equal to what was added less what was sold (less at most the units of takes whose answer
//   was lost). Figures: units sold and takes refused (409) per region, before, during and after the
//   cut; the share of takes that waited for rights (answered after more than kWaitedMs, which no
//   take served from the rights already here needs: borrowing costs a round trip of at least 80 ms)
//   and their latency beside the immediate ones.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/random.h"
#include "lab/experiments.h"
#include "lab/wan_links.h"

namespace meridian {

namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr double kWaitedMs = 40;  // below the smallest RTT (80 ms): a take above it borrowed
constexpr int kBuyersPerRegion = 2;
// One take per buyer every 100 ms: about 60 takes (120 units) a second over the cluster, so the
// stock sells out in the last phase and the regions' own rights run out at different times.
constexpr milliseconds kTakeEvery(100);

enum Phase { kBefore = 0, kCut = 1, kAfter = 2 };
const char* const kPhaseNames[] = {"before the cut", "during the cut", "after the heal"};

struct RegionTally {
  int64_t sold_units = 0;
  uint64_t sold = 0;     // takes answered 200
  uint64_t refused = 0;  // takes answered 409
  uint64_t refused_by_phase[3] = {0, 0, 0};
  uint64_t sold_by_phase[3] = {0, 0, 0};
  uint64_t waited = 0;        // sold after more than kWaitedMs
  int64_t unknown_units = 0;  // takes whose answer was lost or was neither 200 nor 409
  uint64_t errors = 0;
  std::vector<double> immediate_ms, waited_ms;
};

// The stock's value in `region`, or nullopt when the read failed.
std::optional<int64_t> ValueIn(const LabContext& context, size_t region, const std::string& key) {
  auto read = LabCall(context.region_http[region], "GET", "/stock/" + key);
  if (!read.ok() || read->status != 200) return std::nullopt;
  const nlohmann::json value = JsonField(read->body, "value");
  if (!value.is_number_integer()) return std::nullopt;
  return value.get<int64_t>();
}

void Buy(const LabContext& context, size_t region, const std::string& key, uint64_t seed,
         const std::atomic<int>& phase, const std::atomic<bool>& stop, RegionTally& tally,
         std::mutex& mu) {
  Random random(seed);
  while (!stop.load()) {
    const int units = 1 + static_cast<int>(random.Uniform(3));
    const int at = phase.load();
    std::this_thread::sleep_for(kTakeEvery);
    auto took = LabCall(context.region_http[region], "POST", "/stock/" + key,
                        "{\"take\": " + std::to_string(units) + "}");
    std::lock_guard<std::mutex> lock(mu);
    if (!took.ok() || (took->status != 200 && took->status != 409)) {
      tally.unknown_units += units;  // it may or may not have taken effect
      ++tally.errors;
      continue;
    }
    if (took->status == 409) {
      ++tally.refused;
      ++tally.refused_by_phase[at];
      continue;
    }
    ++tally.sold;
    ++tally.sold_by_phase[at];
    tally.sold_units += units;
    if (took->latency_ms > kWaitedMs) {
      ++tally.waited;
      tally.waited_ms.push_back(took->latency_ms);
    } else {
      tally.immediate_ms.push_back(took->latency_ms);
    }
  }
}

// What the phases of one run share: the stock's key, the phase length, what was added, and what
// the buyers and the monitor saw.
struct InventoryRun {
  const LabContext& context;
  std::string key;
  milliseconds phase_length;
  int64_t added_units = 0;
  std::vector<RegionTally> tallies = {};
  int64_t lowest_seen = 0;  // the lowest value the monitor read in any region
  uint64_t monitor_reads = 0;
};

// Most of the stock in the first region, a sixth in each other: the others sell theirs first,
// then borrow (the lends and waits measured below), the third not while it is cut off. Waits
// until every region shows it all.
void Stock(InventoryRun& run, int64_t total, ExperimentResult& result) {
  const LabContext& context = run.context;
  const size_t regions = context.region_count();
  bool stocked = true;
  for (size_t r = 0; r < regions; ++r) {
    const int64_t units =
        r == 0 ? total - total / 6 * static_cast<int64_t>(regions - 1) : total / 6;
    auto added = LabCall(context.region_http[r], "POST", "/stock/" + run.key,
                         "{\"add\": " + std::to_string(units) + "}");
    stocked = stocked && added.ok() && added->status == 200;
    run.added_units += units;
  }
  result.Assert("every region's add answered 200", stocked, "");
  const bool everywhere = WaitUntil(
      [&] {
        for (size_t r = 0; r < regions; ++r) {
          if (ValueIn(context, r, run.key) != run.added_units) return false;
        }
        return true;
      },
      milliseconds(20'000));
  result.Assert("every region shows the stock before the sale", everywhere, "");
}

// The sale: buyers in every region and a monitor reading every region, for a phase, a phase with
// the third region cut off from the first two, and a phase after the heal.
void SellThroughACut(InventoryRun& run, ExperimentResult& result) {
  const LabContext& context = run.context;
  const size_t regions = context.region_count();
  std::atomic<int> phase{kBefore};
  std::atomic<bool> stop{false};
  std::mutex mu;
  run.tallies.resize(regions);
  run.lowest_seen = run.added_units;
  std::thread monitor([&] {
    while (!stop.load()) {
      for (size_t r = 0; r < regions; ++r) {
        if (auto value = ValueIn(context, r, run.key)) {
          std::lock_guard<std::mutex> lock(mu);
          run.lowest_seen = std::min(run.lowest_seen, *value);
          ++run.monitor_reads;
        }
      }
      std::this_thread::sleep_for(milliseconds(50));
    }
  });
  std::vector<std::thread> buyers;
  for (size_t r = 0; r < regions; ++r) {
    for (int b = 0; b < kBuyersPerRegion; ++b) {
      buyers.emplace_back(Buy, std::cref(context), r, run.key,
                          context.seed * 1000 + r * 10 + static_cast<uint64_t>(b), std::cref(phase),
                          std::cref(stop), std::ref(run.tallies[r]), std::ref(mu));
    }
  }
  const std::string third = context.region_names[2];
  std::this_thread::sleep_for(run.phase_length);
  int cut_failures = 0;
  for (size_t r = 0; r < 2; ++r)
    cut_failures += SetWanLinks(context, context.region_names[r], third, false);
  phase = kCut;
  std::this_thread::sleep_for(run.phase_length);
  int heal_failures = 0;
  for (size_t r = 0; r < 2; ++r)
    heal_failures += SetWanLinks(context, context.region_names[r], third, true);
  phase = kAfter;
  std::this_thread::sleep_for(run.phase_length);
  stop = true;
  for (std::thread& t : buyers)
    t.join();
  monitor.join();
  result.Assert(third + " is cut off from the others and healed",
                cut_failures == 0 && heal_failures == 0,
                std::to_string(cut_failures + heal_failures) + " WAN calls failed");
}

// Every region's tally, reported per region (units sold, takes sold and refused per phase) and
// summed into one.
RegionTally SumTallies(const InventoryRun& run, ExperimentResult& result) {
  RegionTally sum;
  for (size_t r = 0; r < run.tallies.size(); ++r) {
    const RegionTally& t = run.tallies[r];
    sum.sold_units += t.sold_units;
    sum.unknown_units += t.unknown_units;
    sum.sold += t.sold;
    sum.refused += t.refused;
    sum.waited += t.waited;
    sum.errors += t.errors;
    sum.immediate_ms.insert(sum.immediate_ms.end(), t.immediate_ms.begin(), t.immediate_ms.end());
    sum.waited_ms.insert(sum.waited_ms.end(), t.waited_ms.begin(), t.waited_ms.end());
    const std::string name = run.context.region_names[r];
    result.Metric(name + ": units sold", static_cast<double>(t.sold_units), "units");
    for (int p = kBefore; p <= kAfter; ++p) {
      result.Metric(name + ": takes sold " + kPhaseNames[p],
                    static_cast<double>(t.sold_by_phase[p]), "takes");
      result.Metric(name + ": takes refused (409) " + kPhaseNames[p],
                    static_cast<double>(t.refused_by_phase[p]), "takes");
    }
  }
  return sum;
}

// The value every region shows once they agree; nullopt when they did not within 30 s.
std::optional<int64_t> AwaitFinalValue(const InventoryRun& run) {
  std::optional<int64_t> final_value;
  const bool converged = WaitUntil(
      [&] {
        std::optional<int64_t> first = ValueIn(run.context, 0, run.key);
        if (!first) return false;
        for (size_t r = 1; r < run.context.region_count(); ++r) {
          if (ValueIn(run.context, r, run.key) != first) return false;
        }
        final_value = first;
        return true;
      },
      milliseconds(30'000));
  return converged ? final_value : std::nullopt;
}

// The totals, and the assertions: never below zero, never oversold, every take answered, and
// the final value what was added less what was sold.
void ReportSale(const InventoryRun& run, const RegionTally& sum,
                const std::optional<int64_t>& final_value, ExperimentResult& result) {
  const int64_t added_units = run.added_units;
  result.Metric("units added", static_cast<double>(added_units), "units");
  result.Metric("units sold", static_cast<double>(sum.sold_units), "units");
  result.Metric("takes sold", static_cast<double>(sum.sold), "takes");
  result.Metric("takes refused (409)", static_cast<double>(sum.refused), "takes");
  result.Metric("takes that waited for rights (answered after > 40 ms)",
                static_cast<double>(sum.waited), "takes");
  result.Metric("take latency, served from rights here, median",
                SampleQuantile(sum.immediate_ms, 0.5), "ms");
  result.Metric("take latency, after waiting for rights, median",
                SampleQuantile(sum.waited_ms, 0.5), "ms");
  result.Metric("take latency, after waiting for rights, p99", SampleQuantile(sum.waited_ms, 0.99),
                "ms");
  result.Metric("lowest value any region showed", static_cast<double>(run.lowest_seen), "units");
  result.Metric("stock reads by the monitor", static_cast<double>(run.monitor_reads), "reads");
  result.Metric("final value", final_value ? static_cast<double>(*final_value) : -1, "units");

  result.Assert("no region ever showed a value below zero", run.lowest_seen >= 0,
                "lowest " + std::to_string(run.lowest_seen) + " in " +
                    std::to_string(run.monitor_reads) + " reads");
  result.Assert("never oversold: units sold <= units added", sum.sold_units <= added_units,
                std::to_string(sum.sold_units) + " sold of " + std::to_string(added_units));
  result.Assert("every take answered 200 or 409", sum.errors == 0,
                std::to_string(sum.errors) + " lost or other answers");
  const bool exact = final_value && *final_value <= added_units - sum.sold_units &&
                     *final_value >= added_units - sum.sold_units - sum.unknown_units;
  result.Assert("after the heal every region shows added less sold", final_value && exact,
                final_value ? std::to_string(*final_value) + " shown, " +
                                  std::to_string(added_units - sum.sold_units) + " expected"
                            : std::string("regions disagree"));
}

}  // namespace

// The phases in order, each a function above: stock, sell through a cut, sum, await, report.
ExperimentResult RunInventoryExperiment(const LabContext& context) {
  ExperimentResult result = context.NewResult(
      "inventory", "inventory: a stock sold in every region, one region cut off, never oversold");
  if (context.region_count() < 3) {
    result.Assert("the cluster has three regions", false,
                  std::to_string(context.region_count()) + " regions");
    return result;
  }
  InventoryRun run{.context = context,
                   .key = "inventory-" + std::to_string(context.seed),
                   .phase_length = milliseconds(context.quick ? 1500 : 6000)};
  Stock(run, context.quick ? 360 : 1500, result);
  SellThroughACut(run, result);
  const RegionTally sum = SumTallies(run, result);
  ReportSale(run, sum, AwaitFinalValue(run), result);
  const std::string& third = context.region_names[2];
  result.notes.push_back(
      std::to_string(kBuyersPerRegion) + " buyers per region take 1-3 units at a time for " +
      std::to_string(3 * run.phase_length.count() / 1000.0).substr(0, 4) + " s; " + third +
      " is cut off from the other regions (replication and client proxies) for the middle third. "
      "A take beyond the rights its region holds borrows from a reachable region; cut off, " +
      third +
      " sells only what it holds rights to and refuses the rest with 409, although stock "
      "may remain elsewhere: the price of never overselling without a global lock.");
  return result;
}

}  // namespace meridian
