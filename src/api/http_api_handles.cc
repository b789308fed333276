#include "api/http_api_handles.h"

#include "api/http_api_validation.h"
#include "base/utf8.h"
#include "strong/handle_name.h"

namespace meridian {

namespace {

using api_internal::BadRequest;
using api_internal::Json;
using api_internal::Quote;

std::optional<ApiError> ParseOwner(const HttpRequest& request, std::string* owner) {
  if (auto q = request.query.find("owner"); q != request.query.end()) {
    *owner = q->second;
  } else {
    Json body;
    if (auto error = api_internal::ParseJson(request.body, &body)) return error;
    if (!body.is_object() || !body.contains("owner") || !body["owner"].is_string()) {
      return BadRequest("request body must be a JSON object {\"owner\": \"...\"}");
    }
    for (const auto& [member, value] : body.items()) {
      if (member != "owner") return BadRequest("unknown member " + Quote(member));
    }
    *owner = body["owner"].get<std::string>();
  }
  if (!IsValidUtf8(*owner)) return BadRequest("owner is not valid UTF-8");
  if (Status valid = ValidateHandleOwner(*owner); !valid.ok()) return BadRequest(valid.message());
  return std::nullopt;
}

std::string RecordJson(const HandleRecord& record, const std::string& region) {
  return Json{{"name", record.name},
              {"owner", record.owner},
              {"claimed_at_ms", record.claimed_physical_ms},
              {"version", record.version},
              {"region", region}}
      .dump();
}

HttpResponse Error(int status, const std::string& code, const std::string& message,
                   Json extra = Json::object()) {
  extra["error"] = {{"code", code}, {"message", message}};
  return HttpResponse::Json(status, extra.dump(-1, ' ', false, Json::error_handler_t::replace));
}

}  // namespace

std::optional<std::variant<HandleCommand, ApiError>> ParseHandleRequest(
    const HttpRequest& request) {
  auto segments = SplitPath(request.path);
  if (!segments || segments->empty() || (*segments)[0] != "handle") return std::nullopt;
  if (segments->size() != 2) {
    return ApiError{404, "not_found", "no route " + Quote(request.path) + "; use /handle/{name}",
                    ""};
  }
  HandleCommand command;
  auto name = CanonicalHandleName((*segments)[1]);
  if (!name.ok()) return BadRequest(name.status().message());
  command.request.name = *name;
  for (const auto& [param, value] : request.query) {
    if (param != "owner") return BadRequest("unknown query parameter " + Quote(param));
  }
  if (request.method == "GET" || request.method == "HEAD") {
    command.request.kind = HandleOpKind::kRead;
  } else if (request.method == "PUT" || request.method == "DELETE") {
    command.request.kind = request.method == "PUT" ? HandleOpKind::kClaim : HandleOpKind::kRelease;
    if (auto error = ParseOwner(request, &command.request.owner)) return *error;
  } else {
    return ApiError{405, "method_not_allowed",
                    "method " + Quote(request.method) + " not allowed on /handle/{name}",
                    "GET, HEAD, PUT, DELETE"};
  }
  return command;
}

HttpResponse FormatHandleReply(const HandleReply& reply, const std::string& region) {
  const HandleRecord& r = reply.record;
  switch (reply.outcome) {
    case HandleOutcome::kClaimed:
      return HttpResponse::Json(201, RecordJson(r, region));
    case HandleOutcome::kValue:
      return HttpResponse::Json(200, RecordJson(r, region));
    case HandleOutcome::kReleased:
      return HttpResponse::Json(
          200, Json{{"name", r.name}, {"released", true}, {"version", r.version}}.dump());
    case HandleOutcome::kTaken:
      return Error(409, "already_exists", "handle " + Quote(r.name) + " is taken",
                   {{"name", r.name}, {"owner", r.owner}, {"version", r.version}});
    case HandleOutcome::kForbidden:
      return Error(403, "permission_denied",
                   "handle " + Quote(r.name) +
                       " belongs to another owner; only its owner may "
                       "release it");
    case HandleOutcome::kNotFound:
      return Error(404, "not_found", "handle " + Quote(r.name) + " is free");
    case HandleOutcome::kUnavailable:
      break;
  }
  return Error(503, "unavailable",
               reply.message.empty()
                   ? "no majority of regions answered in time; the request may or may not have "
                     "taken effect"
                   : reply.message);
}

}  // namespace meridian
