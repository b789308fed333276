// (issue 16) sync-rpo: the RPO of the write levels when a region is lost for good, and their
// latency price. The victim is the config's first region (us in deploy/local.yaml).
//   Writers in the victim write distinct profile keys, some threads with ?w=majority and some
//   (paced) with ?w=local, the control. After an open phase (all links up: the latencies are
//   measured there), the victim's replication links to every peer are held at the WAN emulator
//   (one way, victim -> peer) for a short hold while the writers go on: replication lags, as it
//   does when a WAN path stalls. Then the victim is killed (SIGKILL) during the hold and its data
//   directory deleted: whatever only it held is gone.
//   The survivors are then read once they agree (and 3 s on): a write is lost when no survivor
//   holds it.
//   Asserted: every write acknowledged with w=majority is in every survivor (0 lost). Reported:
//   acknowledged and lost writes per level (w=local loses what the hold kept back; 0 is reported
//   as 0), how long before the kill the oldest lost write was acknowledged, and the median and
//   p99 acknowledgement latency per level in the open phase.
//   Finally the victim is restarted on an empty directory and rejoins (asserted ok), so the
//   cluster is whole for the experiments after it.
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "lab/experiments.h"
#include "lab/region_control.h"
#include "lab/wan_links.h"

namespace meridian {

namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

enum class Level { kLocal, kMajority };

const char* LevelName(Level level) {
  return level == Level::kLocal ? "w=local" : "w=majority";
}

// One write a writer sent.
struct SentWrite {
  std::string key;
  Level level = Level::kLocal;
  bool acked = false;  // answered 200
  int status = 0;      // the HTTP status; 0: no answer
  Clock::time_point sent;
  Clock::time_point answered;
  double latency_ms = 0;
};

// The writes of every writer, appended under a lock (a few hundred per second at most).
struct WriteLog {
  std::mutex mu;
  std::vector<SentWrite> writes;
  void Add(SentWrite write) {
    std::lock_guard<std::mutex> lock(mu);
    writes.push_back(std::move(write));
  }
};

// Writes fresh keys at the victim with `level` until `stop`; with a pace > 0, at most one write
// per `pace` (the control's keys stay few enough to read back one by one).
void Write(const LabContext& context, Level level, const std::string& prefix, milliseconds pace,
           const std::atomic<bool>& stop, WriteLog& log) {
  const char* query = level == Level::kLocal ? "?w=local" : "?w=majority";
  for (uint64_t i = 0; !stop; ++i) {
    SentWrite write;
    write.key = prefix + std::to_string(i);
    write.level = level;
    write.sent = Clock::now();
    auto reply = LabCall(context.region_http[0], "PUT", "/profile/" + write.key + query,
                         R"({"f0":"v"})", {}, std::chrono::seconds(5));
    write.answered = Clock::now();
    write.status = reply.ok() ? reply->status : 0;
    write.acked = write.status == 200;
    write.latency_ms = reply.ok() ? reply->latency_ms : 0;
    const Clock::time_point next = write.sent + pace;
    log.Add(std::move(write));
    if (pace.count() > 0) std::this_thread::sleep_until(next);
  }
}

// True when GET /profile/{key} in `region` finds it; nullopt when the read failed.
std::optional<bool> Holds(const LabContext& context, size_t region, const std::string& key) {
  auto reply = LabCall(context.region_http[region], "GET", "/profile/" + key);
  if (!reply.ok() || reply->status != 200) return std::nullopt;
  return JsonField(reply->body, "found") == true;
}

// What the survivors hold of the acknowledged writes, read once they agree.
struct SurvivorTally {
  uint64_t lost = 0;     // held by no survivor
  uint64_t partial = 0;  // held by some survivors only when the wait ended
  uint64_t unread = 0;   // a read failed when the wait ended
  std::vector<const SentWrite*> lost_writes;
};

// Polls the survivors (regions 1..) for `writes` until every survivor answers the same for each
// (a write one survivor holds reaches the others by the mesh) or `timeout` passes. A write held
// by no survivor is read again until `settled` (past the mesh's relay delay, and a survivor's
// causal hold-back of an op whose cause is still on its way) before it counts as lost.
SurvivorTally ReadSurvivors(const LabContext& context, const std::vector<const SentWrite*>& writes,
                            Clock::time_point settled, milliseconds timeout) {
  std::vector<const SentWrite*> pending = writes;
  const auto deadline = Clock::now() + timeout;
  while (true) {
    SurvivorTally tally;
    std::vector<const SentWrite*> again;
    for (const SentWrite* write : pending) {
      size_t holding = 0, read = 0;
      for (size_t r = 1; r < context.region_count(); ++r) {
        const std::optional<bool> holds = Holds(context, r, write->key);
        if (holds.has_value()) ++read;
        if (holds == true) ++holding;
      }
      if (read < context.region_count() - 1) {
        ++tally.unread;
        again.push_back(write);
      } else if (holding == 0) {
        tally.lost_writes.push_back(write);
        again.push_back(write);
      } else if (holding < read) {
        ++tally.partial;
        again.push_back(write);
      }
    }
    tally.lost = tally.lost_writes.size();
    const bool agreed = tally.partial == 0 && tally.unread == 0;
    if ((agreed && Clock::now() >= settled) || Clock::now() >= deadline) return tally;
    pending = std::move(again);
    std::this_thread::sleep_for(milliseconds(200));
  }
}

}  // namespace

