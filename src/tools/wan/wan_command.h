// `meridian wan`: runs the WAN emulator for the cluster config, with its admin API, until
// SIGINT or SIGTERM.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace meridian {

struct WanCommandOptions {
  std::string config_path = "deploy/local.yaml";
  int threads = 0;                // 0: wan.threads from the config
  std::string TEST_capture_path;  // tests only: record every proxied byte here (wan_capture.h)
};

// Registers the `wan` subcommand on `app`.
void AddWanCommand(CLI::App& app);

// Runs the emulator; returns the process exit code (0 after a clean signal-driven stop).
int RunWan(const WanCommandOptions& options);

}  // namespace meridian
