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

Status ApplyClientTls(ClusterConfig& config, bool client_tls_flag) {
  const bool asked = client_tls_flag || (config.tls && config.tls->client);
  if (!asked) return Status::Ok();
  if (!config.tls || config.tls->plaintext || config.tls->dir.empty()) {
    return InvalidArgument(
        "client TLS (--client-tls or tls.client) needs certificates: a `tls: {dir: DIR}` section "
        "(`meridian certs`), not plaintext");
  }
  config.tls->client = true;
  return EnsureListenerCertificate(config.tls->dir);
}

}  // namespace meridian
