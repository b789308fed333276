#include "tls/cluster_tls.h"

#include <filesystem>

#include "tls/cert_files.h"

namespace meridian {

Status PrepareClusterTls(ClusterConfig& config, const std::string& data_dir, bool plaintext) {
  if (plaintext) {
    config.tls = TlsConfig{.dir = "", .client = false, .plaintext = true};
    return Status::Ok();
  }
  if (config.tls && !config.tls->plaintext) return Status::Ok();
  const std::string dir = std::filesystem::absolute(data_dir + "/certs").string();
  if (!std::filesystem::exists(CaCertPath(dir))) {
    std::vector<std::string> regions;
    for (const RegionConfig& region : config.regions) {
      regions.push_back(region.name);
    }
    MERIDIAN_RETURN_IF_ERROR(WriteClusterCertificates(dir, regions, kDefaultClientRoles));
  }
  config.tls = TlsConfig{.dir = dir, .client = false, .plaintext = false};
  return Status::Ok();
}

}  // namespace meridian