ExperimentResult RunSyncRpoExperiment(const LabContext& context) {
  ExperimentResult result = context.NewResult(
      "sync-rpo",
      "write levels: what w=majority and w=local lose with a region, and what they cost");
  if (context.region_count() < 3) {
    result.Assert("the cluster has three regions", false,
                  std::to_string(context.region_count()) + " regions");
    return result;
  }
  const std::string victim = context.region_names[0];
  const milliseconds open_phase(context.quick ? 2000 : 10'000);
  const milliseconds hold(context.quick ? 500 : 1000);
  const size_t majority_writers = context.quick ? 2 : 4;
  const size_t local_writers = 2;
  const milliseconds local_pace(context.quick ? 10 : 5);  // per writer
  const std::string prefix = "sync-rpo-" + std::to_string(context.seed) + "-";

  WriteLog log;
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (size_t t = 0; t < majority_writers; ++t) {
    writers.emplace_back(Write, std::cref(context), Level::kMajority,
                         prefix + "m" + std::to_string(t) + "-", milliseconds(0), std::cref(stop),
                         std::ref(log));
  }
  for (size_t t = 0; t < local_writers; ++t) {
    writers.emplace_back(Write, std::cref(context), Level::kLocal,
                         prefix + "l" + std::to_string(t) + "-", local_pace, std::cref(stop),
                         std::ref(log));
  }
  std::this_thread::sleep_for(open_phase);

  // The hold: the victim's replication towards every peer stops at the emulator.
  const Clock::time_point held_at = Clock::now();
  size_t cut = 0;
  for (size_t r = 1; r < context.region_count(); ++r)
    cut += SetWanProxy(context, victim + "->" + context.region_names[r], false) ? 1 : 0;
  result.Assert("the victim's links to its peers are held", cut == context.region_count() - 1,
                std::to_string(cut) + " of " + std::to_string(context.region_count() - 1) +
                    " held at the WAN emulator");
  std::this_thread::sleep_for(hold);
  // No write starts after the kill: the writes it cuts off are the ones in flight.
  stop = true;
  const Clock::time_point killed_at = Clock::now();
  const bool killed = ControlRegion(context, victim, "kill");
  for (std::thread& writer : writers)
    writer.join();
  result.Assert("the victim was killed (SIGKILL) during the hold", killed, victim);
  std::error_code error;
  std::filesystem::remove_all(context.cluster_dir + "/" + victim, error);
  result.Assert("its data directory was deleted", !error, error ? error.message() : "gone");
  size_t healed = 0;
  for (size_t r = 1; r < context.region_count(); ++r)
    healed += SetWanProxy(context, victim + "->" + context.region_names[r], true) ? 1 : 0;
  result.Assert("the links are enabled again (nothing left to send)",
                healed == context.region_count() - 1, std::to_string(healed) + " enabled");

  const Clock::time_point settled = Clock::now() + milliseconds(3000);

  // Per level: what was acknowledged, when, and what the survivors hold of it.
  for (Level level : {Level::kMajority, Level::kLocal}) {
    const std::string name = LevelName(level);
    std::vector<const SentWrite*> acked;
    std::vector<double> open_latency;
    uint64_t sent = 0, acked_in_hold = 0, refused = 0, timed_out = 0, unanswered = 0;
    for (const SentWrite& write : log.writes) {
      if (write.level != level) continue;
      ++sent;
      refused += write.status == 503 ? 1 : 0;
      timed_out += write.status == 504 ? 1 : 0;
      unanswered += write.status == 0 ? 1 : 0;
      if (!write.acked) continue;
      acked.push_back(&write);
      if (write.answered <= held_at) {
        open_latency.push_back(write.latency_ms);
      } else {
        ++acked_in_hold;
      }
    }
    const SurvivorTally tally = ReadSurvivors(context, acked, settled, milliseconds(30'000));
    result.Metric(name + " writes sent", static_cast<double>(sent), "writes");
    result.Metric(name + " acknowledged", static_cast<double>(acked.size()), "writes");
    result.Metric(name + " acknowledged during the hold", static_cast<double>(acked_in_hold),
                  "writes");
    result.Metric(name + " refused at once (503: too few regions reachable)",
                  static_cast<double>(refused), "writes");
    result.Metric(name + " timed out (504)", static_cast<double>(timed_out), "writes");
    result.Metric(name + " unanswered (in flight at the kill)", static_cast<double>(unanswered),
                  "writes");
    result.Metric(name + " acknowledged and lost", static_cast<double>(tally.lost), "writes");
    result.Metric(name + " ack latency p50 (open phase)", SampleQuantile(open_latency, 0.5), "ms");
    result.Metric(name + " ack latency p99 (open phase)", SampleQuantile(open_latency, 0.99), "ms");
    if (level == Level::kLocal) {
      double oldest_ms = 0;
      for (const SentWrite* write : tally.lost_writes) {
        oldest_ms = std::max(
            oldest_ms,
            std::chrono::duration<double, std::milli>(killed_at - write->answered).count());
      }
      result.Metric("w=local: oldest lost write acknowledged before the kill", oldest_ms, "ms");
    }
    const std::string where = std::to_string(tally.partial) + " in some survivors only, " +
                              std::to_string(tally.unread) + " unreadable";
    result.Assert("the survivors agree on every acknowledged " + name + " write",
                  tally.partial == 0 && tally.unread == 0, where);
    if (level == Level::kMajority) {
      result.Assert("every write acknowledged with w=majority survives the loss", tally.lost == 0,
                    std::to_string(tally.lost) + " of " + std::to_string(acked.size()) + " lost");
    }
  }

  // The cluster whole again for what runs next: the victim on an empty disk.
  const Clock::time_point restart_at = Clock::now();
  const bool restarted = ControlRegion(context, victim, "restart");
  const bool ok = restarted && WaitRegionHealthy(context, 0, std::chrono::seconds(600));
  result.Assert("the victim, restarted on an empty directory, rejoined", ok,
                restarted ? "" : "restart refused");
  result.Metric("victim restart on an empty directory to ok", ok ? SecondsSince(restart_at) : -1,
                "s");
  result.notes.push_back(
      "The victim is " + victim +
      ". Its replication links to every peer are held (one way, at the "
      "WAN emulator) for " +
      std::to_string(hold.count()) +
      " ms before the SIGKILL, so the kill lands while replication lags; w=majority writes in "
      "that window wait (and are not acknowledged), w=local writes are acknowledged at once. A "
      "write is lost when no survivor holds it once the survivors agree, 3 s or more after the "
      "links are enabled again. Latencies are the "
      "client's, on the victim's own machine, over the open phase (" +
      std::to_string(open_phase.count() / 1000) + " s, all links up).");
  return result;
}

}  // namespace meridian
