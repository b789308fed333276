// (6) Partition: cut every link between the first two regions (60 s in full mode) at the WAN
// emulator (the toxiproxy API `meridian chaos partition` uses), write the same profile keys and
// one counter on both sides, heal, and time until every region agrees on every key.
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "lab/experiments.h"

namespace meridian {

namespace {

constexpr auto kConvergeTimeout = std::chrono::seconds(30);

std::string ProxyTarget(const std::string& proxy) {
  std::string out = "/proxies/";
  for (char c : proxy)
    out += c == '>' ? std::string("%3E") : std::string(1, c);
  return out;
}

// Cuts (enabled = false) or restores every proxy between a and b: replication both ways and
// the router's client paths. Returns how many of the four calls failed.
int SetLinks(const LabContext& context, const std::string& a, const std::string& b, bool enabled) {
  int failed = 0;
  const std::string admin = context.config.wan.admin.ToString();
  for (const std::string& proxy :
       {a + "->" + b, b + "->" + a, "client-" + a + "->" + b, "client-" + b + "->" + a}) {
    auto reply =
        LabCall(admin, "POST", ProxyTarget(proxy), nlohmann::json{{"enabled", enabled}}.dump());
    if (!reply.ok() || reply->status != 200) ++failed;
  }
  return failed;
}

// How long each cut lasts: the 60 s in full mode.
std::chrono::milliseconds CutHold(const LabContext& context) {
  return context.quick ? std::chrono::seconds(2) : std::chrono::seconds(60);
}

int64_t ReadCounter(const std::string& address, const std::string& key) {
  auto reply = LabCall(address, "GET", "/counter/" + key);
  if (!reply.ok() || reply->status != 200 || !reply->body.is_object()) return -1;
  const nlohmann::json value = JsonField(reply->body, "value");
  return value.is_number_integer() ? value.get<int64_t>() : -1;
}

// One cut: disables the links between every pair in `cuts`, writes `keys` profile keys and a
// counter on regions 0 and 1, holds, measures divergence, heals, and waits for agreement; the
// share of keys agreed over time since the heal becomes a series of `plot`.
void RunCut(const LabContext& context, const std::string& label,
            const std::vector<std::pair<std::string, std::string>>& cuts, ExperimentResult& result,
            LabPlot& plot) {
  const int keys = context.quick ? 20 : 200;
  const std::chrono::milliseconds hold = CutHold(context);
  std::string slug = label;  // keys are one path segment: no spaces
  for (char& c : slug)
    c = c == ' ' ? '_' : c;
  const std::string prefix = "part-" + slug + "-" + std::to_string(context.seed) + "-";
  const std::string counter_key = prefix + "counter";
  int cut_failures = 0;
  for (const auto& [a, b] : cuts)
    cut_failures += SetLinks(context, a, b, /*enabled=*/false);
  result.Assert(label + ": cut via the WAN admin API", cut_failures == 0,
                std::to_string(cut_failures) + " proxy calls failed");
  const auto cut_at = std::chrono::steady_clock::now();
  int64_t acked_sum = 0;
  uint64_t write_failures = 0;
  for (int i = 0; i < keys; ++i) {
    for (size_t side : {size_t{0}, size_t{1}}) {
      const std::string value = context.region_names[side] + "-" + std::to_string(i);
      auto put = LabCall(context.region_http[side], "PUT", "/profile/" + prefix + std::to_string(i),
                         nlohmann::json{{"f0", value}}.dump());
      if (!put.ok() || put->status != 200) ++write_failures;
      auto incr = LabCall(context.region_http[side], "POST", "/counter/" + counter_key + "/incr");
      if (incr.ok() && incr->status == 200)
        ++acked_sum;
      else
        ++write_failures;
    }
    // Spread the writes over the whole cut: both sides keep serving conflicting writes.
    std::this_thread::sleep_until(cut_at + hold * (i + 1) / keys);  // hold is in ms
  }
  const auto remaining = hold - (std::chrono::steady_clock::now() - cut_at);
  if (remaining > std::chrono::seconds(0)) std::this_thread::sleep_for(remaining);
  // Divergence at heal time: keys on which regions 0 and 1 disagree.
  int diverged = 0;
  int read_failures = 0;
  for (int i = 0; i < keys; ++i) {
    auto va = LabCall(context.region_http[0], "GET", "/profile/" + prefix + std::to_string(i));
    auto vb = LabCall(context.region_http[1], "GET", "/profile/" + prefix + std::to_string(i));
    if (!va.ok() || !vb.ok() || va->status != 200 || vb->status != 200) {
      ++read_failures;
    } else if (JsonField(va->body, "value") != JsonField(vb->body, "value")) {
      ++diverged;
    }
  }
  const std::string& a = context.region_names[0];
  const std::string& b = context.region_names[1];
  result.Metric(label + ": cut held", SecondsSince(cut_at), "s");
  result.Metric(label + ": keys written on both " + a + " and " + b, keys, "keys");
  result.Metric(label + ": writes refused or failed during the cut",
                static_cast<double>(write_failures), "ops");
  result.Metric(label + ": local reads refused or failed at heal time", read_failures, "reads");
  result.Metric(label + ": keys on which " + a + " and " + b + " disagreed at heal time", diverged,
                "keys");

  int heal_failures = 0;
  for (const auto& [x, y] : cuts)
    heal_failures += SetLinks(context, x, y, /*enabled=*/true);
  result.Assert(label + ": heal", heal_failures == 0,
                std::to_string(heal_failures) + " proxy calls failed");
  const auto healed_at = std::chrono::steady_clock::now();
  // Every round reads every key not yet agreed; once all regions hold one value after the heal
  // (no more writes), they keep it. Each round is a point of the convergence timeline.
  std::vector<bool> key_agreed(static_cast<size_t>(keys), false);
  int agreed = 0;
  PlotSeries timeline{label, {}};
  const bool converged = WaitUntil(
      [&] {
        for (int i = 0; i < keys; ++i) {
          if (key_agreed[static_cast<size_t>(i)]) continue;
          auto values = ReadProfileEverywhere(context, prefix + std::to_string(i));
          if (AllAgree(values) && !values.front().empty()) {
            key_agreed[static_cast<size_t>(i)] = true;
            ++agreed;
          }
        }
        timeline.points.push_back(
            {SecondsSince(healed_at), static_cast<double>(agreed) / static_cast<double>(keys)});
        if (agreed < keys) return false;
        for (const std::string& address : context.region_http) {
          if (ReadCounter(address, counter_key) != acked_sum) return false;
        }
        return true;
      },
      kConvergeTimeout);
  plot.series.push_back(std::move(timeline));
  result.Metric(label + ": heal to every key agreed in every region", SecondsSince(healed_at), "s");
  result.Assert(label + ": every key agreed in every region after heal", agreed == keys,
                std::to_string(agreed) + " of " + std::to_string(keys) + " keys agreed");
  result.Assert(label + ": counter == acknowledged increments from both sides, every region",
                converged, "expected " + std::to_string(acked_sum));
}

}  // namespace

ExperimentResult RunPartitionExperiment(const LabContext& context) {
  ExperimentResult result =
      context.NewResult("partition", "partition, conflicting writes on both sides, heal, converge");
  const std::string& a = context.region_names[0];
  const std::string& b = context.region_names[1];
  LabPlot plot{.file = "partition_convergence",
               .title = "Convergence after heal: fraction of conflicting keys agreed everywhere",
               .x_label = "seconds since the heal",
               .y_label = "fraction of keys with one value in every region",
               .style = "steps"};
  RunCut(context, a + "-" + b, {{a, b}}, result, plot);
  std::vector<std::pair<std::string, std::string>> isolate;
  for (size_t r = 1; r < context.region_count(); ++r)
    isolate.push_back({a, context.region_names[r]});
  RunCut(context, a + " isolated", isolate, result, plot);
  result.plots.push_back(std::move(plot));
  result.notes.push_back(
      "Each cut holds " + FormatLabNumber(static_cast<double>(CutHold(context).count()) / 1000) +
      " s, with the writes (one key on both sides, then the next) spread evenly over it. "
      "Cuts disable the four WAN proxies of a pair (replication both ways, router client paths), "
      "as `meridian chaos partition X Y` does. First only " +
      a + "-" + b +
      " (other regions stay "
      "connected to both sides, so replication may still relay through them: the divergence "
      "count shows whether it does), then " +
      a + " cut from every other region.");
  return result;
}

}  // namespace meridian
