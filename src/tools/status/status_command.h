// `meridian status`: the cluster at a glance, per region its health, peers, replication lag and
// backlog per link, read/write p99 and clock offsets, from the regions' /healthz and /metrics and
// the router's /router/metrics (tools/status/status_report.h). Endpoints come from a demo's
// endpoints file (by default the one `meridian demo` writes for its control port) or a cluster
// config; `--watch` redraws until Ctrl-C / SIGTERM; `--json` prints one JSON document per draw.
#pragma once

#include <CLI/CLI.hpp>

namespace meridian {

void AddStatusCommand(CLI::App& app, int* exit_code);

}  // namespace meridian
