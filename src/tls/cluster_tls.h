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

// `--client-tls` (regions, the router, the demo): TLS on the client listeners, as
// `tls: {client: true}` asks in the config. With the flag, sets config.tls->client; then, when
// client TLS is on either way, makes sure the certificate directory has its listener
// certificate (EnsureListenerCertificate: a directory made before it existed gets one).
// InvalidArgument when client TLS is asked for without certificates (no tls: dir, or
// plaintext), so a listener never serves plaintext where TLS was asked for.
Status ApplyClientTls(ClusterConfig& config, bool client_tls_flag);

}  // namespace meridian
