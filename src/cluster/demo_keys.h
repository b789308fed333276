// DemoKeys: the API keys of a demo cluster, made at its first start in its run directory so the
// first run stays one command (docs/security.md, "Clients"):
//   keys.txt        the hashes the regions and router check (auth.keys_file)
//   router.key      the router's own key, for its RESP connections to regions
//   demo-keys.json  the plain client and admin keys (mode 0600), read back on a restart of the
//                   demo on the same directory and copied into the endpoints file
// Keys: "client" (*:rw, every data class), "admin" (the admin role: /admin/* and the demo's
// control API), "router" (*:rw).
#pragma once

#include <string>

#include "base/status.h"
#include "config/cluster_config.h"

namespace meridian {

struct DemoKeys {
  std::string client_key;
  std::string admin_key;
  std::string router_key;
  AuthConfig auth;  // the files, for the cluster config the demo hands its children
};

// Makes the keys in `dir` when it has none, else reads them back.
Result<DemoKeys> EnsureDemoKeys(const std::string& dir);

}  // namespace meridian
