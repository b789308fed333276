// DemoArgv: the command lines `meridian demo` starts its regions and its router with, as pure
// functions of DemoOptions so a test can read them without starting anything.
//
// Contract:
//  1. RegionArgv is `SELF region --config CONFIG --region NAME`, then `--wal-sync MODE` when
//     options.wal_sync is set, `--slow-request-ms N` when options.slow_request_ms is set, then
//     options.region_args verbatim (so a test's own flags come last and win).
//  2. RouterArgv is `SELF router --config CONFIG`, then `--slow-request-ms N` when set.
//  3. Unset options add nothing: each child keeps its own default.
#pragma once

#include <string>
#include <vector>

#include "cluster/demo_supervisor.h"

namespace meridian {

std::vector<std::string> RegionArgv(const DemoOptions& options, const std::string& self,
                                    const std::string& config_file, const std::string& region);

std::vector<std::string> RouterArgv(const DemoOptions& options, const std::string& self,
                                    const std::string& config_file);

}  // namespace meridian
