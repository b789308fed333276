// The client API over HTTP/JSON (DESIGN.md sections 3 and 6), as pure functions: a request becomes
// a command for the region server, and a result becomes a response. No I/O, no clock, no state,
// so the server stays thin and every rule here is unit-tested and fuzzed.
//
// Routes (keys and elements are one %-encoded path segment each):
//   GET PUT DELETE  /profile/{key}         LWW map. PUT body {"field": "value" | null, ...};
//                                          ?mode=blob replaces the whole object
//   GET DELETE      /counter/{key}         PN-counter
//   POST            /counter/{key}/incr    ?by=N (1..2^63-1, default 1); /decr subtracts
//   GET POST DELETE /tags/{key}            OR-set. POST body {"add": [...], "remove": [...]}
//   DELETE          /tags/{key}/{element}  removes one element
//   GET PUT DELETE  /register/{key}        MV-register. PUT body {"value": "..."}; GET shows
//                                          siblings
//   GET POST DELETE /text/{key}            RGA text. POST body {"insert": {"pos": N, "text":
//   ".."}},
//                                          {"delete": {"pos": N, "len": M}} or {"edits": [..]};
//                                          positions in code points; GET adds "length"
//   GET POST        /stock/{key}           bounded counter (escrow), never below zero. POST body
//                                          {"add": N} or {"take": N}: 409 when the stock (or
//                                          the rights reachable in time) does not cover a take;
//                                          GET adds "rights" per region. No DELETE.
//   GET             /metrics /healthz      Prometheus text; liveness for the router
//   GET             /conflicts             recent conflicts, newest first, ?limit=N
//   GET             /{class}               a page of the class's keys in key order (ScanCommand):
//                                          ?prefix=P&limit=N (1..1000, default 100)&cursor=C
//   DELETE          /subjects/{id}         erases a subject (EraseCommand; docs/residency.md)
// DELETE of a key deletes it whatever its class, observed-remove: it removes what this region
// shows of the key, and a write it has not seen survives it (docs/replication.md section 2).
// HEAD is served wherever GET is. Writes take an optional Idempotency-Key header (one key, one
// request: a reuse with another request is refused 422); data reads take X-Session-Token and
// ?consistency=local|quorum.
//
// Contract:
//  1. ParseApiRequest never crashes and never throws, whatever the bytes (fuzzed). Every refusal
//     is an ApiError whose message names the problem; a refused request must change nothing, so
//     the server acts only on the other alternatives.
//  2. Every ClientWrite it returns passes the edge checks the replica relies on: key 1..512 bytes
//     of UTF-8 without '/', field names and tag elements 1..512 bytes of UTF-8, values at most
//     1 MiB, at most kWriteItemsMax fields or elements (or text edits), a non-zero counter
//     delta, tag adds and removes disjoint, text edits well formed (insert text non-empty UTF-8,
//     delete length >= 1; whether a position fits the text is the region's check, also 400).
//  3. Unknown route -> 404; known route, wrong method -> 405 with an Allow header; a body or a
//     value over its limit -> 413; anything else malformed (JSON syntax, JSON types, unknown
//     query parameters, bad headers) -> 400.
//  4. Formatters render version vectors by region name: `region_names[id]`, or the decimal id
//     for an id the list does not cover.
//  5. A key that shows nothing here (never written here, or deleted: KeyPresent is false) reads
//     as 200 with "found": false and the class's value, empty ({} / 0 / [] / [] / "") unless a
//     deleted counter's remainder, not 404: under async replication "not here yet" is not "does
//     not exist", and a 404 would be confused with an unknown route.
//  6. A DELETE that finds nothing to remove makes no op and answers 200 with "dot": null.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/ids.h"
#include "base/status.h"
#include "clock/version_vector.h"
#include "net/http_message.h"
#include "node/commands.h"
#include "replica/conflict_log.h"
#include "replica/replica.h"
#include "replica/types.h"

