// (issue 20) Rejoin: a region that lost its disk, and a region down past the oplog retention, come
// back and are brought up to date by streamed state transfer while the others keep serving.
// Loads N counter keys (1 M in full mode, 5 000 in quick mode) into the first region and lets them
// replicate. Then two scenarios on the last region:
//   wipe:            stopped, its data directory deleted, restarted;
//   past retention:  stopped, 1.2 x the regions' oplog retention (--oplog-retention-ops; the lab
//                    runs regions with 250 000 in full mode, 20 000 in quick mode) written to the
//                    first region as increments of the loaded keys, restarted with its data.
// Measured in each: time from the restart to /healthz "ok" (it holds what its peers had); each
// sender's CPU share over that time; a client's read latency at the first region before and
// during; memory (RSS) of sender and receiver. Asserted: the region becomes ok, a state transfer
// brought it up to date, every read at the sender during it answered, and a sample of keys
// spread over the keyspace reads the exact expected count. Timings are reported only.
#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "lab/experiments.h"
#include "lab/lag_scrape.h"

namespace meridian {
namespace {

using Clock = std::chrono::steady_clock;

// The pid of the running `meridian region --region NAME` of this cluster (its config lives in
// the cluster directory), or 0.
int RegionPid(const std::string& cluster_dir, const std::string& name) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string pid = entry.path().filename();
    if (pid.empty() || !std::all_of(pid.begin(), pid.end(), ::isdigit)) continue;
    std::ifstream in(entry.path() / "cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(" region ") != std::string::npos &&
        cmdline.find(cluster_dir) != std::string::npos &&
        cmdline.find("--region " + name + " ") != std::string::npos) {
      return std::stoi(pid);
    }
  }
  return 0;
}

