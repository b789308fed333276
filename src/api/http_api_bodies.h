// Internal to the HTTP API: request bodies of the write routes, from JSON to the ClientWrite body.
// Each returns nullopt and fills `out`, or returns the ApiError (contract 2 of http_api.h).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "api/http_api.h"
#include "crdt/lww_map.h"
#include "replica/types.h"

namespace meridian::api_internal {

// PUT /profile: {"field": "value" | null, ...}; in blob mode the object replaces the profile, so
// it may be empty and may not hold nulls.
std::optional<ApiError> ParseProfileBody(std::string_view body, bool blob, LwwMapOp* out);
// POST /tags: {"add": [...], "remove": [...]}, either optional, not both empty, disjoint.
std::optional<ApiError> ParseTagsBody(std::string_view body, TagsWrite* out);
// PUT /register: {"value": "..."}.
std::optional<ApiError> ParseRegisterBody(std::string_view body, std::string* out);
// POST /text: one edit, {"insert": {"pos": N, "text": "..."}} or {"delete": {"pos": N, "len": M}},
// or several applied in order, {"edits": [edit, ...]}. Positions and lengths count Unicode code
// points; whether a position lies inside the text is the region's to check (its view).
std::optional<ApiError> ParseTextBody(std::string_view body, TextWrite* out);
// POST /stock: {"add": N} or {"take": N}, N a JSON integer from 1 to 2^62-1.
std::optional<ApiError> ParseStockBody(std::string_view body, StockWrite* out);

}  // namespace meridian::api_internal
