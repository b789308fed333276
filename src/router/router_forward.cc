// Router::Impl's forwarding: one client request through the regions, nearest healthy first.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

#include "api/http_api.h"
#include "api/http_api_handles.h"
#include "api/request_log.h"
#include "dashboard/dashboard.h"
#include "router/forward_policy.h"
#include "router/router_impl.h"

namespace meridian::router {

namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) {
    out += (out.empty() ? "" : ", ") + name;
  }
  return out;
}

}  // namespace

void Router::Impl::Handle(HttpRequest request, HttpResponder respond) {
  if (request.path == "/router" || request.path.starts_with("/router/")) {
    return HandleOwn(request, respond);
  }
  if (dashboard::IsDashboardPath(request.path)) return HandleDashboard(request, respond);
  Forward(std::move(request), std::move(respond));
}

void Router::Impl::Answer(const HttpResponder& respond, HttpResponse response) {
  forward_metrics.Answered(std::nullopt, response.status).Increment();
  respond(std::move(response));
}

void Router::Impl::Forward(HttpRequest request, HttpResponder respond) {
  RegionId location = options.location;
  if (const std::string_view claimed = request.Header(kClientRegionHeader); !claimed.empty()) {
    const auto& names = topology.region_names;
    const auto it = std::find(names.begin(), names.end(), claimed);
    if (it == names.end()) {
      return Answer(respond,
                    RouterError(400, "invalid_argument",
                                "X-Client-Region: unknown region '" + std::string(claimed) +
                                    "' (regions: " + JoinNames(names) + ")"));
    }
    location = static_cast<RegionId>(it - names.begin());
  }
  std::string key;
  std::string request_id(request.Header("x-request-id"));
  {
    MutexLock lock(&mu);
    if (IsWriteMethod(request.method)) {
      const uint64_t high = random.Next();
      key = FormatIdempotencyKey(high, random.Next());
    }
    // A client's id is passed on when it is plain (contract 1 of api/request_log.h).
    if (!IsValidRequestId(request_id)) request_id = FormatRequestId(random.Next());
  }
  auto call = std::make_shared<ForwardCall>();
  call->request = BuildUpstreamRequest(request, key);
  std::erase_if(call->request.headers,
                [](const auto& field) { return EqualsIgnoreCase(field.first, kRequestIdHeader); });
  call->request.headers.emplace_back(std::string(kRequestIdHeader), request_id);
  call->location = location;
  BarRegionsOutsideResidency(request, *call);
  call->respond = WithRequestId(std::move(respond), request, std::move(request_id));
  NextAttempt(call);
}

HttpResponder Router::Impl::WithRequestId(HttpResponder respond, const HttpRequest& request,
                                          std::string request_id) {
  return [respond = std::move(respond), request_id = std::move(request_id), method = request.method,
          target = request.target, started = UpstreamClock::now(),
          threshold_ms = options.slow_request_ms](HttpResponse response) {
    std::erase_if(response.headers, [](const auto& field) {
      return EqualsIgnoreCase(field.first, kRequestIdHeader);
    });
    response.headers.emplace_back(std::string(kRequestIdHeader), request_id);
    const double ms =
        std::chrono::duration<double, std::milli>(UpstreamClock::now() - started).count();
    if (threshold_ms >= 0 && ms >= static_cast<double>(threshold_ms)) {
      std::string region;
      for (const auto& [name, value] : response.headers) {
        if (EqualsIgnoreCase(name, kServedByHeader)) region = value;
      }
      spdlog::warn("{}", SlowRequestJson({"router", region, request_id, method, target,
                                          response.status, ms, threshold_ms}));
    }
    respond(std::move(response));
  };
}

void Router::Impl::BarRegionsOutsideResidency(const HttpRequest& request, ForwardCall& call) const {
  const Residency& residency = topology.residency;
  if (residency.empty()) return;
  // The region's own parser finds the key: the router and the region agree on it by construction.
  const ApiCommand command = ParseApiRequest(request);
  const StateKey* key = nullptr;
  if (const auto* write = std::get_if<WriteCommand>(&command)) key = &write->write.target;
  if (const auto* read = std::get_if<ReadCommand>(&command)) key = &read->key;
  RegionMask allowed = 0;
  if (auto handle = ParseHandleRequest(request)) {
    // A pinned handle is decided by its set alone (RegionNode contract 6): only its regions.
    if (const auto* claim = std::get_if<HandleCommand>(&*handle);
        claim != nullptr && residency.RuleForHandle(claim->request.name) != nullptr) {
      allowed = residency.groups()[residency.GroupOfHandle(claim->request.name)].mask;
    }
  } else if (const auto* erase = std::get_if<EraseCommand>(&command)) {
    allowed = residency.SubjectRegions(topology.subject_patterns, erase->subject);
  } else if (key != nullptr && residency.RuleFor(*key) != nullptr) {
    allowed = residency.groups()[residency.GroupOf(*key)].mask;
  }
  if (allowed == 0) return;
  for (RegionId r = 0; r < region_count(); ++r) {
    if (!Residency::Holds(allowed, r)) call.barred.push_back(r);
  }
  call.allowed_names = MaskNames(allowed, topology.region_names);
}