// utime + stime of `pid` in seconds; -1 when it cannot be read.
double CpuSeconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = stat.rfind(')');
  if (pid <= 0 || close == std::string::npos) return -1;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; fields >> field && i <= 15; ++i) {
    if (i == 14) utime = std::stod(field);
    if (i == 15) stime = std::stod(field);
  }
  return (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// VmRSS of `pid` in MiB; -1 when it cannot be read.
double RssMib(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return -1;
}

// What a reader of the sender saw: each answered read's latency, and the failures.
struct Reader {
  std::vector<double> latencies_ms;
  size_t failures = 0;
  std::string first_failure;  // what the first failed read got
};

// What both scenarios share.
struct RejoinRun {
  const LabContext& context;
  ExperimentResult& result;
  size_t keys = 0;
  size_t writers = 0;
  size_t source = 0;
  size_t victim = 0;
  std::string prefix;
  uint64_t outage_writes = 0;  // increments of the loaded keys so far, beyond the first
};

// `count` increments at the source, of key j % keys for j in [0, count), on run.writers threads.
// Returns how many were not answered 200.
size_t Increment(const RejoinRun& run, uint64_t count) {
  std::atomic<uint64_t> next{0};
  std::atomic<size_t> failed{0};
  std::vector<std::thread> threads;
  for (size_t t = 0; t < run.writers; ++t) {
    threads.emplace_back([&] {
      for (uint64_t j = next++; j < count; j = next++) {
        auto reply = LabCall(run.context.region_http[run.source], "POST",
                             "/counter/" + run.prefix + std::to_string(j % run.keys) + "/incr");
        if (!reply.ok() || reply->status != 200) ++failed;
      }
    });
  }
  for (std::thread& t : threads)
    t.join();
  return failed;
}

// Reads keys at the source until `done`.
void ReadUntil(const RejoinRun& run, const std::function<bool()>& done, Reader& reader) {
  for (size_t i = 0; !done(); ++i) {
    auto reply = LabCall(run.context.region_http[run.source], "GET",
                         "/counter/" + run.prefix + std::to_string(i % run.keys), "", {},
                         std::chrono::seconds(2));
    if (!reply.ok() || reply->status != 200) {
      if (reader.failures++ == 0) {
        reader.first_failure =
            reply.ok() ? "HTTP " + std::to_string(reply->status) : reply.status().ToString();
      }
    } else {
      reader.latencies_ms.push_back(reply->latency_ms);
    }
  }
}

// State transfers the regions other than the victim have begun, summed.
double TransfersBegun(const RejoinRun& run) {
  double sum = 0;
  for (size_t r = 0; r < run.context.region_count(); ++r) {
    if (r == run.victim) continue;
    auto begun = ScrapeMetricSum(run.context.region_http[r], "meridian_state_transfers_total");
    if (!begun.ok()) return -1;
    sum += *begun;
  }
  return sum;
}

void RunScenario(RejoinRun& run, bool wipe) {
  const LabContext& context = run.context;
  ExperimentResult& result = run.result;
  const std::string label = wipe ? "wipe: " : "past retention: ";
  const std::string& victim_name = context.region_names[run.victim];

  // Before: the sender's read latency and memory.
  const int sender_pid = RegionPid(context.cluster_dir, context.region_names[run.source]);
  Reader before;
  const auto before_start = Clock::now();
  ReadUntil(
      run, [&] { return SecondsSince(before_start) > 2; }, before);
  result.Metric(label + "sender read p50 before", SampleQuantile(before.latencies_ms, 0.5), "ms");
  result.Metric(label + "sender read p99 before", SampleQuantile(before.latencies_ms, 0.99), "ms");
  result.Metric(label + "sender RSS before", RssMib(sender_pid), "MiB");

  // The loss: its disk, or the ops its peers no longer keep. (A sender may begin the transfer
  // while the victim is still down, once its log drops what the victim lacks.)
  const double transfers_before = TransfersBegun(run);
  auto stopped = LabCall(context.demo_control, "POST", "/regions/" + victim_name + "/stop");
  result.Assert(label + "the victim stopped", stopped.ok() && stopped->status == 200,
                stopped.ok() ? std::to_string(stopped->status) : stopped.status().ToString());
  if (wipe) {
    std::error_code error;
    std::filesystem::remove_all(context.cluster_dir + "/" + victim_name, error);
    result.Assert(label + "its data directory was deleted", !error, error.message());
  } else {
    const uint64_t count = context.oplog_retention_ops + context.oplog_retention_ops / 5;
    const auto start = Clock::now();
    const size_t failed = Increment(run, count);
    run.outage_writes += count - failed;
    result.Metric(label + "writes while it was down", static_cast<double>(count), "writes");
    result.Metric(label + "their rate", count / SecondsSince(start), "writes/s");
    result.Assert(label + "every write while it was down answered 200", failed == 0,
                  std::to_string(failed) + " failed");
  }
  std::vector<int> sender_pids;
  std::vector<double> cpu_start;
  for (size_t r = 0; r < context.region_count(); ++r) {
    if (r == run.victim) continue;
    sender_pids.push_back(RegionPid(context.cluster_dir, context.region_names[r]));
    cpu_start.push_back(CpuSeconds(sender_pids.back()));
  }
  const auto restart_at = Clock::now();
  auto restarted = LabCall(context.demo_control, "POST", "/regions/" + victim_name + "/restart");
  result.Assert(label + "the victim restarted", restarted.ok() && restarted->status == 200,
                restarted.ok() ? std::to_string(restarted->status) : restarted.status().ToString());

  // During: reads at the sender until the victim is ok.
  double ok_s = -1;
  Reader during;
  const auto timeout = std::chrono::seconds(context.quick ? 60 : 1800);
  std::thread reader([&] {
    ReadUntil(
        run, [&] { return ok_s >= 0 || Clock::now() - restart_at > timeout; }, during);
  });
  WaitUntil(
      [&] {
        auto health = LabCall(context.region_http[run.victim], "GET", "/healthz", "", {},
                              std::chrono::seconds(1));
        if (health.ok() && JsonString(health->body, "status") == "ok")
          ok_s = SecondsSince(restart_at);
        return ok_s >= 0;
      },
      timeout);
  reader.join();
  const double transfer_s = SecondsSince(restart_at);
  result.Assert(label + "the victim reported ok", ok_s >= 0,
                "after " + FormatLabNumber(ok_s) + " s");
  result.Metric(label + "restart to ok (holding every key its peers had)", ok_s, "s");
  for (size_t i = 0; i < sender_pids.size(); ++i) {
    const double cpu = CpuSeconds(sender_pids[i]) - cpu_start[i];
    const size_t region = i < run.victim ? i : i + 1;
    result.Metric(label + context.region_names[region] + " CPU share during the catch-up",
                  cpu_start[i] < 0 ? -1 : 100 * cpu / transfer_s, "% of a core");
  }
  const double transfers = TransfersBegun(run) - transfers_before;
  result.Assert(label + "a state transfer brought it up to date",
                transfers_before >= 0 && transfers >= 1,
                FormatLabNumber(transfers) + " transfers begun");
  result.Metric(label + "sender read p50 during", SampleQuantile(during.latencies_ms, 0.5), "ms");
  result.Metric(label + "sender read p99 during", SampleQuantile(during.latencies_ms, 0.99), "ms");
  result.Assert(label + "every read at the sender during the catch-up answered 200",
                during.failures == 0,
                std::to_string(during.failures) + " of " +
                    std::to_string(during.failures + during.latencies_ms.size()) + " failed" +
                    (during.failures > 0 ? " (first: " + during.first_failure + ")" : ""));
  result.Metric(label + "sender RSS after", RssMib(sender_pid), "MiB");
  result.Metric(label + "receiver RSS after", RssMib(RegionPid(context.cluster_dir, victim_name)),
                "MiB");

  // Every key arrived with its exact count (a sample spread over the keyspace).
  size_t wrong = 0, sampled = 0;
  for (size_t i = 0; i < run.keys; i += std::max<size_t>(1, run.keys / 500), ++sampled) {
    const double expected = 1.0 + static_cast<double>(run.outage_writes / run.keys) +
                            (i < run.outage_writes % run.keys ? 1 : 0);
    auto reply = LabCall(context.region_http[run.victim], "GET",
                         "/counter/" + run.prefix + std::to_string(i));
    if (!reply.ok() || reply->status != 200 || JsonField(reply->body, "value") != expected) ++wrong;
  }
  result.Assert(label + "the rejoined region holds every sampled key with its count", wrong == 0,
                std::to_string(wrong) + " of " + std::to_string(sampled) + " missing or wrong");
}

}  // namespace

