// The region's HTTP handler: each parsed command becomes a step of the core (writes), a read of
// its state (reads, possibly after a session wait or across a quorum), or a status document.
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include <charconv>
#include <string>
#include <utility>

#include "api/http_auth.h"
#include "api/request_log.h"
#include "clock/clock_codec.h"
#include "dashboard/dashboard.h"
#include "server/region_server_impl.h"

namespace meridian {

namespace {

// Label values must come from small fixed sets: anything else a client sends is "other".
// Views of static strings, so the cached route (server/http_request_metrics.h) is found without
// copying a label.
std::string_view MethodLabel(const std::string& method) {
  for (std::string_view known : {"GET", "PUT", "POST", "DELETE", "HEAD", "PATCH", "OPTIONS"}) {
    if (method == known) return known;
  }
  return "other";
}

struct RouteLabels {
  std::string_view data_class = "none";
  std::string_view op;
};

RouteLabels LabelsFor(const ApiCommand& command) {
  RouteLabels labels;
  if (const auto* w = std::get_if<WriteCommand>(&command)) {
    labels.data_class = DataClassName(w->write.target.data_class);
    labels.op = "write";
  } else if (const auto* r = std::get_if<ReadCommand>(&command)) {
    labels.data_class = DataClassName(r->key.data_class);
    labels.op = r->consistency == Consistency::kQuorum ? "quorum_read"
                : r->consistency == Consistency::kAll  ? "all_read"
                                                       : "read";
  } else if (const auto* s = std::get_if<ScanCommand>(&command)) {
    labels.data_class = DataClassName(*s->data_class);
    labels.op = "scan";
  } else if (std::holds_alternative<MetricsCommand>(command)) {
    labels.op = "metrics";
  } else if (std::holds_alternative<HealthCommand>(command)) {
    labels.op = "healthz";
  } else if (std::holds_alternative<ConflictsCommand>(command)) {
    labels.op = "conflicts";
  } else if (std::holds_alternative<EraseCommand>(command)) {
    labels.op = "erase";
  } else {
    labels.op = "rejected";
  }
  return labels;
}

double SecondsSince(SteadyTime start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

HttpResponse RegionServer::Impl::LoadingResponse(const HttpRequest& request) const {
  const std::string& name = region_names[options.self];
  const uint64_t loaded = states_loaded.load();
  if (request.path == "/healthz") {
    return HttpResponse::Json(
        503,
        nlohmann::json{{"region", name}, {"status", "loading"}, {"keys_loaded", loaded}}.dump());
  }
  return FormatStatus(Unavailable("region " + name + " is loading its data from disk (" +
                                  std::to_string(loaded) + " keys so far); retry shortly"));
}

void RegionServer::Impl::Handle(HttpRequest request, HttpResponder respond) {
  // Every answer below, refusals and 404s included, carries the caller's X-Request-Id back (the
  // router's, when it forwarded it).
  respond = WithRequestId(request, std::move(respond));
  if (loading.load()) return respond(LoadingResponse(request));
  const SteadyTime start = std::chrono::steady_clock::now();
  // Contract 9: nothing that changes a region's clock, data files or membership is reachable
  // here, whatever the key.
  if (request.path.starts_with("/admin/")) {
    return respond(FormatError({404, "not_found",
                                "no route " + request.path +
                                    " on the client listener: admin routes are served on the "
                                    "region's admin listener",
                                ""}));
  }
  // Open like /metrics, which is all it reads: the page and its config hold no data.
  if (dashboard::IsDashboardPath(request.path)) return respond(Dashboard(request));
  const auth::KeyEntry* caller = nullptr;  // null: auth off, or an open route
  if (keys && !IsOpenRoute(request)) {
    auto authenticated = AuthenticateHttp(*keys, request);
    if (auto* refusal = std::get_if<HttpResponse>(&authenticated)) {
      return respond(std::move(*refusal));
    }
    caller = std::get<const auth::KeyEntry*>(authenticated);
  }
  // Wraps the responder so every answer is counted and timed under its route's labels and is
  // logged when slow, with the caller's X-Request-Id when it is valid (never logged as is).
  const std::string request_id = RequestIdOf(request);
  auto timed = [this, start, method = MethodLabel(request.method), request_id,
                target = request.target](HttpResponder inner, std::string_view data_class,
                                         std::string_view op) {
    HttpRequestMetrics::Route* route = &http_metrics.For(method, data_class, op);
    return HttpResponder([this, inner = std::move(inner), route, start, method, request_id,
                          target](HttpResponse response) {
      const double seconds = SecondsSince(start);
      route->latency().Observe(seconds);
      route->Answered(response.status).Increment();
      const int64_t threshold_ms = options.slow_request_ms;
      if (threshold_ms >= 0 && seconds * 1000 >= static_cast<double>(threshold_ms)) {
        spdlog::warn(
            "{}", SlowRequestJson({"region", region_names[options.self], request_id, method, target,
                                   response.status, seconds * 1000, threshold_ms}));
      }
      inner(std::move(response));
    });
  };
  if (auto handle = ParseHandleRequest(request)) {
    const char* op = "rejected";
    if (const auto* c = std::get_if<HandleCommand>(&*handle)) {
      op = c->request.kind == HandleOpKind::kClaim     ? "claim"
           : c->request.kind == HandleOpKind::kRelease ? "release"
                                                       : "read";
    }
    HttpResponder answer = timed(std::move(respond), "handle", op);
    if (const auto* error = std::get_if<ApiError>(&*handle)) return answer(FormatError(*error));
    if (caller != nullptr) {
      const auth::Access access = *AccessFor(std::get<HandleCommand>(*handle));
      if (!auth::Allows(caller->grants, access)) return answer(Forbidden(*caller, access));
    }
    return Submit(std::get<HandleCommand>(std::move(*handle)),
                  [this, answer = std::move(answer)](NodeReply reply) {
                    answer(FormatReply(reply, nullptr));
                  });
  }
  ApiCommand command = ParseApiRequest(request, api_options);
  const RouteLabels labels = LabelsFor(command);
  HttpResponder answer = timed(std::move(respond), labels.data_class, labels.op);

  if (caller != nullptr) {
    if (auto access = AccessFor(command); access && !auth::Allows(caller->grants, *access)) {
      return answer(Forbidden(*caller, *access));
    }
  }
  if (const auto* error = std::get_if<ApiError>(&command)) {
    answer(FormatError(*error));
  } else if (auto* write = std::get_if<WriteCommand>(&command)) {
    Submit(std::move(*write), [this, answer = std::move(answer)](NodeReply reply) {
      answer(FormatReply(reply, nullptr));
    });
  } else if (auto* read = std::get_if<ReadCommand>(&command)) {
    StateKey key = read->key;
    Submit(std::move(*read),
           [this, answer = std::move(answer), key = std::move(key)](NodeReply reply) {
             HttpResponse response = FormatReply(reply, &key);
             // Contract 6: a region serves while catching up, and says what that means for a read.
             if (response.status == 200 && node->health() == RegionHealth::kCatchingUp) {
               response.headers.emplace_back(
                   std::string(kStaleHeader),
                   "region " + region_names[options.self] +
                       " is catching up: it has not yet heard from its peers since it started, so "
                       "writes made elsewhere may be missing");
             }
             answer(std::move(response));
           });
  } else if (auto* scan = std::get_if<ScanCommand>(&command)) {
    Submit(std::move(*scan), [this, answer = std::move(answer)](NodeReply reply) {
      answer(FormatReply(reply, nullptr));
    });
  } else if (auto* erase = std::get_if<EraseCommand>(&command)) {
    Submit(std::move(*erase), [this, answer = std::move(answer)](NodeReply reply) {
      answer(FormatReply(reply, nullptr));
    });
  } else if (std::holds_alternative<HealthCommand>(command)) {
    answer(Healthz());
  } else if (std::holds_alternative<MetricsCommand>(command)) {
    answer(FormatMetrics(RenderMetrics()));
  } else if (const auto* conflicts = std::get_if<ConflictsCommand>(&command)) {
    answer(FormatConflicts(node->replica().conflicts(), region_names, conflicts->limit));
  }
}

// The region's own view of the dashboard: the page reads this region's /metrics.
HttpResponse RegionServer::Impl::Dashboard(const HttpRequest& request) const {
  if (request.method != "GET") {
    return FormatError({405, "method_not_allowed", request.path + " takes GET (or HEAD)", "GET"});
  }
  if (auto asset = dashboard::Asset(request.path)) return std::move(*asset);
  if (request.path == dashboard::kConfigPath) {
    dashboard::View view;
    view.cluster = false;
    view.regions = {region_names[options.self]};
    view.metrics_urls = {{region_names[options.self], "/metrics"}};
    return dashboard::ConfigResponse(view);
  }
  return FormatError({404, "not_found",
                      "no dashboard resource " + request.path +
                          " on a region (the page is /dashboard; the router's has the cluster)",
                      ""});
}

std::optional<std::string> RegionServer::Impl::Admit(size_t commands, const char* listener) {
  const size_t max = options.limits.max_inflight_requests;
  if (pending.size() + commands <= max) return std::nullopt;
  metrics.refused.WithLabels({listener, "inflight"}).Increment();
  return "region " + region_names[options.self] + " already has its maximum of " +
         std::to_string(max) + " requests in flight; retry shortly";
}

void RegionServer::Impl::Submit(NodeCommand command, PendingRequest request) {
  // RESP admits a command's node commands together before submitting them (no partial MSET):
  // this refuses HTTP requests only.
  if (std::optional<std::string> refusal = Admit(1, "http")) {
    return request(NodeReply{0, Unavailable(*std::move(refusal))});
  }
  const RequestId id = next_request++;
  pending.emplace(id, std::move(request));
  const NodeTime now = Now();
  NodeOutput out;
  // Quorum reads, write levels and handles refuse at once when too few regions are reachable:
  // as of now.
  const auto* read = std::get_if<ReadCommand>(&command);
  const auto* write = std::get_if<WriteCommand>(&command);
  if ((read && read->consistency != Consistency::kLocal) ||
      (write && (write->replicas > 1 || write->level != WriteLevel::kCount)) ||
      std::holds_alternative<HandleCommand>(command)) {
    RefreshLinks(now, &out);
  }
  node->OnCommand(id, std::move(command), now, &out);
  Process(std::move(out));
}

void RegionServer::Impl::Answer(NodeReply reply) {
  auto it = pending.find(reply.id);
  if (it == pending.end()) return;
  PendingRequest done = std::move(it->second);
  pending.erase(it);
  done(std::move(reply));
}

HttpResponse RegionServer::Impl::FormatReply(const NodeReply& reply, const StateKey* key) const {
  return std::visit(
      [&](const auto& result) -> HttpResponse {
        using T = std::decay_t<decltype(result)>;
        if constexpr (std::is_same_v<T, Status>) {
          return FormatStatus(result);
        } else if constexpr (std::is_same_v<T, WriteReply>) {
          return FormatWrite(result, slot_names, api_options.token_tag);
        } else if constexpr (std::is_same_v<T, ReadResult>) {
          return FormatRead(*key, result, slot_names, api_options.token_tag);
        } else if constexpr (std::is_same_v<T, ScanResult>) {
          return FormatScan(result, slot_names, api_options.token_tag);
        } else {
          return FormatHandleReply(result, region_names[options.self]);
        }
      },
      reply.result);
}

}  // namespace meridian
