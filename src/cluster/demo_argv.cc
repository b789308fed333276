#include "cluster/demo_argv.h"

namespace meridian {

namespace {

void AddSlowRequest(const DemoOptions& options, std::vector<std::string>& argv) {
  if (options.slow_request_ms) {
    argv.insert(argv.end(), {"--slow-request-ms", std::to_string(*options.slow_request_ms)});
  }
}

}  // namespace

std::vector<std::string> RegionArgv(const DemoOptions& options, const std::string& self,
                                    const std::string& config_file, const std::string& region) {
  std::vector<std::string> argv = {self, "region", "--config", config_file, "--region", region};
  if (!options.wal_sync.empty()) argv.insert(argv.end(), {"--wal-sync", options.wal_sync});
  AddSlowRequest(options, argv);
  argv.insert(argv.end(), options.region_args.begin(), options.region_args.end());
  return argv;
}

std::vector<std::string> RouterArgv(const DemoOptions& options, const std::string& self,
                                    const std::string& config_file) {
  std::vector<std::string> argv = {self, "router", "--config", config_file};
  AddSlowRequest(options, argv);
  return argv;
}

}  // namespace meridian
