// Certificates for a cluster a tool starts on this machine (`meridian demo`, the lab): TLS by
// default, plaintext only when asked.
//
// PrepareClusterTls(config, data_dir, plaintext):
//  - plaintext: config.tls says so (`tls: {plaintext: true}`); every region then logs a warning.
//  - else, when config.tls already names a dir: kept as it is (the operator's certificates).
//  - else: a CA and every certificate (tls/cert_files.h; client roles kDefaultClientRoles) in
//    DATA_DIR/certs, made once and reused by later runs on the same data directory, and
//    config.tls points there.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "config/cluster_config.h"

namespace meridian {

// "app" for applications, "admin" for operators' tools.
inline const std::vector<std::string> kDefaultClientRoles = {"admin", "app"};

Status PrepareClusterTls(ClusterConfig& config, const std::string& data_dir, bool plaintext);

}  // namespace meridian
