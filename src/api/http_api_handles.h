// The handles API (class D, strong): HTTP requests to StrongNode requests and replies back, as
// pure functions like the rest of the client API (http_api.h).
//
//   GET     /handle/{name}                     the owner: 200 record, 404 when free
//   PUT     /handle/{name}   {"owner": "..."}  claim: 201 record; 409 {"owner": current} if taken
//   DELETE  /handle/{name}   {"owner": "..."}  release (or ?owner=...): 200; 403 not the owner;
//                                              404 when free
// Any of them: 503 when this region cannot reach a majority of regions (or, in owner mode, the
// handle's owner region) in time: the operation may or may not have taken effect.
//
// Contract: like ParseApiRequest, never crashes or throws; a refusal names the problem and the
// server acts on nothing else. Names are 1-64 of [a-z0-9_.-] after ASCII case folding (the
// strong module's CanonicalHandleName); owners 1-256 bytes of UTF-8.
#pragma once

#include <optional>
#include <string>
#include <variant>

#include "api/http_api.h"
#include "net/http_message.h"
#include "strong/types.h"

namespace meridian {

// nullopt when `request` is not for /handle (the caller routes it elsewhere).
std::optional<std::variant<HandleCommand, ApiError>> ParseHandleRequest(const HttpRequest& request);

// The response for a StrongNode reply; `region` names the region that served it.
HttpResponse FormatHandleReply(const HandleReply& reply, const std::string& region);

}  // namespace meridian
