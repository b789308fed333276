#include "lab/kill_load.h"

#include <algorithm>
#include <utility>

namespace meridian {

namespace {

using Clock = std::chrono::steady_clock;

// One write per client thread every 10 ms: ~100 writes/s per class, enough to time the
// failover to a few tens of ms without loading the machine that also runs the cluster.
constexpr auto kKillClientPacing = std::chrono::milliseconds(10);
// Profile writes set one new field each; a key takes this many before the next key starts, so
// no profile grows without bound in a long run.
constexpr size_t kProfileFieldsPerKey = 100;
constexpr auto kSampleTimeout = std::chrono::milliseconds(500);

const char* const kClassLetters[] = {"c", "t", "p", "h"};

// One client thread: paced writes of one class until stopped, recorded in `out`.
void ClientLoop(const std::stop_token& stop, const KillPlan& plan, KillClass kind,
                const std::string& prefix, const std::atomic<int>& phase,
                std::vector<WriteRecord>& out) {
  auto next = Clock::now();
  while (!stop.stop_requested()) {
    WriteRecord record = MakeWrite(plan, kind, prefix, out.size());
    record.phase = phase.load();
    SendWrite(plan, record);
    out.push_back(std::move(record));
    next = std::max(next + kKillClientPacing, Clock::now());
    std::this_thread::sleep_until(next);
  }
}

}  // namespace

const char* KillClassName(KillClass kind) {
  switch (kind) {
    case KillClass::kCounter:
      return "counter";
    case KillClass::kTags:
      return "tags";
    case KillClass::kProfile:
      return "profile";
    case KillClass::kHandle:
      return "handle";
  }
  return "?";
}

WriteRecord MakeWrite(const KillPlan& plan, KillClass kind, const std::string& prefix,
                      size_t index) {
  WriteRecord record;
  record.kind = kind;
  record.idempotency_key = prefix + kClassLetters[static_cast<int>(kind)] + std::to_string(index);
  switch (kind) {
    case KillClass::kCounter:
      record.target = plan.counter_key;
      break;
    case KillClass::kTags:
      record.target = plan.tags_key;
      record.item = record.idempotency_key;  // unique across load sessions
      break;
    case KillClass::kProfile:
      record.target =
          plan.profile_key + "-" + prefix + std::to_string(index / kProfileFieldsPerKey);
      record.item = "f" + std::to_string(index);
      break;
    case KillClass::kHandle:
      record.target = record.idempotency_key;  // a fresh name per claim: [a-z0-9-]
      break;
  }
  return record;
}

void SendWrite(const KillPlan& plan, WriteRecord& record) {
  LabHeaders headers = {{"X-Client-Region", plan.victim},
                        {"Idempotency-Key", record.idempotency_key}};
  Result<LabReply> reply = Unavailable("not sent");
  int ok_status = 200;
  switch (record.kind) {
    case KillClass::kCounter:
      reply = LabCall(plan.router, "POST", "/counter/" + record.target + "/incr", "",
                      std::move(headers), kKillWriteTimeout);
      break;
    case KillClass::kTags:
      reply = LabCall(plan.router, "POST", "/tags/" + record.target,
                      nlohmann::json{{"add", {record.item}}}.dump(), std::move(headers),
                      kKillWriteTimeout);
      break;
    case KillClass::kProfile:
      reply = LabCall(plan.router, "PUT", "/profile/" + record.target,
                      nlohmann::json{{record.item, record.idempotency_key}}.dump(),
                      std::move(headers), kKillWriteTimeout);
      break;
    case KillClass::kHandle:
      ok_status = 201;
      reply = LabCall(plan.router, "PUT", "/handle/" + record.target,
                      nlohmann::json{{"owner", plan.handle_owner}}.dump(), std::move(headers),
                      kKillWriteTimeout);
      break;
  }
  record.done_s = SecondsSince(plan.start);
  record.acked = reply.ok() && (reply->status == ok_status ||
                                (record.kind == KillClass::kHandle && reply->status == 409 &&
                                 JsonString(reply->body, "owner") == plan.handle_owner));
  record.served_by = reply.ok() ? LabHeader(*reply, "X-Meridian-Region") : "";
  record.failure.clear();
  if (!reply.ok()) {
    record.failure = reply.status().ToString();
  } else if (!record.acked) {
    record.failure = "HTTP " + std::to_string(reply->status) + " " + reply->body.dump();
  }
}

void UnderLoad(const KillPlan& plan, const std::string& prefix, const std::atomic<int>& phase,
               std::vector<WriteRecord>& writes, const std::function<void()>& during) {
  std::vector<std::vector<WriteRecord>> per_class(std::size(kKillClasses));
  {
    std::vector<std::jthread> clients;
    for (KillClass kind : kKillClasses) {
      clients.emplace_back([&, kind](const std::stop_token& stop) {
        ClientLoop(stop, plan, kind, prefix, phase, per_class[static_cast<size_t>(kind)]);
      });
    }
    during();
  }  // jthreads request stop and join
  for (auto& records : per_class)
    writes.insert(writes.end(), records.begin(), records.end());
}

CounterSampler::CounterSampler(const LabContext& context, std::string key,
                               std::chrono::steady_clock::time_point start,
                               std::chrono::milliseconds period)
    : context_(context), key_(std::move(key)), start_(start), period_(period), thread_([this] {
        Run();
      }) {}

CounterSampler::~CounterSampler() {
  Stop();
}

void CounterSampler::Stop() {
  {
    MutexLock lock(&mu_);
    stopping_ = true;
  }
  wake_.SignalAll();
  if (thread_.joinable()) thread_.join();
}

std::vector<CounterSampler::Sample> CounterSampler::Finish() {
  Stop();
  MutexLock lock(&mu_);
  return samples_;
}

void CounterSampler::Run() {
  auto next = Clock::now();
  for (;;) {
    {
      MutexLock lock(&mu_);
      if (stopping_) return;
    }
    for (size_t r = 0; r < context_.region_count(); ++r) {
      auto reply =
          LabCall(context_.region_http[r], "GET", "/counter/" + key_, "", {}, kSampleTimeout);
      if (!reply.ok() || reply->status != 200) continue;
      const nlohmann::json value = JsonField(reply->body, "value");
      if (!value.is_number_integer()) continue;
      MutexLock lock(&mu_);
      samples_.push_back({SecondsSince(start_), r, value.get<int64_t>()});
    }
    next += period_;
    // Until the next round is due or Stop() wakes us.
    MutexLock lock(&mu_);
    for (auto now = Clock::now(); !stopping_ && now < next; now = Clock::now()) {
      wake_.WaitFor(&mu_, next - now);
    }
  }
}

}  // namespace meridian