ExperimentResult RunRejoinExperiment(const LabContext& context) {
  ExperimentResult result = context.NewResult(
      "rejoin", "A region that lost its disk, and one down past the oplog retention, rejoin");
  RejoinRun run{.context = context,
                .result = result,
                .keys = context.quick ? size_t{5'000} : size_t{1'000'000},
                .writers = context.quick ? size_t{8} : size_t{32},
                .source = 0,
                .victim = context.region_count() - 1,
                .prefix = "rejoin-" + std::to_string(context.seed) + "-",
                .outage_writes = 0};

  const auto load_start = Clock::now();
  const size_t failed = Increment(run, run.keys);
  result.Metric("keys loaded", static_cast<double>(run.keys), "keys");
  result.Metric("load rate", run.keys / SecondsSince(load_start), "writes/s");
  result.Assert("every load write answered 200", failed == 0, std::to_string(failed) + " failed");
  auto drained = WaitForDrain(context, std::chrono::seconds(context.quick ? 60 : 900));
  result.Assert("the load replicated everywhere", drained.ok(),
                drained.ok() ? "backlog 0" : drained.status().ToString());

  RunScenario(run, /*wipe=*/true);
  RunScenario(run, /*wipe=*/false);
  result.notes.push_back(
      "The victim is " + context.region_names[run.victim] + "; every region's oplog keeps " +
      FormatLabNumber(static_cast<double>(context.oplog_retention_ops)) +
      " ops. The victim's keys arrive by state transfer from a region that holds them (the "
      "others' transfers are declined while one runs); it reports ok once it holds what its "
      "peers had when it first heard from them and its handles re-synced. CPU share is the "
      "process's utime+stime over the time from restart to ok.");
  return result;
}

}  // namespace meridian
