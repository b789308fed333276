// `meridian lab run [NAMES...] --out DIR [--quick]`: starts a demo cluster on free loopback
// ports, runs the lab's experiments (src/lab) against it, stops it, and writes DIR/ledger.json and
// DIR/ledger.md. Exits 1 when a correctness assertion failed (never on timings), 2 when no ledger
// could be produced.
#pragma once

#include <CLI/CLI.hpp>

namespace meridian {

// Registers the subcommand; its exit status is written to *exit_code when it runs.
void AddLabCommand(CLI::App& app, int* exit_code);

}  // namespace meridian
