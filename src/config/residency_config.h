// The residency rules of a ClusterConfig as the core's Residency (src/replica/residency.h), for
// every process that routes or holds keys: regions, the router, the simulator's configs.
#pragma once

#include "base/status.h"
#include "config/cluster_config.h"
#include "replica/residency.h"

namespace meridian {

// InvalidArgument when the rules do not fit the core's bounds (too many region sets).
Result<Residency> ResidencyFromConfig(const ClusterConfig& config);

}  // namespace meridian
