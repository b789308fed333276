// meridian: the one binary. Each subcommand lives in its own file and registers itself here.
#include <CLI/CLI.hpp>

int main(int argc, char** argv) {
  CLI::App app{"Meridian: a multi-region active-active data store"};
  app.require_subcommand(1);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
