// The live load of the `residency` experiment: one client thread per region (its location, as
// the router sees it in X-Client-Region), each writing every class through the router, pinned
// keys (under the residency rule's prefix) and unpinned ones in turn.
//
// Contract:
//  1. Every write is one ResidencyWrite whose key and value derive from the seed, the class, the
//     client's region and an index: the same seed sends the same writes, and no two writes share
//     a value. Indexes are fixed-width, so no key or value is a prefix of another (a raw scan
//     counts each on its own).
//  2. Every request is bounded (kResidencyWriteTimeout); threads are joined before
//     RunResidencyLoad returns.
//  3. Pinned writes are made only for the classes the rule covers (`pinned_classes`).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace meridian {

inline constexpr auto kResidencyWriteTimeout = std::chrono::seconds(3);

enum class ResidencyClass : int { kRegister = 0, kProfile = 1, kCounter = 2, kTags = 3 };
inline constexpr ResidencyClass kResidencyClasses[] = {
    ResidencyClass::kRegister, ResidencyClass::kProfile, ResidencyClass::kCounter,
    ResidencyClass::kTags};
// "register", "profile", "counter", "tags": the API's (and the config's) class names.
const char* ResidencyClassName(ResidencyClass kind);

struct ResidencyPlan {
  std::string router;                          // the router's HTTP address
  std::string prefix;                          // the residency rule's key prefix: "gdpr:"
  std::string seed;                            // part of every key and value
  std::vector<std::string> clients;            // client locations: every region
  std::vector<ResidencyClass> pinned_classes;  // the classes the rule covers
  std::chrono::steady_clock::time_point start;
};

struct ResidencyWrite {
  ResidencyClass kind = ResidencyClass::kRegister;
  bool pinned = false;
  std::string client;  // where the client is located
  std::string key;
  std::string field;  // profile only
  std::string value;  // register value, profile field value, tags member; "" for a counter
  int phase = 0;
  double done_s = 0;  // since plan.start
  int status = 0;     // HTTP status; 0 when no answer came
  bool acked = false;
  std::string served_by;  // X-Meridian-Region of the answer
  std::string failure;    // why not acknowledged
};

// The index-th write of `kind` by a client in `client` (contract 1).
ResidencyWrite MakeResidencyWrite(const ResidencyPlan& plan, ResidencyClass kind, bool pinned,
                                  const std::string& client, size_t index);

// Sends `write` through the router as a client in write.client; fills in the outcome.
void SendResidencyWrite(const ResidencyPlan& plan, ResidencyWrite& write);
// The same to any HTTP address (a region directly, or the router); done_s counts from `start`.
void SendResidencyWriteTo(const std::string& address, std::chrono::steady_clock::time_point start,
                          ResidencyWrite& write);

// Runs one client thread per plan.clients entry while `during` runs on this thread, each
// writing every class (pinned where the rule covers it, then unpinned) every kResidencyPacing,
// stamped with `phase` as it is when sent; joins them and appends their records to `writes`.
void RunResidencyLoad(const ResidencyPlan& plan, const std::atomic<int>& phase,
                      std::vector<ResidencyWrite>& writes, const std::function<void()>& during);

}  // namespace meridian
