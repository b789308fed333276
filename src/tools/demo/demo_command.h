// `meridian demo` (a whole cluster on this machine) and `meridian chaos` (break it on purpose).
#pragma once

#include <CLI/CLI.hpp>

namespace meridian {

void AddDemoCommand(CLI::App& app, int* exit_code);
void AddChaosCommand(CLI::App& app, int* exit_code);

}  // namespace meridian