namespace meridian {

// The limits. A body holds one value plus its JSON framing, like the HTTP server's cap.
inline constexpr size_t kKeyBytesMax = 512;
inline constexpr size_t kValueBytesMax = 1 << 20;
inline constexpr size_t kBodyBytesMax = kValueBytesMax + (64 << 10);
// Fields or tag elements in one write: each becomes a register or a dot in one op, and one op
// must stay small beside the replication batch of 256 ops; real clients set a handful.
inline constexpr size_t kWriteItemsMax = 1024;
inline constexpr size_t kIdempotencyKeyBytesMax = 128;
// Our bodies nest two levels; anything much deeper is an attack on the parser's callers.
inline constexpr size_t kJsonDepthMax = 16;
// GET /conflicts: entries shown by default and at most (the replica keeps 1000), and bytes of
// each LWW value shown (values reach 1 MiB; a thousand of them would be a gigabyte response).
inline constexpr size_t kConflictsShownDefault = 100;
inline constexpr size_t kConflictsShownMax = 1000;
inline constexpr size_t kConflictValueBytesShown = 256;

// WriteCommand and ReadCommand (a read's session comes from X-Session-Token) are the region
// node's (node/commands.h); the rest are the HTTP front end's own.
struct MetricsCommand {};
struct HealthCommand {};
struct ConflictsCommand {
  size_t limit = kConflictsShownDefault;
};
struct ApiError {
  int http_status = 400;
  std::string code;     // machine-readable, e.g. "invalid_argument"
  std::string message;  // names the problem, e.g. "key is not valid UTF-8"
  std::string allow;    // 405 only: the route's methods, for the Allow header
};

using ApiCommand = std::variant<WriteCommand, ReadCommand, ScanCommand, EraseCommand,
                                MetricsCommand, HealthCommand, ConflictsCommand, ApiError>;

struct ApiOptions {
  // Slots of the cluster's session tokens (regions, and the members of each residency set: see
  // src/replica/residency.h): a token naming a slot beyond them is refused up front (it could
  // never be satisfied, so the read would only time out).
  RegionId token_slots = kMaxRegions;
  // A sliced region's tag of its session tokens (api/session_token.h contract 4); "" unsliced.
  std::string token_tag;
};

ApiCommand ParseApiRequest(const HttpRequest& request, const ApiOptions& options = {});

// 200 JSON {"key", "class", "value", "found", "version_vector", "session_token"}. A counter whose
// concurrent deltas left the int64 range answers as FormatStatus of that OUT_OF_RANGE error.
HttpResponse FormatRead(const StateKey& key, const ReadResult& result,
                        const std::vector<std::string>& region_names,
                        std::string_view token_tag = {});
// 200 JSON {"version_vector", "session_token", "dot": {"region", "seq"} or null when no op was
// made (contract 6), "deduplicated"}.
HttpResponse FormatWrite(const WriteReply& reply, const std::vector<std::string>& region_names,
                         std::string_view token_tag = {});
// The HTTP status and JSON error body for a failed Status. REQUIRES: !status.ok().
HttpResponse FormatStatus(const Status& status);
int HttpStatusFor(StatusCode code);
HttpResponse FormatError(const ApiError& error);
// 200 JSON {"total", "counts": {class: {outcome: n}}, "recent": [newest first, at most limit]}.
HttpResponse FormatConflicts(const ConflictLog& log, const std::vector<std::string>& region_names,
                             size_t limit = kConflictsShownDefault);
// 200 JSON {"keys": [{"key", "class", "value"}...], "cursor": the next page's or null at the end,
// "version_vector", "session_token"}. A counter out of the int64 range shows "value": null and
// "error".
HttpResponse FormatScan(const ScanResult& page, const std::vector<std::string>& region_names,
                        std::string_view token_tag = {});
// 200 in the Prometheus text format 0.0.4.
HttpResponse FormatMetrics(std::string exposition);

}  // namespace meridian
