// Parsers for `meridian gen`'s inputs: targets (flags, the cluster YAML, an endpoints JSON file),
// durations and ramps. Pure functions of text, except the two Load* functions that read a file.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "gen/runner.h"
#include "gen/workload.h"

namespace meridian {

// "us=127.0.0.1:7101" -> {us, 127.0.0.1:7101}. InvalidArgument naming the problem.
Result<GenTarget> ParseTarget(std::string_view text);

// Every region's client HTTP address, in RegionId order, from a cluster YAML (deploy/local.yaml).
Result<std::vector<GenTarget>> LoadTargetsFromConfig(const std::string& path);

struct Endpoints {
  std::vector<GenTarget> regions;  // in the file's order
  std::string router;              // "" when the file names none
  std::string client_key;          // the demo's client API key; "" when the file has none
};
// Parses {"regions": {"us": {"http": "127.0.0.1:7101", ...}, ...}, "router": "127.0.0.1:7000"}
// (what `meridian demo` prints). Regions keep the file's order.
Result<Endpoints> ParseEndpoints(std::string_view json);
Result<Endpoints> LoadEndpointsFile(const std::string& path);

// "10s", "500ms", "2m", "1h", "1.5s" or a plain number of seconds -> ns. Must be > 0.
Result<uint64_t> ParseDurationNs(std::string_view text);

// "FROM:TO:STEP_SECONDS[:INCREMENT]" -> steps FROM, FROM+INCREMENT, ... up to TO (inclusive),
// each lasting STEP_SECONDS. INCREMENT defaults to FROM, so 1000:5000:5 is 1000, 2000, ... 5000
// ops/s for 5 s each. At most kRampStepsMax steps.
inline constexpr size_t kRampStepsMax = 1000;
Result<std::vector<RateStep>> ParseRamp(std::string_view text);

}  // namespace meridian
