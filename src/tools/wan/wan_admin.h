// The `meridian wan` admin API: toxiproxy's HTTP API, for the subset Meridian uses.
//
//   GET    /version                          {"version": "..."}
//   GET    /proxies                          {name: proxy, ...}
//   GET    /proxies/{proxy}                  proxy
//   POST   /proxies/{proxy}                  {"enabled": false|true} -> proxy (cut / heal)
//   GET    /proxies/{proxy}/toxics           [toxic, ...]
//   POST   /proxies/{proxy}/toxics           toxic -> toxic  (409 if the name is taken)
//   GET    /proxies/{proxy}/toxics/{toxic}   toxic
//   POST   /proxies/{proxy}/toxics/{toxic}   {"attributes": {...}} -> toxic
//   DELETE /proxies/{proxy}/toxics/{toxic}   204
//   POST   /reset                            204: all enabled, back to the config's matrix
//   GET    /metrics                          Prometheus text: traffic, drops, impairments per
//                                            link (wan_metrics.h; not part of toxiproxy's API)
//
// A proxy is {"name", "listen", "upstream", "enabled", "toxics": [...], "connections"}; the
// matrix baseline appears as the latency toxics "matrix_upstream" / "matrix_downstream".
// Proxy names contain '>' ("us->eu"); send them as is or percent-encoded ("us-%3Eeu").
// Errors are {"error": "...", "status": N} with 400 (bad input), 404 (no such proxy, toxic or
// route), 405 (wrong method) or 409 (toxic exists). Proxies come from the config and cannot be
// created or deleted here.
#pragma once

#include "net/http_message.h"
#include "tools/wan/wan_emulator.h"

namespace meridian::wan {

inline constexpr std::string_view kWanVersion = "meridian-wan 1.0 (toxiproxy API subset)";

// Serves one admin request synchronously (the emulator's admin calls never block on I/O).
HttpResponse HandleWanAdmin(WanEmulator& emulator, const HttpRequest& request);

// The handler for an HttpServer. REQUIRES: `emulator` outlives the server.
HttpHandler MakeWanAdminHandler(WanEmulator& emulator);

}  // namespace meridian::wan
