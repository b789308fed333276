// (5 + 8) Kill a region under live load, then fail back. Clients located in the victim region
// write counter increments and tag adds through the router, each with its own Idempotency-Key;
// the victim is SIGKILLed mid-load through the supervisor's control API (router RTO: kill to the
// first write acknowledged by another region), restarted (failback: restart to /healthz "ok" and
// to its counter equal to the others'), and every unacknowledged write is retried with its key.
// Asserted: zero lost and zero double-applied increments, every acknowledged member everywhere,
// all regions identical. Timings are reported only.
#include <algorithm>
#include <atomic>
#include <functional>
#include <set>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "lab/experiments.h"

namespace meridian {

namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kWriteTimeout = std::chrono::seconds(3);
constexpr auto kPacing = std::chrono::milliseconds(10);  // per client thread
constexpr int kRetryAttempts = 3;

enum Phase : int { kBefore = 0, kOutage = 1, kAfter = 2 };
constexpr const char* kPhaseNames[] = {"before the kill", "during the outage", "after failback"};

struct WriteRecord {
  bool counter = false;  // else a tag add
  std::string idempotency_key;
  std::string member;  // tag adds only
  int phase = kBefore;
  double done_s = 0;  // since the experiment's start
  bool acked = false;
  std::string served_by;
  std::string failure;       // why it was not acknowledged: "HTTP 503" or the transport error
  bool retry_acked = false;  // acknowledged by a retry after the restart
};

struct RegionState {
  int64_t counter = 0;
  std::set<std::string> tags;
  bool read_ok = false;
  bool operator==(const RegionState& other) const {
    return counter == other.counter && tags == other.tags;
  }
};

RegionState ReadState(const std::string& address, const std::string& counter_key,
                      const std::string& tags_key) {
  RegionState state;
  auto counter =
      LabCall(address, "GET", "/counter/" + counter_key, "", {}, std::chrono::seconds(2));
  auto tags = LabCall(address, "GET", "/tags/" + tags_key, "", {}, std::chrono::seconds(2));
  if (!counter.ok() || counter->status != 200 || !tags.ok() || tags->status != 200) return state;
  const nlohmann::json counter_value = JsonField(counter->body, "value");
  const nlohmann::json tags_value = JsonField(tags->body, "value");
  if (!counter_value.is_number_integer() || !tags_value.is_array()) return state;
  state.counter = counter_value.get<int64_t>();
  for (const nlohmann::json& member : tags_value) {
    if (member.is_string()) state.tags.insert(member.get<std::string>());
  }
  state.read_ok = true;
  return state;
}

std::string HealthStatus(const std::string& address) {
  auto reply = LabCall(address, "GET", "/healthz", "", {}, std::chrono::seconds(1));
  if (!reply.ok() || reply->status != 200) return "";
  return JsonString(reply->body, "status");
}

struct KillPlan {
  std::string router;
  std::string victim;
  std::string counter_key;
  std::string tags_key;
  Clock::time_point start;
};

// Sends one write through the router as a client located in the victim region.
void SendWrite(const KillPlan& plan, WriteRecord& record) {
  LabHeaders headers = {{"X-Client-Region", plan.victim},
                        {"Idempotency-Key", record.idempotency_key}};
  auto reply = record.counter
                   ? LabCall(plan.router, "POST", "/counter/" + plan.counter_key + "/incr", "",
                             std::move(headers), kWriteTimeout)
                   : LabCall(plan.router, "POST", "/tags/" + plan.tags_key,
                             nlohmann::json{{"add", {record.member}}}.dump(), std::move(headers),
                             kWriteTimeout);
  record.done_s = SecondsSince(plan.start);
  record.acked = reply.ok() && reply->status == 200;
  record.served_by = reply.ok() ? LabHeader(*reply, "X-Meridian-Region") : "";
  if (!reply.ok())
    record.failure = reply.status().ToString();
  else if (reply->status != 200)
    record.failure = "HTTP " + std::to_string(reply->status) + " " + reply->body.dump();
}

// One client thread: paced writes of one class until stopped, recorded in `out`.
void ClientLoop(const std::stop_token& stop, const KillPlan& plan, bool counter,
                const std::string& prefix, const std::atomic<int>& phase,
                std::vector<WriteRecord>& out) {
  auto next = Clock::now();
  while (!stop.stop_requested()) {
    WriteRecord record;
    record.counter = counter;
    const std::string index = std::to_string(out.size());
    record.idempotency_key = prefix + (counter ? "c" : "t") + index;
    record.member = counter ? "" : record.idempotency_key;  // unique across load sessions
    record.phase = phase.load();
    SendWrite(plan, record);
    out.push_back(std::move(record));
    next = std::max(next + kPacing, Clock::now());
    std::this_thread::sleep_until(next);
  }
}

// Runs both client threads while `during` runs on this thread; joins them before returning.
void UnderLoad(const KillPlan& plan, const std::string& prefix, const std::atomic<int>& phase,
               std::vector<WriteRecord>& writes, const std::function<void()>& during) {
  std::vector<WriteRecord> counters;
  std::vector<WriteRecord> tags;
  {
    std::jthread counter_client([&](const std::stop_token& stop) {
      ClientLoop(stop, plan, /*counter=*/true, prefix, phase, counters);
    });
    std::jthread tag_client([&](const std::stop_token& stop) {
      ClientLoop(stop, plan, /*counter=*/false, prefix, phase, tags);
    });
    during();
  }  // jthreads request stop and join
  writes.insert(writes.end(), counters.begin(), counters.end());
  writes.insert(writes.end(), tags.begin(), tags.end());
}

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

}  // namespace

