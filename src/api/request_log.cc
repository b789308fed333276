#include "api/request_log.h"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace meridian {

bool IsValidRequestId(std::string_view id) {
  if (id.empty() || id.size() > kRequestIdBytesMax) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string RequestIdOf(const HttpRequest& request) {
  std::string id(request.Header("x-request-id"));
  return IsValidRequestId(id) ? id : std::string();
}

HttpResponder WithRequestId(const HttpRequest& request, HttpResponder respond) {
  std::string id = RequestIdOf(request);
  if (id.empty()) return respond;
  return [id = std::move(id), respond = std::move(respond)](HttpResponse response) {
    response.headers.emplace_back(std::string(kRequestIdHeader), id);
    respond(std::move(response));
  };
}

std::string FormatRequestId(uint64_t random) {
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(random));
  return text;
}

std::string SlowRequestJson(const SlowRequest& r) {
  const std::string_view target = r.target.substr(0, kLoggedTargetBytesMax);
  nlohmann::json line{
      {"slow_request", r.component},
      {"request_id", r.request_id},
      {"method", r.method},
      {"target", target},
      {"status", r.status},
      {"duration_ms", static_cast<double>(static_cast<int64_t>(r.duration_ms * 10)) / 10},
      {"threshold_ms", r.threshold_ms}};
  if (!r.region.empty()) line["region"] = r.region;
  // Replacement, not an exception: a target is a client's bytes and may not be UTF-8.
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace meridian
