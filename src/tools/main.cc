// meridian: the one binary. Each subcommand lives in its own file and registers itself here.
#include <CLI/CLI.hpp>

#include "tools/backup_command.h"
#include "tools/certs_command.h"
#include "tools/demo/demo_command.h"
#include "tools/gen_command.h"
#include "tools/keys_command.h"
#include "tools/lab_command.h"
#include "tools/region_command.h"
#include "tools/router_command.h"
#include "tools/sim_command.h"
#include "tools/status/status_command.h"
#include "tools/wan/wan_command.h"

int main(int argc, char** argv) {
  CLI::App app{"Meridian: a multi-region active-active data store"};
  app.set_version_flag("--version", "meridian " MERIDIAN_VERSION);
  app.require_subcommand(1);
  int exit_code = 0;
  meridian::AddBackupCommands(app, &exit_code);
  meridian::AddCertsCommand(app, &exit_code);
  meridian::AddGenCommand(app, &exit_code);
  meridian::AddChaosCommand(app, &exit_code);
  meridian::AddDemoCommand(app, &exit_code);
  meridian::AddKeysCommand(app, &exit_code);
  meridian::AddLabCommand(app, &exit_code);
  meridian::AddRegionCommand(app, &exit_code);
  meridian::AddRouterCommand(app, &exit_code);
  meridian::AddSimCommand(app, &exit_code);
  meridian::AddStatusCommand(app, &exit_code);
  meridian::AddWanCommand(app);
  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