void Router::Impl::NextAttempt(const std::shared_ptr<ForwardCall>& call) {
  std::optional<RegionId> region;
  {
    MutexLock lock(&mu);
    if (!stopping) {
      std::vector<RegionId> skip = call->tried;
      skip.insert(skip.end(), call->barred.begin(), call->barred.end());
      region = table.ChooseNext(call->location, skip);
      // With no caught-up region left, a catching-up one that answers beats no answer; Deliver
      // marks what it serves as possibly stale.
      if (!region) {
        region = table.ChooseCatchingUp(call->location, skip);
        if (region) call->catching_up.push_back(*region);
      }
    }
  }
  if (!region) return FinishWithoutRegion(call);
  if (!call->tried.empty()) metrics.reroutes.Increment();
  call->tried.push_back(*region);
  const auto sent_at = UpstreamClock::now();
  forward_pools[call->location][*region]->Send(
      call->request, sent_at + std::chrono::milliseconds(options.forward_timeout_ms),
      [this, call, region = *region, sent_at](Result<HttpResponse> result) {
        OnAttempt(call, region, sent_at, std::move(result));
      });
}

void Router::Impl::OnAttempt(const std::shared_ptr<ForwardCall>& call, RegionId region,
                             UpstreamClock::time_point sent_at, Result<HttpResponse> result) {
  const std::string& name = topology.region_names[region];
  const int http_status = result.ok() ? result->status : 0;
  if (result.ok()) {
    const std::chrono::duration<double> latency = UpstreamClock::now() - sent_at;
    forward_metrics.Latency(region).Observe(latency.count());
  }
  const std::string what =
      result.ok() ? "HTTP " + std::to_string(http_status) : result.status().message();
  switch (JudgeAttempt(result.status().code(), http_status)) {
    case AttemptVerdict::kDeliver:
      return Deliver(call, region, std::move(*result));
    case AttemptVerdict::kRefuse:
      return Answer(call->respond, RouterError(400, "invalid_argument", what));
    case AttemptVerdict::kTryNext:
      if (result.ok()) {
        call->fallback_region = region;
        call->fallback = std::move(*result);
      }
      break;
    case AttemptVerdict::kMarkDownAndTryNext: {
      HealthEvent event;
      {
        MutexLock lock(&mu);
        event = table.OnForwardFailed(call->location, region, NowUs(), "forward: " + what);
      }
      Apply(call->location, region, event, "forward: " + what);
      break;
    }
  }
  call->errors += (call->errors.empty() ? "" : "; ") + name + ": " + what;
  NextAttempt(call);
}

void Router::Impl::Deliver(const std::shared_ptr<ForwardCall>& call, RegionId region,
                           HttpResponse response) {
  const std::string& name = topology.region_names[region];
  forward_metrics.Answered(region, response.status).Increment();
  const bool catching_up = std::find(call->catching_up.begin(), call->catching_up.end(), region) !=
                           call->catching_up.end();
  if (catching_up) metrics.stale_answers.Increment();
  call->respond(BuildClientResponse(std::move(response), name, catching_up));
}

void Router::Impl::FinishWithoutRegion(const std::shared_ptr<ForwardCall>& call) {
  if (call->fallback) return Deliver(call, *call->fallback_region, std::move(*call->fallback));
  const std::string& location = topology.region_names[call->location];
  if (call->tried.empty()) {
    const std::string allowed =
        call->barred.empty() ? ""
                             : " among those that may hold this key (" + call->allowed_names + ")";
    return Answer(call->respond, RouterError(503, "unavailable",
                                             "no healthy region" + allowed + " for clients in " +
                                                 location + " right now"));
  }
  Answer(call->respond,
         RouterError(503, "unavailable", "every region tried failed: " + call->errors));
}

}  // namespace meridian::router
