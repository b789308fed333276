// RequestLog: the request id the router passes on and the slow-request log line both the router
// and a region write (docs/operations.md "Request ids and slow requests").
//
// Contract:
//  1. A request id is 1 to kRequestIdBytesMax bytes of [A-Za-z0-9._:-]: safe to log as is and to
//     send on. A client's X-Request-Id that is not one is replaced, never logged.
//  2. WithRequestId() wraps a responder so every answer through it carries the request's valid
//     X-Request-Id back (none when the request had no valid one), whichever path answers:
//     the routes, an auth refusal (401/403), an admin 404, a region still loading.
//  3. SlowRequestJson() is one line of JSON (no newline), the fields of SlowRequest; method and
//     target are escaped, so a client's bytes cannot forge another line or field.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "net/http_message.h"

namespace meridian {

inline constexpr std::string_view kRequestIdHeader = "X-Request-Id";
// A UUID is 36 bytes and the ids of common tracing systems fit in 64.
inline constexpr size_t kRequestIdBytesMax = 64;
// Of a target in the log: enough to tell the route and key, bounded so a 1 MB URL is not a
// 1 MB log line.
inline constexpr size_t kLoggedTargetBytesMax = 256;

bool IsValidRequestId(std::string_view id);

// 16 hex digits of `random` (the router draws it from its seeded generator).
std::string FormatRequestId(uint64_t random);

// The request's X-Request-Id when it is valid (contract 1), else "".
std::string RequestIdOf(const HttpRequest& request);

// Contract 2.
HttpResponder WithRequestId(const HttpRequest& request, HttpResponder respond);

struct SlowRequest {
  std::string_view component;  // "router" or "region"
  std::string_view region;     // the region serving (router: the one that answered, or "")
  std::string_view request_id;
  std::string_view method;
  std::string_view target;
  int status = 0;
  double duration_ms = 0;
  int64_t threshold_ms = 0;
};

std::string SlowRequestJson(const SlowRequest& request);

}  // namespace meridian
