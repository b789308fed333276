#include "gen/runner.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <thread>

#include "gen/shard.h"
#include "net/endpoint.h"

namespace meridian {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// Threads beyond this would only fight over the machine's few cores and the server's.
constexpr int kThreadsMax = 64;

void PrintProgress(const GenOptions& options, RunShared& shared, uint64_t start_ns,
                   uint64_t* last_completed) {
  const uint64_t now = SteadyNowNs();
  const double t = now > start_ns ? static_cast<double>(now - start_ns) / 1e9 : 0;
  const uint64_t sent = shared.sent.load(), completed = shared.completed.load();
  // The step the schedule is in; a conflict run has one step, at the pair rate.
  size_t step = 0;
  double step_end_s = 0;
  const std::vector<RateStep>& steps = options.workload.steps;
  for (; step + 1 < steps.size(); ++step) {
    step_end_s += static_cast<double>(steps[step].duration_ns) / 1e9;
    if (t < step_end_s) break;
  }
  char step_text[96];
  if (steps.size() > 1) {
    std::snprintf(step_text, sizeof(step_text), " step %zu/%zu target %.0f/s", step + 1,
                  steps.size(), steps[step].ops_per_s);
  } else {
    std::snprintf(step_text, sizeof(step_text), " target %.0f/s", steps[0].ops_per_s);
  }
  char line[320];
  std::snprintf(line, sizeof(line),
                "gen %6.1fs%s: sent %llu, done %llu (%llu/s), ok %llu, failed %llu, dropped %llu, "
                "in flight %llu\n",
                t, step_text, (unsigned long long)sent, (unsigned long long)completed,
                (unsigned long long)(completed - *last_completed),
                (unsigned long long)shared.ok.load(), (unsigned long long)shared.failed.load(),
                (unsigned long long)shared.dropped.load(),
                (unsigned long long)(sent - std::min(sent, completed)));
  *last_completed = completed;
  *options.progress << line << std::flush;
}

}  // namespace

void GenStop::Request() {
  // The callback runs under mu_, so OnRequest() replacing it waits until it has returned.
  MutexLock lock(&mu_);
  if (requested_) return;
  requested_ = true;
  if (callback_) callback_();
}

bool GenStop::requested() const {
  MutexLock lock(&mu_);
  return requested_;
}

void GenStop::OnRequest(std::function<void()> callback) {
  {
    MutexLock lock(&mu_);
    if (!requested_) {
      callback_ = std::move(callback);
      return;
    }
  }
  callback();
}

void OpStats::Merge(const OpStats& other) {
  planned += other.planned;
  sent += other.sent;
  ok += other.ok;
  dropped += other.dropped;
  for (const auto& [key, count] : other.failures)
    failures[key] += count;
  latency.Merge(other.latency);
}

uint64_t OpStats::failed() const {
  uint64_t total = 0;
  for (const auto& [key, count] : failures)
    total += count;
  return total;
}

Status ValidateGenOptions(const GenOptions& options) {
  if (options.targets.empty()) {
    return InvalidArgument(
        "no targets: give --target NAME=HOST:PORT, --config or --endpoints-file");
  }
  for (size_t i = 0; i < options.targets.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (options.targets[i].name == options.targets[j].name) {
        return InvalidArgument("target region '" + options.targets[i].name + "' given twice");
      }
    }
  }
  if (options.threads < 1 || options.threads > kThreadsMax) {
    return InvalidArgument("threads must be in 1.." + std::to_string(kThreadsMax));
  }
  if (options.connections_per_target < 1) return InvalidArgument("connections must be at least 1");
  if (options.in_flight_max < 1) return InvalidArgument("max in flight must be at least 1");
  if (options.timeout_ms < 1) return InvalidArgument("timeout must be at least 1 ms");
  if (options.warmup_ns > 0 && options.workload.conflict_pairs > 0) {
    return InvalidArgument("a warm-up does not go with conflict pairs");
  }
  if (options.protocol == GenProtocol::kResp && (options.session || options.idempotency_keys)) {
    return InvalidArgument("session tokens and idempotency keys are HTTP headers: not over RESP");
  }
  if (!(options.ramp_stop_drop_share >= 0 && options.ramp_stop_drop_share <= 1)) {
    return InvalidArgument("ramp stop drop share must be in [0, 1]");
  }
  return ValidateWorkload(PlannedWorkload(options));
}

