// The region's admin routes: the demo's chaos hook for its clock (`meridian chaos skew`) and
// online backups (`meridian backup`). Served only on the admin listener (the config's `admin`,
// loopback in every shipped config), and with auth on only to keys with the admin role: they
// change the region's clock and copy its whole database.
//
// POST /admin/backup?to=DIR   DIR absolute; a backup of this region's database into DIR
//   (incremental after the first there), consistent at one point between writes. Answers when
//   done: 200 {"backup_id","size_bytes","files","seconds","dir"}; 409 while another runs; 400
//   for a missing or relative DIR; 503 when the copy fails (the message names why).
#include <nlohmann/json.hpp>

#include <boost/asio/post.hpp>

#include <charconv>
#include <filesystem>
#include <string>
#include <utility>

#include "api/http_auth.h"
#include "api/request_log.h"
#include "server/region_server_impl.h"

namespace meridian {

void RegionServer::Impl::HandleAdminListener(HttpRequest request, HttpResponder respond) {
  respond = WithRequestId(request, std::move(respond));  // on refusals and 404s too
  if (loading.load()) return respond(LoadingResponse(request));
  if (keys) {
    auto authenticated = AuthenticateHttp(*keys, request);
    if (auto* refusal = std::get_if<HttpResponse>(&authenticated)) {
      return respond(std::move(*refusal));
    }
    const auth::KeyEntry* key = std::get<const auth::KeyEntry*>(authenticated);
    if (!auth::HasAdmin(key->grants)) return respond(NotAdmin(*key));
  }
  if (!request.path.starts_with("/admin/")) {
    return respond(FormatError(
        {404, "not_found", "the admin listener serves /admin/* only, not " + request.path, ""}));
  }
  HandleAdmin(request, std::move(respond));
}

void RegionServer::Impl::HandleAdmin(const HttpRequest& request, HttpResponder respond) {
  if (request.path == "/admin/skew") return HandleSkew(request, std::move(respond));
  if (request.path == "/admin/backup") return HandleBackup(request, std::move(respond));
  respond(FormatError({404, "not_found", "no admin route " + request.path, ""}));
}

void RegionServer::Impl::HandleBackup(const HttpRequest& request, HttpResponder respond) {
  if (request.method != "POST") {
    return respond(FormatError({405, "method_not_allowed", "use POST", "POST"}));
  }
  auto to = request.query.find("to");
  if (to == request.query.end() || to->second.empty() ||
      !std::filesystem::path(to->second).is_absolute()) {
    return respond(FormatError(
        {400, "invalid_argument", "?to= must name an absolute directory for the backup", ""}));
  }
  if (backup_running.exchange(true)) {
    return respond(FormatError({409, "conflict", "a backup of this region is running", ""}));
  }
  if (backup_thread.joinable()) backup_thread.join();  // the previous one, finished
  backup_thread = std::thread([this, dir = to->second, respond = std::move(respond)]() mutable {
    const SteadyTime start = std::chrono::steady_clock::now();
    Result<RocksDbBackupInfo> made = storage->Backup(dir);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    HttpResponse response =
        made.ok() ? HttpResponse::Json(200, nlohmann::json{{"backup_id", made->backup_id},
                                                           {"size_bytes", made->size_bytes},
                                                           {"files", made->files},
                                                           {"seconds", seconds},
                                                           {"dir", dir}}
                                                .dump())
                  : FormatStatus(Unavailable(made.status().message()));
    backup_running = false;
    boost::asio::post(loop,
                      [respond = std::move(respond), response = std::move(response)]() mutable {
                        respond(std::move(response));
                      });
  });
}

void RegionServer::Impl::HandleSkew(const HttpRequest& request, HttpResponder respond) {
  if (request.method == "POST" || request.method == "PUT") {
    auto ms = request.query.find("ms");
    int64_t value = 0;
    bool parsed = false;
    if (ms != request.query.end()) {
      const char* end = ms->second.data() + ms->second.size();
      auto [ptr, ec] = std::from_chars(ms->second.data(), end, value);
      parsed = ec == std::errc() && ptr == end && !ms->second.empty();
    }
    if (!parsed || value < -86'400'000 || value > 86'400'000) {
      return respond(
          FormatError({400, "invalid_argument", "?ms= must be an integer within +-86400000", ""}));
    }
    clock_skew_ms.store(value);
  } else if (request.method != "GET") {
    return respond(FormatError({405, "method_not_allowed", "use GET or POST", "GET, POST"}));
  }
  respond(
      HttpResponse::Json(200, "{\"clock_skew_ms\":" + std::to_string(clock_skew_ms.load()) + "}"));
}

}  // namespace meridian
