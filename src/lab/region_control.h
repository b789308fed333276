// Driving the lab cluster's processes through the demo supervisor's control API
// (cluster/demo_supervisor.h): kill, stop, restart, back up a region, and wait for its health.
// Used by the `residency` and `erasure` experiments.
//
// Contract: every call is bounded (60 s for a control call, `timeout` for a wait); none throws.
#pragma once

#include <chrono>
#include <string>

#include "lab/lab_context.h"

namespace meridian {

// POST /processes/{region}/{action} ("kill", "stop", "restart", "backup"): true when the
// supervisor answered 200, or 409 to a restart (the region already runs).
bool ControlRegion(const LabContext& context, const std::string& region, const std::string& action);

// True once region `region` (an index into context.region_http) reports "ok" on /healthz.
bool WaitRegionHealthy(const LabContext& context, size_t region, std::chrono::milliseconds timeout);

}  // namespace meridian
