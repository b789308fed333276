// `meridian sim`: runs the deterministic simulator (src/sim) over many seeds, replays one seed,
// or runs the self-check with known bugs built in.
#pragma once

#include <CLI/CLI.hpp>

namespace meridian {

// Registers the subcommand; its exit status is written to *exit_code when it runs.
void AddSimCommand(CLI::App& app, int* exit_code);

}  // namespace meridian
