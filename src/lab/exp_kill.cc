// (5 + 8) Kill a region under live load, then fail back. Clients located in the victim region
// write every class through the router (counter increments, tag adds, profile fields, handle
// claims), each write with its own Idempotency-Key; the victim is SIGKILLed mid-load through the
// supervisor's control API (RTO per class: kill to the first write of that class acknowledged by
// another region), restarted (failback: restart to /healthz "ok", to the replication backlog
// drained, to its counter equal to the others'), and every unacknowledged write is retried with
// its key. Around the kill, members and fields are deleted in survivors and in the victim
// (kill_deletes.h). Asserted: zero lost and zero double-applied increments, every acknowledged
// member, field and claim everywhere, no resurrected delete, all regions identical.
// Timings are reported only.
#include <algorithm>
#include <array>
#include <atomic>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "lab/experiments.h"
#include "lab/kill_deletes.h"
#include "lab/kill_load.h"
#include "lab/kill_state.h"
#include "lab/kill_verify.h"
#include "lab/lag_scrape.h"

namespace meridian {

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kRetryAttempts = 3;
constexpr auto kSamplePeriod = std::chrono::milliseconds(250);
constexpr size_t kClassCount = std::size(kKillClasses);

// Restarts the victim on every path once it was killed (later experiments need it).
class RestartGuard {
 public:
  RestartGuard(const LabContext& context, std::string victim)
      : context_(context), victim_(std::move(victim)) {}
  ~RestartGuard() {
    if (armed_) Restart();
  }
  RestartGuard(const RestartGuard&) = delete;
  RestartGuard& operator=(const RestartGuard&) = delete;
  void Arm() { armed_ = true; }
  // True when the supervisor started it again (or it was already running: 409).
  bool Restart() {
    armed_ = false;
    auto reply = LabCall(context_.demo_control, "POST", "/regions/" + victim_ + "/restart");
    return reply.ok() && (reply->status == 200 || reply->status == 409);
  }

