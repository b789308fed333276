// libFuzzer target: ParseClusterConfig must return a Status for any bytes, never crash or throw.
// Also compiled into config_test, which feeds it seeded random inputs (config_fuzz_test.cc).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/cluster_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  meridian::Result<meridian::ClusterConfig> config = meridian::ParseClusterConfig(text, "fuzz");
  if (config.ok()) {
    // A config that parses must satisfy the layout helpers' preconditions.
    const std::vector<meridian::WanProxy> proxies = meridian::WanProxyLayout(*config);
    const size_t n = config->regions.size();
    MERIDIAN_ASSERT(proxies.size() == 2 * n * (n - 1));
  } else {
    MERIDIAN_ASSERT(!config.status().message().empty());
  }
  return 0;
}
