// `meridian gen`: the deterministic workload generator and history recorder (src/gen). Sends a
// seeded, Zipfian mix of the data classes to the regions open-loop at a fixed rate or a ramp,
// records every operation for the checkers and reports latency percentiles per class and op.
#pragma once

#include <CLI/CLI.hpp>

namespace meridian {

// Registers the subcommand; its exit status is written to *exit_code when it runs.
void AddGenCommand(CLI::App& app, int* exit_code);

}  // namespace meridian
