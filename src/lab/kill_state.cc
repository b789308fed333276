#include "lab/kill_state.h"

#include <atomic>
#include <thread>

namespace meridian {

namespace {

constexpr auto kReadTimeout = std::chrono::seconds(2);
// A strong read costs a cross-region round trip: eight readers keep a quick run's check to
// about a second without loading the cluster.
constexpr size_t kHandleReaders = 8;

bool Counts(const WriteRecord& w, KillClass kind, int before_phase) {
  return w.kind == kind && (w.acked || w.retry_acked) &&
         (before_phase < 0 || w.phase < before_phase);
}

}  // namespace

std::vector<std::string> ProfileKeys(const std::vector<WriteRecord>& writes) {
  std::set<std::string> keys;
  for (const WriteRecord& w : writes) {
    if (w.kind == KillClass::kProfile) keys.insert(w.target);
  }
  return {keys.begin(), keys.end()};
}

KillRegionState ReadKillState(const std::string& address, const KillPlan& plan,
                              const std::vector<std::string>& profile_keys) {
  KillRegionState state;
  auto counter = LabCall(address, "GET", "/counter/" + plan.counter_key, "", {}, kReadTimeout);
  auto tags = LabCall(address, "GET", "/tags/" + plan.tags_key, "", {}, kReadTimeout);
  if (!counter.ok() || counter->status != 200 || !tags.ok() || tags->status != 200) return state;
  const nlohmann::json counter_value = JsonField(counter->body, "value");
  const nlohmann::json tags_value = JsonField(tags->body, "value");
  if (!counter_value.is_number_integer() || !tags_value.is_array()) return state;
  state.counter = counter_value.get<int64_t>();
  for (const nlohmann::json& member : tags_value) {
    if (member.is_string()) state.tags.insert(member.get<std::string>());
  }
  for (const std::string& key : profile_keys) {
    auto profile = LabCall(address, "GET", "/profile/" + key, "", {}, kReadTimeout);
    if (!profile.ok() || profile->status != 200) return state;
    const nlohmann::json value = JsonField(profile->body, "value");
    if (!value.is_object()) return state;
    state.profiles[key] = value;
  }
  state.read_ok = true;
  return state;
}

size_t MissingAcked(const std::vector<WriteRecord>& writes, KillClass kind,
                    const KillRegionState& state, int before_phase) {
  size_t missing = 0;
  for (const WriteRecord& w : writes) {
    if (!Counts(w, kind, before_phase)) continue;
    if (kind == KillClass::kTags) {
      missing += state.tags.count(w.item) == 0 ? 1 : 0;
    } else if (kind == KillClass::kProfile) {
      auto it = state.profiles.find(w.target);
      const bool held =
          it != state.profiles.end() && JsonString(it->second, w.item) == w.idempotency_key;
      missing += held ? 0 : 1;
    }
  }
  return missing;
}

size_t HandlesNotHeld(const std::string& address, const std::vector<WriteRecord>& writes,
                      const std::string& owner, int before_phase) {
  std::vector<const WriteRecord*> claims;
  for (const WriteRecord& w : writes) {
    if (Counts(w, KillClass::kHandle, before_phase)) claims.push_back(&w);
  }
  std::atomic<size_t> next{0};
  std::atomic<size_t> not_held{0};
  {
    std::vector<std::jthread> readers;
    for (size_t t = 0; t < kHandleReaders; ++t) {
      readers.emplace_back([&] {
        for (size_t i = next++; i < claims.size(); i = next++) {
          auto reply = LabCall(address, "GET", "/handle/" + claims[i]->target, "", {},
                               std::chrono::seconds(5));
          const bool held =
              reply.ok() && reply->status == 200 && JsonString(reply->body, "owner") == owner;
          if (!held) ++not_held;
        }
      });
    }
  }  // joined
  return not_held.load();
}

}  // namespace meridian
