// ForwardPolicy: how the router turns a client request into an upstream one, judges each
// attempt, and turns the answer back into the client's response. Pure functions, no I/O.
//
// Rules:
//  1. A write (any method but GET and HEAD) without an Idempotency-Key gets the router's
//     generated key before the first attempt, and every attempt carries the same request, so a
//     retry on another region can never apply the write twice. A client's key passes untouched.
//  2. Session tokens and every end-to-end header pass through untouched; hop-by-hop headers
//     (RFC 9110 section 7.6.1) and the router's own X-Client-Region do not.
//  3. An attempt is delivered to the client unless it failed in transport (connect, reset,
//     timeout, malformed answer: the region is suspect, try the next) or answered 502 or 503
//     (the region cannot serve it now, try the next; it stays healthy until a probe says
//     otherwise). Other 5xx are the region's verdict on the request itself and are delivered.
//  4. Every response the router delivers from a region names it in X-Meridian-Region.
//  5. An answer from a region the router knew to be catching up carries X-Meridian-Stale (the
//     region's own, or the router's when the region's is missing).
//  6. A 504 is the region's verdict after waiting its full bound (a session token it could not
//     satisfy in time, a write not replicated in time): it is delivered, not retried, since each
//     retry would wait as long again and the client would hear about another region than its own.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"
#include "net/http_client.h"
#include "net/http_message.h"

namespace meridian::router {

inline constexpr std::string_view kClientRegionHeader = "x-client-region";  // lower-case, as parsed
inline constexpr std::string_view kServedByHeader = "X-Meridian-Region";
inline constexpr std::string_view kIdempotencyKeyHeader = "Idempotency-Key";

// Rule 1: GET and HEAD read; everything else may write.
bool IsWriteMethod(std::string_view method);

// 502 and 503: another region may well serve the same request (rules 3 and 6).
bool IsRetryableStatus(int http_status);

enum class AttemptVerdict {
  kDeliver,             // hand the region's answer to the client
  kTryNext,             // the region cannot serve it now: keep any answer as the fallback, try
                        // the next region; the path stays healthy
  kMarkDownAndTryNext,  // a transport failure: mark the path down, try the next region
  kRefuse               // the request itself cannot be sent (Beast refused it): answer 400
};

// Rule 3, for an attempt whose transport ended with `transport` (kOk: the region answered with
// `http_status`, which is ignored otherwise). The router's own full wait queue
// (kResourceExhausted) says nothing about the region, so it only moves on.
AttemptVerdict JudgeAttempt(StatusCode transport, int http_status);

// 32 lower-case hex digits of a 128-bit random value (high word first).
std::string FormatIdempotencyKey(uint64_t high, uint64_t low);

// Rules 1 and 2. `generated_key` is used only for a write that carries no Idempotency-Key.
HttpClientRequest BuildUpstreamRequest(const HttpRequest& request,
                                       const std::string& generated_key);

// Rules 2, 4 and 5: the region's response without hop-by-hop and framing headers (the router's
// own server sets Content-Length, Content-Type, Server and Connection), plus X-Meridian-Region,
// plus X-Meridian-Stale when `catching_up` and the region did not set it.
HttpResponse BuildClientResponse(HttpResponse upstream, std::string_view region_name,
                                 bool catching_up = false);

// The router's own errors, shaped like a region's: {"error": {"code": ..., "message": ...}}.
// 503s carry Retry-After: 1, like a region's retryable errors.
HttpResponse RouterError(int http_status, std::string_view code, std::string_view message);

}  // namespace meridian::router
