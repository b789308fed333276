// The live load of the kill experiment: client threads located in the victim region, one per
// class, each writing through the router with its own Idempotency-Key per write, and a sampler
// of every region's counter for the convergence timeline.
//
// Contract:
//  1. Every write is one WriteRecord; its identity (key, field, member, handle name) derives
//     from its idempotency key, so a retry or replay sends exactly the same request.
//  2. Every request is bounded (kKillWriteTimeout); threads are joined before UnderLoad returns
//     and before a CounterSampler is destroyed.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "base/thread_annotations.h"
#include "lab/lab_context.h"

namespace meridian {

inline constexpr auto kKillWriteTimeout = std::chrono::seconds(3);

enum class KillClass : int { kCounter = 0, kTags = 1, kProfile = 2, kHandle = 3 };
inline constexpr KillClass kKillClasses[] = {KillClass::kCounter, KillClass::kTags,
                                             KillClass::kProfile, KillClass::kHandle};
// "counter", "tags", "profile", "handle": the ledger's class names.
const char* KillClassName(KillClass kind);

enum KillPhase : int { kBefore = 0, kOutage = 1, kAfter = 2 };
inline constexpr const char* kKillPhaseNames[] = {"before the kill", "during the outage",
                                                  "after failback"};

struct KillPlan {
  std::string router;
  std::string victim;        // region name; the clients are located there
  std::string counter_key;   // every increment goes to this counter
  std::string tags_key;      // every add to this set
  std::string profile_key;   // profile writes: profile_key + "-" + (index / fields per key)
  std::string handle_owner;  // every claim names this owner
  std::chrono::steady_clock::time_point start;
};

struct WriteRecord {
  KillClass kind = KillClass::kCounter;
  std::string idempotency_key;
  std::string target;  // the key written: counter, set, profile key or handle name
  std::string item;    // tags: the member; profile: the field (its value is the key itself)
  int phase = kBefore;
  double done_s = 0;  // since plan.start
  bool acked = false;
  std::string served_by;
  std::string failure;       // why it was not acknowledged: "HTTP 503 ..." or the transport error
  bool retry_acked = false;  // acknowledged by a retry after the restart
};

// A record for the index-th write of `kind` in a load session named by `prefix`.
WriteRecord MakeWrite(const KillPlan& plan, KillClass kind, const std::string& prefix,
                      size_t index);

// Sends `record` through the router as a client in the victim region; fills in the outcome.
// A handle claim answered 409 naming our owner counts as acknowledged (an earlier attempt won).
void SendWrite(const KillPlan& plan, WriteRecord& record);

// Runs one client thread per class (paced, kKillClientPacing apart) while `during` runs on this
// thread; joins them and appends their records to `writes` before returning.
void UnderLoad(const KillPlan& plan, const std::string& prefix, const std::atomic<int>& phase,
               std::vector<WriteRecord>& writes, const std::function<void()>& during);

// Samples GET /counter/{key} in every region every `period` on its own thread until destroyed;
// a region that does not answer has no sample at that time.
class CounterSampler {
 public:
  struct Sample {
    double t_s = 0;  // since `start`
    size_t region = 0;
    int64_t value = 0;
  };
  CounterSampler(const LabContext& context, std::string key,
                 std::chrono::steady_clock::time_point start, std::chrono::milliseconds period);
  ~CounterSampler();  // stops and joins
  CounterSampler(const CounterSampler&) = delete;
  CounterSampler& operator=(const CounterSampler&) = delete;
  // Stops sampling and returns every sample taken, in time order.
  std::vector<Sample> Finish() MERIDIAN_EXCLUDES(mu_);

 private:
  void Run() MERIDIAN_EXCLUDES(mu_);
  // Wakes the sampling thread and joins it; a second call finds it joined.
  void Stop() MERIDIAN_EXCLUDES(mu_);

  const LabContext& context_;
  const std::string key_;
  const std::chrono::steady_clock::time_point start_;
  const std::chrono::milliseconds period_;
  Mutex mu_;
  CondVar wake_;  // stopping_ became true
  bool stopping_ MERIDIAN_GUARDED_BY(mu_) = false;
  std::vector<Sample> samples_ MERIDIAN_GUARDED_BY(mu_);
  std::thread thread_;  // last: started once everything above is ready
};

}  // namespace meridian
