// How a PlannedOp becomes an HTTP request to a region's API (src/api/http_api.h), and how an
// answered op becomes a history line. Pure functions: no I/O, no clock.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "gen/workload.h"

namespace meridian {

struct GenRequest {
  std::string method;
  std::string target;  // path and query, percent-encoded
  std::string body;    // JSON, or empty
};

// REQUIRES: op came from a Planner (its fields fit its class and kind).
GenRequest BuildRequest(const PlannedOp& op);

// Percent-encodes everything but RFC 3986 unreserved characters, for one path segment.
std::string EncodePathSegment(std::string_view text);

// `text` as a JSON string literal, quotes included. Bytes that are not printable ASCII are
// \u00XX-escaped one by one, so the output is always ASCII (invalid UTF-8 stays visible).
std::string JsonQuote(std::string_view text);

// What happened to one op, as the history records it.
struct OpOutcome {
  bool sent = false;         // false: dropped before sending (overload)
  int http_status = 0;       // 0 when no response arrived
  std::string error;         // "dropped (overload)", "timeout", "connect: ...", or empty
  std::string body;          // the response body
  uint64_t intended_ns = 0;  // the times are ns since the Unix epoch (see HistoryClock)
  uint64_t invoke_ns = 0;
  uint64_t complete_ns = 0;
  std::string session_token_sent;  // X-Session-Token the read carried, or empty
  std::string served_by;           // the region a router says served the op, or empty
};

// One JSON object, no newline:
// {"index","client","region","class","op","key","field"/"value"/"by"/"element"/"owner",
//  "pair", "intended_ns","invoke_ns","complete_ns","sent","status","error",
//  "session_token_sent","served_by","result"}; optional fields only when set. "result" is the
//  response body when it is JSON (one line), else a string.
std::string FormatHistoryLine(const PlannedOp& op, std::string_view region_name,
                              const OpOutcome& outcome);

// The op alone, as `meridian gen --plan-only` prints it: the history line's op fields plus
// "intended_offset_ns" (from the start of the run).
std::string FormatPlannedOp(const PlannedOp& op, std::string_view region_name);

}  // namespace meridian
