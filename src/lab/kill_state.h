// What a region holds of the kill experiment's writes, and which acknowledged writes it lacks.
//
// Contract: every read is bounded (a few seconds per request); a region that cannot be read
// has read_ok == false and is never taken to hold anything. Handle reads are strong (a majority
// round trip each), so HandlesNotHeld spreads them over a few threads, joined before it returns.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "lab/kill_load.h"

namespace meridian {

struct KillRegionState {
  bool read_ok = false;
  int64_t counter = 0;
  std::set<std::string> tags;
  std::map<std::string, nlohmann::json> profiles;  // profile key -> its value object

  bool operator==(const KillRegionState& other) const {
    return counter == other.counter && tags == other.tags && profiles == other.profiles;
  }
};

// The profile keys `writes` wrote to, sorted.
std::vector<std::string> ProfileKeys(const std::vector<WriteRecord>& writes);

// Reads the counter, the set and every profile key in `profile_keys` from one region.
KillRegionState ReadKillState(const std::string& address, const KillPlan& plan,
                              const std::vector<std::string>& profile_keys);

// Acknowledged (first try or retry) writes of `kind` (tags or profile) whose member or field is
// absent from `state`; with `before_phase` >= 0 only writes of phases before it count.
size_t MissingAcked(const std::vector<WriteRecord>& writes, KillClass kind,
                    const KillRegionState& state, int before_phase = -1);

// How many of the acknowledged handle claims in `writes` (phases before `before_phase`, or
// all when -1) do not read back as owned by `owner` through `address`.
size_t HandlesNotHeld(const std::string& address, const std::vector<WriteRecord>& writes,
                      const std::string& owner, int before_phase = -1);

}  // namespace meridian