ExperimentResult RunKillExperiment(const LabContext& context) {
  ExperimentResult result;
  result.name = "kill";
  result.title = "kill a region under live load: router RTO, RPO per class, failback";
  result.seed = context.seed;
  result.command = context.ReproduceCommand("kill");
  const size_t victim_id = 1;
  const std::string victim = context.region_names[victim_id];
  const std::string& victim_http = context.region_http[victim_id];
  const auto before = context.quick ? std::chrono::milliseconds(2500) : std::chrono::seconds(20);
  const auto outage = context.quick ? std::chrono::milliseconds(2000) : std::chrono::seconds(20);
  const auto after = context.quick ? std::chrono::milliseconds(1500) : std::chrono::seconds(20);
  const auto settle = context.quick ? std::chrono::seconds(15) : std::chrono::seconds(60);

  KillPlan plan;
  plan.router = context.config.router.http.ToString();
  plan.victim = victim;
  plan.counter_key = "kill-counter-" + std::to_string(context.seed);
  plan.tags_key = "kill-tags-" + std::to_string(context.seed);
  plan.start = Clock::now();
  const std::string prefix = "lab-kill-" + std::to_string(context.seed) + "-";
  std::atomic<int> phase{kBefore};
  std::vector<WriteRecord> writes;
  RestartGuard guard(context, victim);
  double kill_s = 0;
  bool killed = false;

  // The router must route the victim's clients home before the load starts (right after the
  // cluster starts, or after an earlier experiment's cuts, its probes may not have said so yet).
  const bool routed_home = WaitUntil(
      [&] {
        auto reply = LabCall(plan.router, "GET", "/counter/" + plan.counter_key, "",
                             {{"X-Client-Region", victim}}, std::chrono::seconds(2));
        return reply.ok() && reply->status == 200 &&
               LabHeader(*reply, "X-Meridian-Region") == victim;
      },
      settle);
  if (!routed_home) {
    result.notes.push_back("The router did not route clients in " + victim + " to " + victim +
                           " before the load started.");
  }
  plan.start = Clock::now();

  // Before and during the outage: one load, the kill in the middle of it.
  UnderLoad(plan, prefix, phase, writes, [&] {
    std::this_thread::sleep_for(before);
    kill_s = SecondsSince(plan.start);
    guard.Arm();
    auto reply = LabCall(context.demo_control, "POST", "/regions/" + victim + "/kill");
    killed = reply.ok() && reply->status == 200;
    phase = kOutage;
    std::this_thread::sleep_for(outage);
  });
  result.Assert("kill " + victim + " via the supervisor's control API", killed, "");

  // What the survivors hold while the victim is down: acknowledged writes only on the victim.
  std::vector<size_t> survivors;
  for (size_t r = 0; r < context.region_count(); ++r) {
    if (r != victim_id) survivors.push_back(r);
  }
  RegionState survivor_state;
  const bool survivors_agreed = WaitUntil(
      [&] {
        std::vector<RegionState> states;
        for (size_t r : survivors)
          states.push_back(ReadState(context.region_http[r], plan.counter_key, plan.tags_key));
        for (const RegionState& s : states) {
          if (!s.read_ok || !(s == states.front())) return false;
        }
        survivor_state = states.front();
        return true;
      },
      std::chrono::seconds(3));
  int64_t acked_so_far = 0;
  size_t stranded_members = 0;
  for (const WriteRecord& w : writes) {
    if (!w.acked) continue;
    if (w.counter)
      ++acked_so_far;
    else if (survivor_state.tags.count(w.member) == 0)
      ++stranded_members;
  }
  const int64_t stranded_increments = std::max<int64_t>(0, acked_so_far - survivor_state.counter);

  // Failback: restart, then time /healthz "ok" and the counters agreeing everywhere (no load).
  const auto restart_at = Clock::now();
  const bool restarted = guard.Restart();
  result.Assert("restart " + victim + " via the supervisor's control API", restarted, "");
  // Both conditions are polled together, each timed when first seen.
  double healthy_s = -1;
  double caught_up_s = -1;
  WaitUntil(
      [&] {
        if (healthy_s < 0 && HealthStatus(victim_http) == "ok")
          healthy_s = SecondsSince(restart_at);
        if (caught_up_s < 0) {
          int64_t first = -1;
          bool equal = true;
          for (const std::string& address : context.region_http) {
            const RegionState s = ReadState(address, plan.counter_key, plan.tags_key);
            equal = equal && s.read_ok && (first < 0 || s.counter == first);
            if (!equal) break;
            first = s.counter;
          }
          if (equal) caught_up_s = SecondsSince(restart_at);
        }
        return healthy_s >= 0 && caught_up_s >= 0;
      },
      settle);
  const bool healthy = healthy_s >= 0;
  const bool counters_equal = caught_up_s >= 0;
  result.Assert(victim + " reports /healthz \"ok\" again after the restart", healthy,
                healthy ? "" : "not ok after " + FormatLabNumber(SecondsSince(restart_at)) + " s");

  // After failback: more load, to see the router send the victim's clients home again.
  phase = kAfter;
  UnderLoad(plan, prefix + "after-", phase, writes, [&] { std::this_thread::sleep_for(after); });

  // Retry every unacknowledged write with its own key, and replay (same key) every write that
  // failed over to another region around the kill: the victim may hold it too, and neither
  // the retry nor the replay may apply it a second time.
  size_t retried = 0;
  size_t retries_acked = 0;
  size_t replayed = 0;
  size_t replays_acked = 0;
  for (WriteRecord& w : writes) {
    const bool failed_over = w.acked && w.served_by != victim && w.phase != kAfter;
    if (w.acked && !failed_over) continue;
    (w.acked ? replayed : retried) += 1;
    bool acked = false;
    for (int attempt = 0; attempt < kRetryAttempts && !acked; ++attempt) {
      WriteRecord again = w;
      SendWrite(plan, again);
      acked = again.acked;
      if (!acked) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    if (w.acked) {
      replays_acked += acked ? 1 : 0;
    } else {
      w.retry_acked = acked;
      retries_acked += acked ? 1 : 0;
    }
  }

  // Figures per phase, and the router RTO.
  size_t counter_writes = 0;
  int64_t expected = 0;   // distinct increments acknowledged (first try or retry)
  int64_t ambiguous = 0;  // never acknowledged: may or may not have applied
  std::set<std::string> acked_members;
  size_t acked_by_victim[3] = {0, 0, 0};
  size_t acked_by_others[3] = {0, 0, 0};
  size_t not_acked[3] = {0, 0, 0};
  double rto_ms = -1;
  for (const WriteRecord& w : writes) {
    if (w.counter) {
      ++counter_writes;
      if (w.acked || w.retry_acked)
        ++expected;
      else
        ++ambiguous;
    } else if (w.acked || w.retry_acked) {
      acked_members.insert(w.member);
    }
    if (!w.acked) {
      if (not_acked[w.phase] == 0) {
        result.notes.push_back(std::string("First unacknowledged write ") + kPhaseNames[w.phase] +
                               " (at " + FormatLabNumber(w.done_s) + " s, kill at " +
                               FormatLabNumber(kill_s) + " s): " + w.failure.substr(0, 300));
      }
      ++not_acked[w.phase];
    } else if (w.served_by == victim) {
      ++acked_by_victim[w.phase];
    } else {
      ++acked_by_others[w.phase];
      if (w.done_s >= kill_s && w.phase != kAfter) {
        const double ms = (w.done_s - kill_s) * 1000.0;
        rto_ms = rto_ms < 0 ? ms : std::min(rto_ms, ms);
      }
    }
  }
  result.Metric("counter increments sent", static_cast<double>(counter_writes), "ops");
  result.Metric("tag adds sent", static_cast<double>(writes.size() - counter_writes), "ops");
  for (int p = kBefore; p <= kAfter; ++p) {
    const std::string label = kPhaseNames[p];
    result.Metric(label + ": acknowledged, served by " + victim,
                  static_cast<double>(acked_by_victim[p]), "ops");
    result.Metric(label + ": acknowledged, served by another region",
                  static_cast<double>(acked_by_others[p]), "ops");
    result.Metric(label + ": not acknowledged", static_cast<double>(not_acked[p]), "ops");
  }
  if (rto_ms >= 0)
    result.Metric("router RTO: kill to the first write acknowledged by another region", rto_ms,
                  "ms");
  if (survivors_agreed) {
    result.Metric("acknowledged increments only on " + victim + " during the outage",
                  static_cast<double>(stranded_increments), "ops");
    result.Metric("acknowledged members only on " + victim + " during the outage",
                  static_cast<double>(stranded_members), "members");
  } else {
    result.notes.push_back(
        "The surviving regions did not agree within 3 s during the outage, "
        "so what only the victim held is not shown.");
  }
  if (healthy) result.Metric("failback: restart to " + victim + " /healthz ok", healthy_s, "s");
  if (counters_equal) {
    result.Metric("failback: restart to " + victim + "'s counter equal to the others'", caught_up_s,
                  "s");
  }
  result.Metric("unacknowledged writes retried with their key", static_cast<double>(retried),
                "ops");
  result.Metric("retries acknowledged", static_cast<double>(retries_acked), "ops");
  result.Metric("failed-over writes replayed with their key", static_cast<double>(replayed), "ops");
  result.Metric("replays acknowledged", static_cast<double>(replays_acked), "ops");

  // Final state: every region holds exactly the acknowledged writes.
  const auto converge_at = Clock::now();
  std::vector<RegionState> states;
  const bool converged = WaitUntil(
      [&] {
        states.clear();
        for (const std::string& address : context.region_http) {
          states.push_back(ReadState(address, plan.counter_key, plan.tags_key));
          const RegionState& s = states.back();
          if (!s.read_ok || s.counter < expected || s.counter > expected + ambiguous) return false;
          if (!std::includes(s.tags.begin(), s.tags.end(), acked_members.begin(),
                             acked_members.end()))
            return false;
          if (!(s == states.front())) return false;
        }
        return true;
      },
      settle);
  result.Metric("retries to every region holding every acknowledged write",
                SecondsSince(converge_at), "s");
  int64_t lost = 0;
  int64_t doubled = 0;
  size_t missing_members = 0;
  bool identical = !states.empty();
  std::string counters;
  for (size_t r = 0; r < states.size(); ++r) {
    const RegionState& s = states[r];
    counters += context.region_names[r] + "=" + std::to_string(s.counter) + " ";
    identical = identical && s.read_ok && s == states.front();
    lost = std::max(lost, expected - s.counter);
    doubled = std::max(doubled, s.counter - (expected + ambiguous));
    size_t missing = 0;
    for (const std::string& member : acked_members)
      missing += s.tags.count(member) == 0 ? 1 : 0;
    missing_members = std::max(missing_members, missing);
  }
  result.Metric("RPO counter: acknowledged increments missing after recovery",
                static_cast<double>(lost), "ops");
  result.Metric("RPO tags: acknowledged members missing after recovery",
                static_cast<double>(missing_members), "members");
  result.Metric("double-applied increments after replay", static_cast<double>(doubled), "ops");
  result.Metric("writes never acknowledged, even on retry", static_cast<double>(ambiguous), "ops");
  result.Assert(
      "every region's counter == distinct acknowledged increments (zero lost, zero doubled)",
      converged && lost <= 0 && doubled <= 0,
      counters + "expected " + std::to_string(expected) +
          (ambiguous > 0 ? " (+ up to " + std::to_string(ambiguous) + " never acknowledged)"
                         : std::string()));
  result.Assert("every acknowledged member in every region (tags RPO 0)", missing_members == 0,
                std::to_string(missing_members) + " of " + std::to_string(acked_members.size()) +
                    " missing in the worst region");
  result.Assert("all regions identical after failback", identical && converged, counters);
  if (!counters_equal)
    result.notes.push_back("The counters did not agree within the bound after the restart.");
  result.notes.push_back(
      "Two client threads (counter increments, tag adds; one every 10 ms each) located in " +
      victim +
      " write through the router, each write with its own Idempotency-Key. The RTO runs from "
      "just before the kill request to the first write acknowledged by another region. The "
      "\"only on " +
      victim +
      " during the outage\" figures are what async replication risks if the region never came "
      "back (the class's model RPO); after the restart they must all be back. After failback, "
      "unacknowledged writes are retried and writes another region acknowledged before failback "
      "are replayed (same key, up to 3 attempts each): the counter must count each once.");
  return result;
}

}  // namespace meridian