namespace {

struct Dialed {
  std::vector<tcp::endpoint> endpoints;  // one per pool: each target, or the router alone
  std::vector<std::string> hosts;        // the Host header for each
};

Result<Dialed> ResolveTargets(const GenOptions& options) {
  std::vector<std::string> addresses;
  if (options.router.empty()) {
    for (const GenTarget& target : options.targets)
      addresses.push_back(target.address);
  } else {
    addresses.push_back(options.router);
  }
  Dialed out;
  for (const std::string& address : addresses) {
    Result<tcp::endpoint> endpoint = ResolveEndpoint(address);
    if (!endpoint.ok()) return endpoint.status();
    out.endpoints.push_back(*endpoint);
    out.hosts.push_back(address);
  }
  return out;
}

// The first finished step of a ramp that dropped more than the allowed share of its ops, or -1.
int RampStepThatFellBehind(const GenOptions& options, RunShared& shared, uint64_t start_ns) {
  const std::vector<RateStep>& steps = options.workload.steps;
  if (steps.size() < 2 || options.ramp_stop_drop_share >= 1) return -1;
  const uint64_t now = SteadyNowNs();
  uint64_t step_end_ns = start_ns;
  for (size_t i = 0; i < steps.size(); ++i) {
    step_end_ns += steps[i].duration_ns;
    if (step_end_ns > now) return -1;  // this step and the later ones are not over yet
    const auto planned = static_cast<double>(shared.step_planned[i].load());
    const auto dropped = static_cast<double>(shared.step_dropped[i].load());
    if (planned > 0 && dropped > options.ramp_stop_drop_share * planned) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

struct WaitOutcome {
  bool stopped_early = false;
  int ramp_stopped_after = -1;
};

// Waits for every shard to finish, printing progress once a second, and stops the shards early
// on a GenStop request or when a ramp step fell behind.
WaitOutcome WaitForShards(const GenOptions& options, RunShared& shared,
                          const std::vector<std::unique_ptr<Shard>>& shards, uint64_t start_ns) {
  if (options.stop != nullptr) {
    options.stop->OnRequest([&shared] {
      MutexLock lock(&shared.done_mu);
      shared.stop_requested = true;
      shared.done_cv.SignalAll();
    });
  }
  WaitOutcome outcome;
  {
    uint64_t last_completed = 0;
    MutexLock lock(&shared.done_mu);
    while (shared.shards_done < options.threads) {
      // Up to a second for every shard to finish or a stop to act on; `woke` false: a progress
      // tick.
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
      bool woke = true;
      while (shared.shards_done != options.threads &&
             !(shared.stop_requested && !outcome.stopped_early)) {
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline) {
          woke = false;
          break;
        }
        shared.done_cv.WaitFor(&shared.done_mu, deadline - now);
      }
      if (!outcome.stopped_early) {
        outcome.ramp_stopped_after = RampStepThatFellBehind(options, shared, start_ns);
        if (shared.stop_requested || outcome.ramp_stopped_after >= 0) {
          outcome.stopped_early = true;
          for (const auto& shard : shards)
            shard->Stop();
        }
      }
      if (!woke && options.progress != nullptr) {
        PrintProgress(options, shared, start_ns, &last_completed);
      }
    }
  }
  // The hook captured `shared`; a Request() from now on must not reach it.
  if (options.stop != nullptr) options.stop->OnRequest([] {});
  return outcome;
}

// Takes the warm-up step (step 0) out of a report, as if the schedule had started after it.
void DropWarmup(uint64_t warmup_ns, GenReport& report) {
  std::map<OpStatsKey, OpStats> measured;
  for (auto& [key, stats] : report.ops) {
    const auto [step, op_class, kind] = key;
    if (step > 0) measured[OpStatsKey{step - 1, op_class, kind}] = std::move(stats);
  }
  report.ops = std::move(measured);
  report.steps.erase(report.steps.begin());
  report.elapsed_s = std::max(0.0, report.elapsed_s - static_cast<double>(warmup_ns) / 1e9);
  if (report.ramp_stopped_after >= 0) --report.ramp_stopped_after;  // -1: the warm-up fell behind
}

}  // namespace

WorkloadSpec PlannedWorkload(const GenOptions& options) {
  WorkloadSpec spec = options.workload;
  spec.regions = static_cast<uint32_t>(options.targets.size());
  if (options.warmup_ns > 0 && !spec.steps.empty()) {
    spec.steps.insert(spec.steps.begin(),
                      RateStep{spec.steps.front().ops_per_s, options.warmup_ns});
  }
  return spec;
}

Result<GenReport> RunGen(GenOptions options) {
  MERIDIAN_RETURN_IF_ERROR(ValidateGenOptions(options));
  options.workload = PlannedWorkload(options);
  Result<Dialed> dialed = ResolveTargets(options);
  if (!dialed.ok()) return dialed.status();
  RunShared shared;
  shared.step_planned = std::vector<std::atomic<uint64_t>>(options.workload.steps.size());
  shared.step_dropped = std::vector<std::atomic<uint64_t>>(options.workload.steps.size());
  if (!options.history_path.empty()) {
    // No shard runs yet: the lock is uncontended, taken because the analysis cannot know that.
    MutexLock lock(&shared.history_mu);
    shared.history = std::fopen(options.history_path.c_str(), "w");
    if (shared.history == nullptr) {
      return Unavailable("cannot open history file '" + options.history_path + "'");
    }
    shared.history_enabled = true;
  }
  const HistoryClock clock;
  // A short head start so every shard is running before intended time 0.
  const uint64_t start_ns = SteadyNowNs() + 20'000'000;
  std::vector<std::unique_ptr<Shard>> shards;
  for (int i = 0; i < options.threads; ++i) {
    shards.push_back(std::make_unique<Shard>(options, dialed->endpoints, dialed->hosts,
                                             static_cast<uint32_t>(i), start_ns, clock, &shared));
  }
  std::vector<std::thread> threads;
  for (auto& shard : shards) {
    threads.emplace_back([&shared, shard = shard.get()] {
      shard->Run();
      MutexLock lock(&shared.done_mu);
      ++shared.shards_done;
      shared.done_cv.SignalAll();
    });
  }
  GenReport report;
  const WaitOutcome waited = WaitForShards(options, shared, shards, start_ns);
  report.stopped_early = waited.stopped_early;
  report.ramp_stopped_after = waited.ramp_stopped_after;
  for (auto& thread : threads)
    thread.join();
  if (shared.history_enabled) {
    MutexLock lock(&shared.history_mu);  // every shard has ended: uncontended
    const bool write_failed = std::ferror(shared.history) != 0;
    if (std::fclose(shared.history) != 0 || write_failed) {
      report.history_error = "writing '" + options.history_path + "' failed: history incomplete";
    }
  }
  report.seed = options.workload.seed;
  report.steps = options.workload.steps;
  report.conflict_mode = options.workload.conflict_pairs > 0;
  const uint64_t end_ns = std::max(shared.last_complete_ns.load(), start_ns);
  report.elapsed_s = static_cast<double>(end_ns - start_ns) / 1e9;
  for (auto& shard : shards) {
    for (const auto& [key, stats] : shard->stats())
      report.ops[key].Merge(stats);
  }
  if (options.warmup_ns > 0) DropWarmup(options.warmup_ns, report);
  return report;
}

}  // namespace meridian
