// `meridian region`: runs one region of the cluster as a process (see server/region_server.h).
#pragma once

#include <CLI/CLI.hpp>

namespace meridian {

void AddRegionCommand(CLI::App& app, int* exit_code);

}  // namespace meridian
