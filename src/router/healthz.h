// Reading a region's GET /healthz answer for the router's probes. Pure.
//
// A region answers 200 JSON {"region": "us", "status": "ok" | "catching_up" | "draining" |
// "failed", "version_vector": {...}, "peers": [...]}. Only the region name and the status matter
// to routing; the rest is for people.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "net/http_message.h"

namespace meridian::router {

// The status a region reports for itself, e.g. "ok" or "catching_up". InvalidArgument when the
// answer is not a 200 with a JSON object naming `expected_region` and a string status: a probe
// that reaches the wrong server (a port mix-up) must not make that region look healthy.
Result<std::string> ParseHealthz(const HttpResponse& response, std::string_view expected_region);

}  // namespace meridian::router
