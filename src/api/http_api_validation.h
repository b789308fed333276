// Internal to the HTTP API (http_api_*.cc): the building blocks of request validation. Each check
// returns nullopt when the input is acceptable, or the ApiError to answer with; messages name the
// offending part of the request, quoting client text only through Quote().
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "api/http_api.h"

namespace meridian::api_internal {

using Json = nlohmann::json;

ApiError BadRequest(std::string message);
ApiError TooLarge(std::string message);

// Client text for an error message: quoted, cut to a few dozen bytes, never invalid UTF-8.
std::string Quote(std::string_view text);

// `what` ("key", "field name", "tag element") names the text in the message. Checks 1..512 bytes
// of valid UTF-8; keys additionally may not contain '/'.
std::optional<ApiError> CheckName(std::string_view text, std::string_view what);
std::optional<ApiError> CheckKey(std::string_view key);
// A stored value: at most kValueBytesMax (413 beyond). `what` names it ("value of field 'x'").
std::optional<ApiError> CheckValue(std::string_view value, std::string_view what);
// 1..kIdempotencyKeyBytesMax printable ASCII characters (0x20..0x7E).
std::optional<ApiError> CheckIdempotencyKey(std::string_view key);

// Parses `body` as JSON: nlohmann-json with exceptions off, after a nesting-depth pre-check.
std::optional<ApiError> ParseJson(std::string_view body, Json* out);

// A decimal integer in 1..max: digits only, no sign, no spaces.
std::optional<uint64_t> ParsePositive(std::string_view text, uint64_t max);

}  // namespace meridian::api_internal
