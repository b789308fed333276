// (issue 20) Rejoin: a region whose data directory is lost comes back and is brought up to date by
// streamed state transfer while the others keep serving. Loads N counter keys (1 M in full mode,
// 5 000 in quick mode) into the first region, lets them replicate, stops the last region, deletes
// its data directory and restarts it. Measured: the load's rate; time from the restart to
// /healthz "ok" and to holding every key; the senders' CPU share during the transfer; a client's
// read latency at the first region before and during it; memory (RSS) of sender and receiver.
// Asserted: the region becomes ok and holds every key (a sample read back). Timings reported only.
//
// Not covered here: a region down past the oplog retention (1 M ops by default, so it takes more
// than a million writes while it is down); region_rejoin_test covers that path at small scale.
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
};

double Quantile(std::vector<double> values, double q) {
  if (values.empty()) return -1;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<size_t>(q * values.size()))];
}

}  // namespace

ExperimentResult RunRejoinExperiment(const LabContext& context) {
  ExperimentResult result =
      context.NewResult("rejoin", "A region that lost its data directory rejoins");
  const size_t keys = context.quick ? 5'000 : 1'000'000;
  const size_t writers = context.quick ? 8 : 32;
  const size_t source = 0, victim = context.region_count() - 1;
  const std::string& victim_name = context.region_names[victim];
  const std::string prefix = "rejoin-" + std::to_string(context.seed) + "-";

  // 1. Load.
  const auto load_start = Clock::now();
  std::atomic<size_t> next{0}, failed{0};
  std::vector<std::thread> threads;
  for (size_t t = 0; t < writers; ++t) {
    threads.emplace_back([&] {
      for (size_t i = next++; i < keys; i = next++) {
        auto reply = LabCall(context.region_http[source], "POST",
                             "/counter/" + prefix + std::to_string(i) + "/incr");
        if (!reply.ok() || reply->status != 200) ++failed;
      }
    });
  }
  for (std::thread& t : threads)
    t.join();
  const double load_s = SecondsSince(load_start);
  result.Metric("keys loaded", static_cast<double>(keys), "keys");
  result.Metric("load rate", keys / load_s, "writes/s");
  result.Assert("every load write answered 200", failed == 0, std::to_string(failed) + " failed");
  auto drained = WaitForDrain(context, std::chrono::seconds(context.quick ? 60 : 900));
  result.Assert("the load replicated everywhere", drained.ok(),
                drained.ok() ? "backlog 0" : drained.status().ToString());

  // 2. Before: the sender's read latency and memory.
  const int sender_pid = RegionPid(context.cluster_dir, context.region_names[source]);
  auto read_for = [&](const std::function<bool()>& done, Reader& reader) {
    for (size_t i = 0; !done(); ++i) {
      auto reply =
          LabCall(context.region_http[source], "GET",
                  "/counter/" + prefix + std::to_string(i % keys), "", {}, std::chrono::seconds(2));
      if (!reply.ok() || reply->status != 200) {
        ++reader.failures;
      } else {
        reader.latencies_ms.push_back(reply->latency_ms);
      }
    }
  };
  Reader before;
  const auto before_start = Clock::now();
  read_for([&] { return SecondsSince(before_start) > 2; }, before);
  result.Metric("sender read p50 before", Quantile(before.latencies_ms, 0.5), "ms");
  result.Metric("sender read p99 before", Quantile(before.latencies_ms, 0.99), "ms");
  result.Metric("sender RSS before", RssMib(sender_pid), "MiB");

  // 3. Lose the victim's disk and restart it.
  auto stopped = LabCall(context.demo_control, "POST", "/regions/" + victim_name + "/stop");
  result.Assert("the victim stopped", stopped.ok() && stopped->status == 200,
                stopped.ok() ? std::to_string(stopped->status) : stopped.status().ToString());
  std::error_code error;
  std::filesystem::remove_all(context.cluster_dir + "/" + victim_name, error);
  result.Assert("its data directory was deleted", !error, error.message());
  std::vector<int> sender_pids;
  std::vector<double> cpu_start;
  for (size_t r = 0; r < context.region_count(); ++r) {
    if (r == victim) continue;
    sender_pids.push_back(RegionPid(context.cluster_dir, context.region_names[r]));
    cpu_start.push_back(CpuSeconds(sender_pids.back()));
  }
  const auto restart_at = Clock::now();
  auto restarted = LabCall(context.demo_control, "POST", "/regions/" + victim_name + "/restart");
  result.Assert("the victim restarted", restarted.ok() && restarted->status == 200,
                restarted.ok() ? std::to_string(restarted->status) : restarted.status().ToString());

  // 4. During: reads at the sender until the victim is ok.
  double ok_s = -1;
  Reader during;
  const auto timeout = std::chrono::seconds(context.quick ? 60 : 1800);
  std::thread reader(
      [&] { read_for([&] { return ok_s >= 0 || Clock::now() - restart_at > timeout; }, during); });
  WaitUntil(
      [&] {
        auto health = LabCall(context.region_http[victim], "GET", "/healthz", "", {},
                              std::chrono::seconds(1));
        if (health.ok() && JsonString(health->body, "status") == "ok")
          ok_s = SecondsSince(restart_at);
        return ok_s >= 0;
      },
      timeout);
  reader.join();
  const double transfer_s = SecondsSince(restart_at);
  result.Assert("the victim reported ok", ok_s >= 0, "after " + FormatLabNumber(ok_s) + " s");
  result.Metric("restart to ok (holding every key its peers had)", ok_s, "s");
  for (size_t i = 0; i < sender_pids.size(); ++i) {
    const double cpu = CpuSeconds(sender_pids[i]) - cpu_start[i];
    const size_t region = i < victim ? i : i + 1;
    result.Metric(context.region_names[region] + " CPU share during the rejoin",
                  cpu_start[i] < 0 ? -1 : 100 * cpu / transfer_s, "% of a core");
  }
  result.Metric("sender read p50 during", Quantile(during.latencies_ms, 0.5), "ms");
  result.Metric("sender read p99 during", Quantile(during.latencies_ms, 0.99), "ms");
  result.Assert("every read at the sender during the rejoin answered 200", during.failures == 0,
                std::to_string(during.failures) + " of " +
                    std::to_string(during.failures + during.latencies_ms.size()) + " failed");
  result.Metric("sender RSS after", RssMib(sender_pid), "MiB");
  result.Metric("receiver RSS after", RssMib(RegionPid(context.cluster_dir, victim_name)), "MiB");

  // 5. Every key arrived (a sample of them, spread over the keyspace).
  size_t missing = 0, sampled = 0;
  for (size_t i = 0; i < keys; i += std::max<size_t>(1, keys / 500), ++sampled) {
    auto reply =
        LabCall(context.region_http[victim], "GET", "/counter/" + prefix + std::to_string(i));
    if (!reply.ok() || reply->status != 200 || JsonField(reply->body, "value") != 1) ++missing;
  }
  result.Assert("the rejoined region holds every sampled key", missing == 0,
                std::to_string(missing) + " of " + std::to_string(sampled) + " missing");
  result.notes.push_back(
      "The victim's keys arrive by state transfer from a region that holds them (the others' "
      "transfers are declined while one runs); it reports ok once it holds what its peers had "
      "when it first heard from them and its handles re-synced. CPU share is the process's "
      "utime+stime over the time from restart to ok.");
  return result;
}

}  // namespace meridian
