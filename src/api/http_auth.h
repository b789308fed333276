// HTTP client authentication and authorization for a region's listeners, as pure functions
// (docs/security.md): who is asking (Authorization: Bearer KEY), and whether their key's grants
// cover what the parsed request would do.
//
// Contract:
//  1. AuthenticateHttp returns the key's entry, or the 401 to send: JSON naming what is missing
//     (no Authorization header, another scheme, an unknown key) with `WWW-Authenticate: Bearer`.
//  2. A refused request (401 or 403) is answered before it reaches the node, so it changes
//     nothing; the 403 body names the missing permission: {"error": {"code":
//     "permission_denied", "message", "missing": {"class", "op", "key"}}}.
//  3. Open routes, served without a key: GET /healthz (load balancers and the router's probes)
//     and GET /metrics (Prometheus; its labels come from fixed sets and name no key or value).
#pragma once

#include <optional>
#include <string_view>
#include <variant>

#include "api/http_api.h"
#include "auth/grant.h"
#include "auth/key_store.h"
#include "net/http_message.h"

namespace meridian {

bool IsOpenRoute(const HttpRequest& request);

std::variant<const auth::KeyEntry*, HttpResponse> AuthenticateHttp(const auth::KeyStore& keys,
                                                                   const HttpRequest& request);

// What `command` would do, or nullopt when it touches no data (health, metrics, a refusal).
std::optional<auth::Access> AccessFor(const ApiCommand& command);
std::optional<auth::Access> AccessFor(const HandleCommand& command);

// The 403 for `key` lacking `access` (contract 2).
HttpResponse Forbidden(const auth::KeyEntry& key, const auth::Access& access);
// The 403 on the admin listener for a key without the admin role.
HttpResponse NotAdmin(const auth::KeyEntry& key);

}  // namespace meridian
