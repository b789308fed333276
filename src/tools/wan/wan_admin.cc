#include "tools/wan/wan_admin.h"

#include "obs/metrics.h"
#include "tools/wan/wan_metrics.h"

#include <nlohmann/json.hpp>

#include <vector>

namespace meridian::wan {

using nlohmann::json;

namespace {

HttpResponse JsonError(int status, std::string_view message) {
  return HttpResponse::Json(status, json{{"error", message}, {"status", status}}.dump());
}

HttpResponse FromStatus(const Status& status) {
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
      return JsonError(400, status.message());
    case StatusCode::kNotFound:
      return JsonError(404, status.message());
    case StatusCode::kAlreadyExists:
      return JsonError(409, status.message());
    default:
      return JsonError(500, status.message());
  }
}

HttpResponse MethodNotAllowed(std::string_view allowed) {
  HttpResponse response = JsonError(405, "method not allowed; use " + std::string(allowed));
  response.headers.emplace_back("Allow", std::string(allowed));
  return response;
}

HttpResponse Ok(const json& body) {
  return HttpResponse::Json(200, body.dump());
}

HttpResponse NoContent() {
  return HttpResponse::Json(204, "");
}

json ProxyToJson(const ProxyInfo& info) {
  json toxics = json::array();
  for (const Toxic& toxic : info.toxics) {
    toxics.push_back(ToxicToJson(toxic));
  }
  return json{{"name", info.name},           {"listen", info.listen},
              {"upstream", info.upstream},   {"enabled", info.enabled},
              {"toxics", std::move(toxics)}, {"connections", info.connections}};
}

Result<json> ParseBody(const HttpRequest& request) {
  json body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return InvalidArgument("request body is not valid JSON");
  if (!body.is_object()) return InvalidArgument("request body must be a JSON object");
  return body;
}

HttpResponse ProxiesRoute(WanEmulator& emulator, const HttpRequest& request) {
  if (request.method == "POST") {
    return JsonError(405, "proxies come from the cluster config and cannot be created here");
  }
  if (request.method != "GET") return MethodNotAllowed("GET, HEAD");
  json out = json::object();
  for (const ProxyInfo& info : emulator.ListProxies()) {
    out[info.name] = ProxyToJson(info);
  }
  return Ok(out);
}

HttpResponse ProxyRoute(WanEmulator& emulator, const HttpRequest& request,
                        const std::string& name) {
  if (request.method == "GET") {
    Result<ProxyInfo> info = emulator.GetProxy(name);
    return info.ok() ? Ok(ProxyToJson(*info)) : FromStatus(info.status());
  }
  if (request.method != "POST") return MethodNotAllowed("GET, HEAD, POST");
  if (Result<ProxyInfo> exists = emulator.GetProxy(name); !exists.ok()) {
    return FromStatus(exists.status());
  }
  Result<json> body = ParseBody(request);
  if (!body.ok()) return FromStatus(body.status());
  for (const auto& [key, value] : body->items()) {
    if (key != "enabled") return JsonError(400, "only 'enabled' can be changed, not '" + key + "'");
  }
  if (!body->contains("enabled") || !(*body)["enabled"].is_boolean()) {
    return JsonError(400, "'enabled' must be true or false");
  }
  Result<ProxyInfo> info = emulator.SetEnabled(name, (*body)["enabled"].get<bool>());
  return info.ok() ? Ok(ProxyToJson(*info)) : FromStatus(info.status());
}

HttpResponse ToxicsRoute(WanEmulator& emulator, const HttpRequest& request,
                         const std::string& proxy) {
  Result<ProxyInfo> info = emulator.GetProxy(proxy);
  if (!info.ok()) return FromStatus(info.status());
  if (request.method == "GET") {
    json toxics = json::array();
    for (const Toxic& toxic : info->toxics) {
      toxics.push_back(ToxicToJson(toxic));
    }
    return Ok(toxics);
  }
  if (request.method != "POST") return MethodNotAllowed("GET, HEAD, POST");
  Result<json> body = ParseBody(request);
  if (!body.ok()) return FromStatus(body.status());
  Result<Toxic> toxic = ToxicFromJson(*body);
  if (!toxic.ok()) return FromStatus(toxic.status());
  Status added = emulator.AddToxic(proxy, *toxic);
  return added.ok() ? Ok(ToxicToJson(*toxic)) : FromStatus(added);
}

HttpResponse ToxicRoute(WanEmulator& emulator, const HttpRequest& request, const std::string& proxy,
                        const std::string& name) {
  Result<Toxic> toxic = emulator.GetToxic(proxy, name);
  if (!toxic.ok()) return FromStatus(toxic.status());
  if (request.method == "GET") return Ok(ToxicToJson(*toxic));
  if (request.method == "DELETE") {
    Status removed = emulator.RemoveToxic(proxy, name);
    return removed.ok() ? NoContent() : FromStatus(removed);
  }
  if (request.method != "POST") return MethodNotAllowed("GET, HEAD, POST, DELETE");
  Result<json> body = ParseBody(request);
  if (!body.ok()) return FromStatus(body.status());
  Toxic updated = *toxic;
  Status applied = UpdateToxicFromJson(*body, updated);
  if (!applied.ok()) return FromStatus(applied);
  Status replaced = emulator.ReplaceToxic(proxy, updated);
  return replaced.ok() ? Ok(ToxicToJson(updated)) : FromStatus(replaced);
}

HttpResponse Route(WanEmulator& emulator, const HttpRequest& request,
                   const std::vector<std::string>& path) {
  const size_t n = path.size();
  if (n == 1 && path[0] == "version") {
    if (request.method != "GET") return MethodNotAllowed("GET, HEAD");
    return Ok(json{{"version", kWanVersion}});
  }
  if (n == 1 && path[0] == "metrics") {
    if (request.method != "GET") return MethodNotAllowed("GET, HEAD");
    HttpResponse response = HttpResponse::Text(200, RenderWanMetrics(emulator.ListProxies()));
    response.content_type = std::string(kPrometheusContentType);
    return response;
  }
  if (n == 1 && path[0] == "reset") {
    if (request.method != "POST") return MethodNotAllowed("POST");
    emulator.Reset();
    return NoContent();
  }
  if (n >= 1 && path[0] == "proxies") {
    if (n == 1) return ProxiesRoute(emulator, request);
    if (n == 2) return ProxyRoute(emulator, request, path[1]);
    if (n == 3 && path[2] == "toxics") return ToxicsRoute(emulator, request, path[1]);
    if (n == 4 && path[2] == "toxics") return ToxicRoute(emulator, request, path[1], path[3]);
  }
  return JsonError(404, "no route for " + request.method + " " + request.path);
}

}  // namespace

HttpResponse HandleWanAdmin(WanEmulator& emulator, const HttpRequest& request) {
  std::optional<std::vector<std::string>> path = SplitPath(request.path);
  if (!path) return JsonError(400, "malformed percent-escape in path");
  try {
    return Route(emulator, request, *path);
  } catch (const std::exception& e) {  // nlohmann throws on misuse; never let it leave
    return JsonError(500, std::string("internal error: ") + e.what());
  }
}

HttpHandler MakeWanAdminHandler(WanEmulator& emulator) {
  return [&emulator](HttpRequest request, HttpResponder respond) {
    respond(HandleWanAdmin(emulator, request));
  };
}

}  // namespace meridian::wan