 private:
  const LabContext& context_;
  std::string victim_;
  bool armed_ = false;
};

// Failback times since the restart: /healthz "ok", backlog 0 everywhere, counters equal.
struct Failback {
  double healthy_s = -1;
  double drained_s = -1;
  double counters_equal_s = -1;
};

Failback AwaitFailback(const LabContext& context, size_t victim_id, const KillPlan& plan,
                       std::chrono::milliseconds timeout) {
  Failback times;
  const auto restart_at = Clock::now();
  WaitUntil(
      [&] {
        if (times.healthy_s < 0 && LabHealthStatus(context.region_http[victim_id]) == "ok")
          times.healthy_s = SecondsSince(restart_at);
        if (times.healthy_s >= 0 && times.drained_s < 0) {
          auto scrape = ScrapeCluster(context);
          if (scrape.ok() && scrape->backlog_ops == 0) times.drained_s = SecondsSince(restart_at);
        }
        if (times.counters_equal_s < 0) {
          int64_t first = -1;
          bool equal = true;
          for (const std::string& address : context.region_http) {
            const KillRegionState s = ReadKillState(address, plan, {});
            equal = equal && s.read_ok && (first < 0 || s.counter == first);
            if (!equal) break;
            first = s.counter;
          }
          if (equal) times.counters_equal_s = SecondsSince(restart_at);
        }
        return times.healthy_s >= 0 && times.drained_s >= 0 && times.counters_equal_s >= 0;
      },
      timeout);
  return times;
}

// Retries every unacknowledged write with its own key, and replays (same key) every write that
// failed over to another region around the kill: the victim may hold it too, and neither may
// apply it a second time. Returns {retried, retries acked, replayed, replays acked}.
std::array<size_t, 4> RetryAndReplay(const KillPlan& plan, std::vector<WriteRecord>& writes) {
  std::array<size_t, 4> counts{};
  for (WriteRecord& w : writes) {
    const bool failed_over = w.acked && w.served_by != plan.victim && w.phase != kAfter;
    if (w.acked && !failed_over) continue;
    counts[w.acked ? 2 : 0] += 1;
    bool acked = false;
    for (int attempt = 0; attempt < kRetryAttempts && !acked; ++attempt) {
      WriteRecord again = w;
      SendWrite(plan, again);
      acked = again.acked;
      if (!acked) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    if (w.acked) {
      counts[3] += acked ? 1 : 0;
    } else {
      w.retry_acked = acked;
      counts[1] += acked ? 1 : 0;
    }
  }
  return counts;
}

// Per-phase counts, per-class RTO, and a note on the first failure of each phase.
void ReportPhases(const std::vector<WriteRecord>& writes, const std::string& victim, double kill_s,
                  ExperimentResult& result) {
  size_t by_victim[3] = {0, 0, 0};
  size_t by_others[3] = {0, 0, 0};
  size_t not_acked[3] = {0, 0, 0};
  std::vector<double> rto_ms(kClassCount, -1);
  std::vector<size_t> sent(kClassCount, 0);
  for (const WriteRecord& w : writes) {
    const size_t c = static_cast<size_t>(w.kind);
    ++sent[c];
    if (!w.acked) {
      if (not_acked[w.phase] == 0) {
        result.notes.push_back(std::string("First unacknowledged write ") +
                               kKillPhaseNames[w.phase] + " (" + KillClassName(w.kind) + ", at " +
                               FormatLabNumber(w.done_s) + " s, kill at " +
                               FormatLabNumber(kill_s) + " s): " + w.failure.substr(0, 300));
      }
      ++not_acked[w.phase];
    } else if (w.served_by == victim) {
      ++by_victim[w.phase];
    } else {
      ++by_others[w.phase];
      if (w.done_s >= kill_s && w.phase != kAfter) {
        const double ms = (w.done_s - kill_s) * 1000.0;
        rto_ms[c] = rto_ms[c] < 0 ? ms : std::min(rto_ms[c], ms);
      }
    }
  }
  for (KillClass kind : kKillClasses) {
    result.Metric(std::string(KillClassName(kind)) + " writes sent",
                  static_cast<double>(sent[static_cast<size_t>(kind)]), "ops");
  }
  for (int p = kBefore; p <= kAfter; ++p) {
    const std::string label = kKillPhaseNames[p];
    result.Metric(label + ": acknowledged, served by " + victim, static_cast<double>(by_victim[p]),
                  "ops");
    result.Metric(label + ": acknowledged, served by another region",
                  static_cast<double>(by_others[p]), "ops");
    result.Metric(label + ": not acknowledged", static_cast<double>(not_acked[p]), "ops");
  }
  for (KillClass kind : kKillClasses) {
    const double ms = rto_ms[static_cast<size_t>(kind)];
    if (ms < 0) continue;
    result.Metric(std::string("RTO ") + KillClassName(kind) +
                      ": kill to the first write acknowledged by another region",
                  ms, "ms");
  }
}

// Counters per region over time, with the kill and failback marked.
LabPlot TimelinePlot(const LabContext& context, const std::vector<CounterSampler::Sample>& samples,
                     double kill_s, double restart_s) {
  LabPlot plot{.file = "kill_counters_over_time",
               .title = "Kill and failback: the counter in each region over time",
               .x_label = "seconds since the load started",
               .y_label = "counter value read in the region",
               .style = "points pointsize 0.6"};
  for (size_t r = 0; r < context.region_count(); ++r) {
    PlotSeries series{context.region_names[r], {}};
    for (const CounterSampler::Sample& s : samples) {
      if (s.region == r) series.points.push_back({s.t_s, static_cast<double>(s.value)});
    }
    plot.series.push_back(std::move(series));
  }
  plot.markers = {{kill_s, "kill"}, {restart_s, "restart"}};
  return plot;
}

// What the phases of one run share: who is killed, how long each phase lasts, the plan the
// client threads follow, the phase they tag their writes with, and every write they made.
struct KillRun {
  explicit KillRun(const LabContext& c)
      : context(c),
        victim(c.region_names[victim_id]),
        before(c.quick ? std::chrono::milliseconds(2500) : std::chrono::seconds(20)),
        outage(c.quick ? std::chrono::milliseconds(2000) : std::chrono::seconds(20)),
        after(c.quick ? std::chrono::milliseconds(1500) : std::chrono::seconds(20)),
        settle(c.quick ? std::chrono::seconds(15) : std::chrono::seconds(60)),
        seed(std::to_string(c.seed)) {
    for (size_t r = 0; r < context.region_count(); ++r) {
      if (r != victim_id) survivors.push_back(r);
    }
    plan.router = context.config.router.http.ToString();
    plan.victim = victim;
    plan.counter_key = "kill-counter-" + seed;
    plan.tags_key = "kill-tags-" + seed;
    plan.profile_key = "kill-profile-" + seed;
    plan.handle_owner = "lab-kill-" + seed;
    prefix = "lab-kill-" + seed + "-";
  }

  const LabContext& context;
  const size_t victim_id = 1;
  const std::string victim;
  std::vector<size_t> survivors;
  const std::chrono::milliseconds before, outage, after;
  const std::chrono::seconds settle;
  const std::string seed;
  KillPlan plan;
  std::string prefix;  // of the writes' idempotency keys
  std::atomic<int> phase{kBefore};
  std::vector<WriteRecord> writes;
  double kill_s = 0;  // since plan.start
  double restart_s = 0;
};

// The router must route the victim's clients home before the load starts (right after the
// cluster starts, or after an earlier experiment's cuts, its probes may not have said so yet).
void AwaitRoutedHome(const KillRun& run, ExperimentResult& result) {
  const KillPlan& plan = run.plan;
  const bool routed_home = WaitUntil(
      [&] {
        auto reply = LabCall(plan.router, "GET", "/counter/" + plan.counter_key, "",
                             {{"X-Client-Region", run.victim}}, std::chrono::seconds(2));
        return reply.ok() && reply->status == 200 &&
               LabHeader(*reply, "X-Meridian-Region") == run.victim;
      },
      run.settle);
  if (!routed_home) {
    result.notes.push_back("The router did not route clients in " + run.victim + " to " +
                           run.victim + " before the load started.");
  }
}

// Before and during the outage: one load, the kill in the middle of it (deletes in the victim
// just before it, in a survivor just after, when the delete probe was seeded).
void LoadThroughTheKill(KillRun& run, RestartGuard& guard, DeleteProbe& deletes, bool seeded,
                        ExperimentResult& result) {
  bool killed = false;
  UnderLoad(run.plan, run.prefix, run.phase, run.writes, [&] {
    std::this_thread::sleep_for(run.before);
    if (seeded) deletes.Delete(1, std::chrono::milliseconds(0));
    run.kill_s = SecondsSince(run.plan.start);
    const auto kill_at = Clock::now();
    guard.Arm();
    auto reply = LabCall(run.context.demo_control, "POST", "/regions/" + run.victim + "/kill");
    killed = reply.ok() && reply->status == 200;
    run.phase = kOutage;
    if (seeded) deletes.Delete(2, std::chrono::milliseconds(0));
    std::this_thread::sleep_until(kill_at + run.outage);
  });
  result.Assert("kill " + run.victim + " via the supervisor's control API", killed, "");
}

// Failback: restart, then time /healthz "ok", the backlog drained and the counters equal.
Failback FailBack(KillRun& run, RestartGuard& guard, ExperimentResult& result) {
  run.restart_s = SecondsSince(run.plan.start);
  result.Assert("restart " + run.victim + " via the supervisor's control API", guard.Restart(), "");
  const Failback failback = AwaitFailback(run.context, run.victim_id, run.plan, run.settle);
  result.Assert(run.victim + " reports /healthz \"ok\" again after the restart",
                failback.healthy_s >= 0, "");
  return failback;
}

// The failback times, and the retries and replays (RetryAndReplay's counts).
void ReportFailback(const Failback& failback, const std::array<size_t, 4>& retries,
                    const std::string& victim, ExperimentResult& result) {
  const auto [retried, retries_acked, replayed, replays_acked] = retries;
  if (failback.healthy_s >= 0)
    result.Metric("failback: restart to " + victim + " /healthz ok", failback.healthy_s, "s");
  if (failback.drained_s >= 0) {
    result.Metric("failback: restart to the replication backlog drained everywhere",
                  failback.drained_s, "s");
  }
  if (failback.counters_equal_s >= 0) {
    result.Metric("failback: restart to " + victim + "'s counter equal to the others'",
                  failback.counters_equal_s, "s");
  }
  result.Metric("unacknowledged writes retried with their key", static_cast<double>(retried),
                "ops");
  result.Metric("retries acknowledged", static_cast<double>(retries_acked), "ops");
  result.Metric("failed-over writes replayed with their key", static_cast<double>(replayed), "ops");
  result.Metric("replays acknowledged", static_cast<double>(replays_acked), "ops");
}

// How the load, the RTO and the retries work, and which deletes were made where.
void AddNotes(const KillRun& run, ExperimentResult& result) {
  const std::string& victim = run.victim;
  const LabContext& context = run.context;
  result.notes.push_back(
      "Four client threads (counter increments, tag adds, profile fields, handle claims; one "
      "write every 10 ms each, claims as fast as a majority answers) located in " +
      victim +
      " write through the router, each write with its own Idempotency-Key. RTO per class runs "
      "from just before the kill request to the first write of that class acknowledged by "
      "another region. The \"if " +
      victim +
      " had not returned\" figures are what async replication risks when a region is lost for "
      "good (the class's model RPO); after the restart they must all be back. After failback, "
      "unacknowledged writes are retried and writes another region acknowledged before failback "
      "are replayed (same key, up to 3 attempts each): the counter must count each once.");
  result.notes.push_back(
      "Deletes: 12 tag members, 12 profile fields and 3 whole profiles are written everywhere "
      "first; then 3 members, 2 fields and 1 profile are deleted in " +
      context.region_names[run.survivors[0]] +
      " before the kill (and settle everywhere), as many "
      "in " +
      victim + " just before it is killed, and as many in " +
      context.region_names[run.survivors[1]] +
      " during the outage. None may be back anywhere "
      "after failback.");
}

}  // namespace

// The phases in order; each is a function above. The victim is restarted on every path (guard).
ExperimentResult RunKillExperiment(const LabContext& context) {
  ExperimentResult result = context.NewResult(
      "kill", "kill a region under live load: RTO and RPO per class, failback, deletes");
  KillRun run(context);
  RestartGuard guard(context, run.victim);

  DeleteProbe deletes(context, run.victim_id, run.survivors, "kill-del-" + run.seed + "-");
  std::string seed_detail;
  const bool seeded = deletes.Seed(run.settle, &seed_detail);
  result.Assert("members and fields to delete reach every region before the kill", seeded,
                seed_detail);
  if (seeded) deletes.Delete(0, run.settle);

  AwaitRoutedHome(run, result);
  run.plan.start = Clock::now();
  CounterSampler sampler(context, run.plan.counter_key, run.plan.start, kSamplePeriod);
  LoadThroughTheKill(run, guard, deletes, seeded, result);

  const OutageRpo outage_rpo = MeasureOutageRpo(context, run.plan, run.writes, run.survivors);
  if (auto backlog = ScrapeRegions(context, run.survivors); backlog.ok()) {
    result.Metric("backlog held for " + run.victim + " when it restarted", backlog->backlog_ops,
                  "ops");
  }
  const Failback failback = FailBack(run, guard, result);

  // After failback: more load, to see the router send the victim's clients home again.
  run.phase = kAfter;
  UnderLoad(run.plan, run.prefix + "after-", run.phase, run.writes,
            [&] { std::this_thread::sleep_for(run.after); });
  const std::array<size_t, 4> retries = RetryAndReplay(run.plan, run.writes);

  ReportPhases(run.writes, run.victim, run.kill_s, result);
  ReportOutageRpo(outage_rpo, run.victim, result);
  ReportFailback(failback, retries, run.victim, result);
  VerifyAfterFailback(context, run.plan, run.writes, run.victim_id, run.settle, result);
  if (seeded) deletes.Check(run.settle, result);
  result.plots.push_back(TimelinePlot(context, sampler.Finish(), run.kill_s, run.restart_s));
  AddNotes(run, result);
  return result;
}

}  // namespace meridian
