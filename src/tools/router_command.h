// `meridian router`: runs the geo-router (src/router) for the cluster config until SIGINT or
// SIGTERM.
#pragma once

#include <CLI/CLI.hpp>

namespace meridian {

// Registers the subcommand; its exit status is written to *exit_code when it runs (0 after a
// clean signal-driven stop, 1 when it cannot start, 2 for a bad config or flag).
void AddRouterCommand(CLI::App& app, int* exit_code);

}  // namespace meridian
