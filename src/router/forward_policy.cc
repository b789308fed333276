#include "router/forward_policy.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>

namespace meridian::router {

namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Hop-by-hop fields (RFC 9110 section 7.6.1) and framing that each connection sets for itself.
constexpr std::array<std::string_view, 10> kConnectionFields = {"connection",
                                                                "keep-alive",
                                                                "proxy-connection",
                                                                "proxy-authenticate",
                                                                "proxy-authorization",
                                                                "te",
                                                                "trailer",
                                                                "transfer-encoding",
                                                                "upgrade",
                                                                "content-length"};

bool IsConnectionField(std::string_view name) {
  return std::any_of(kConnectionFields.begin(), kConnectionFields.end(),
                     [&](std::string_view field) { return EqualsIgnoreCase(name, field); });
}

}  // namespace

bool IsWriteMethod(std::string_view method) {
  return method != "GET" && method != "HEAD";
}

bool IsRetryableStatus(int http_status) {
  return http_status == 502 || http_status == 503;
}

AttemptVerdict JudgeAttempt(StatusCode transport, int http_status) {
  switch (transport) {
    case StatusCode::kOk:
      return IsRetryableStatus(http_status) ? AttemptVerdict::kTryNext : AttemptVerdict::kDeliver;
    case StatusCode::kResourceExhausted:
      return AttemptVerdict::kTryNext;
    case StatusCode::kInvalidArgument:
      return AttemptVerdict::kRefuse;
    default:
      return AttemptVerdict::kMarkDownAndTryNext;
  }
}

std::string FormatIdempotencyKey(uint64_t high, uint64_t low) {
  char text[33];
  std::snprintf(text, sizeof(text), "%016llx%016llx", static_cast<unsigned long long>(high),
                static_cast<unsigned long long>(low));
  return std::string(text, 32);
}

HttpClientRequest BuildUpstreamRequest(const HttpRequest& request,
                                       const std::string& generated_key) {
  HttpClientRequest out;
  out.method = request.method;
  out.target = request.target;
  out.body = request.body;
  out.content_type = std::string(request.Header("content-type"));
  bool has_key = false;
  for (const auto& [name, value] : request.headers) {
    // Host names the router; the upstream client sets the region's. Content-Type travels in
    // content_type, which the client sends only with a body.
    if (IsConnectionField(name) || name == "host" || name == "content-type" ||
        name == kClientRegionHeader) {
      continue;
    }
    if (EqualsIgnoreCase(name, kIdempotencyKeyHeader)) has_key = true;
    out.headers.emplace_back(name, value);
  }
  if (IsWriteMethod(request.method) && !has_key) {
    out.headers.emplace_back(std::string(kIdempotencyKeyHeader), generated_key);
  }
  return out;
}

HttpResponse BuildClientResponse(HttpResponse upstream, std::string_view region_name,
                                 bool catching_up) {
  HttpResponse out;
  out.status = upstream.status;
  out.content_type =
      upstream.content_type.empty() ? "application/octet-stream" : std::move(upstream.content_type);
  out.body = std::move(upstream.body);
  for (auto& [name, value] : upstream.headers) {
    if (IsConnectionField(name) || EqualsIgnoreCase(name, "content-type") ||
        EqualsIgnoreCase(name, "server") || EqualsIgnoreCase(name, kServedByHeader)) {
      continue;
    }
    out.headers.emplace_back(std::move(name), std::move(value));
  }
  out.headers.emplace_back(std::string(kServedByHeader), std::string(region_name));
  const bool has_stale = std::any_of(out.headers.begin(), out.headers.end(), [](const auto& field) {
    return EqualsIgnoreCase(field.first, kStaleHeader);
  });
  if (catching_up && !has_stale) {
    out.headers.emplace_back(std::string(kStaleHeader),
                             "region " + std::string(region_name) +
                                 " is catching up and no caught-up region answered; writes made "
                                 "elsewhere may be missing");
  }
  return out;
}

HttpResponse RouterError(int http_status, std::string_view code, std::string_view message) {
  const nlohmann::json body = {{"error", {{"code", code}, {"message", message}}}};
  // Replacing invalid UTF-8 keeps dump() from throwing on bytes a client put in a header.
  HttpResponse response = HttpResponse::Json(
      http_status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  if (http_status == 503) response.headers.emplace_back("Retry-After", "1");
  return response;
}

}  // namespace meridian::router
