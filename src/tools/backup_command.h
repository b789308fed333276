// `meridian backup`: an online, incremental backup of a running region (its POST /admin/backup,
// on the region's admin listener, with an admin key).
// `meridian restore`: a region's data directory from the latest backup, as a new incarnation
// that rejoins its peers when started (server/region_backup.h).
#pragma once

#include <CLI/CLI.hpp>

namespace meridian {

void AddBackupCommands(CLI::App& app, int* exit_code);

}  // namespace meridian
