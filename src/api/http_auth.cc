// HTTP authentication answers and the request -> permission mapping (http_auth.h).
#include "api/http_auth.h"

#include <nlohmann/json.hpp>

#include <string>

namespace meridian {

namespace {

HttpResponse Unauthenticated(const std::string& message) {
  HttpResponse response = HttpResponse::Error(401, "unauthenticated", message);
  response.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"meridian\"");
  return response;
}

}  // namespace

bool IsOpenRoute(const HttpRequest& request) {
  return (request.method == "GET" || request.method == "HEAD") &&
         (request.path == "/healthz" || request.path == "/metrics");
}

std::variant<const auth::KeyEntry*, HttpResponse> AuthenticateHttp(const auth::KeyStore& keys,
                                                                   const HttpRequest& request) {
  const std::string_view header = request.Header("authorization");
  if (header.empty()) {
    return Unauthenticated(
        "missing API key: send the header 'Authorization: Bearer KEY' (docs/security.md)");
  }
  const std::string_view token = auth::BearerToken(header);
  if (token.empty()) {
    return Unauthenticated("the Authorization header must be 'Bearer KEY'");
  }
  const auth::KeyEntry* entry = keys.Authenticate(token);
  if (entry == nullptr) return Unauthenticated("unknown API key");
  return entry;
}

std::optional<auth::Access> AccessFor(const ApiCommand& command) {
  if (const auto* w = std::get_if<WriteCommand>(&command)) {
    return auth::Access{DataClassName(w->write.target.data_class), auth::Op::kWrite,
                        w->write.target.key};
  }
  if (const auto* r = std::get_if<ReadCommand>(&command)) {
    return auth::Access{DataClassName(r->key.data_class), auth::Op::kRead, r->key.key};
  }
  // A scan reads the keys under its prefix: a grant's prefix must cover it.
  if (const auto* s = std::get_if<ScanCommand>(&command)) {
    return auth::Access{DataClassName(*s->data_class), auth::Op::kRead, s->prefix};
  }
  // An erasure deletes keys of every class under every pattern: a key that may write them all.
  if (std::holds_alternative<EraseCommand>(command)) {
    return auth::Access{"*", auth::Op::kWrite, "", true};
  }
  // Recent conflicts show keys and values of every class.
  if (std::holds_alternative<ConflictsCommand>(command)) {
    return auth::Access{"*", auth::Op::kRead, "", true};
  }
  return std::nullopt;
}

std::optional<auth::Access> AccessFor(const HandleCommand& command) {
  const auth::Op op =
      command.request.kind == HandleOpKind::kRead ? auth::Op::kRead : auth::Op::kWrite;
  return auth::Access{"handle", op, command.request.name};
}

HttpResponse Forbidden(const auth::KeyEntry& key, const auth::Access& access) {
  nlohmann::json missing = {{"class", std::string(access.data_class)},
                            {"op", std::string(auth::OpName(access.op))}};
  if (access.every_key) {
    missing["key"] = nullptr;
  } else {
    missing["key"] = std::string(access.key);
  }
  const nlohmann::json body = {
      {"error",
       {{"code", "permission_denied"},
        {"message", "key '" + key.name + "' lacks " + auth::DescribeAccess(access)},
        {"missing", missing}}}};
  return HttpResponse::Json(403,
                            body.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace));
}

HttpResponse NotAdmin(const auth::KeyEntry& key) {
  return HttpResponse::Error(403, "permission_denied",
                             "key '" + key.name + "' lacks the admin role");
}

}  // namespace meridian
