// SelfCheck: proves the simulator's checks can fail. Each known bug is built into the replica
// (ReplicaBugs), the strong module (StrongBugs) or the region node (NodeBugs) in turn, and seeds
// are run until the checkers report a violation; a bug that survives `max_seeds` seeds means the
// simulator is blind to it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "sim/sim_options.h"

namespace meridian {

struct SeededBug {
  std::string id;  // for `meridian sim --seed S --bug ID`
  std::string name;
  std::function<void(SimOptions&)> enable;
};

struct SelfCheckOutcome {
  std::string bug;
  std::optional<uint64_t> caught_by_seed;
  std::string first_violation;
  uint64_t seeds_run = 0;
};

std::vector<SeededBug> KnownBugs();

std::vector<SelfCheckOutcome> RunSelfCheck(RegionId regions, Topology topology, uint64_t max_seeds);

}  // namespace meridian
