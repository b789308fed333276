// The region's HTTP handler: each parsed command becomes a step of the core (writes), a read of
// its state (reads, possibly after a session wait or across a quorum), or a status document.
#include <nlohmann/json.hpp>

#include <charconv>
#include <string>
#include <utility>

#include "clock/clock_codec.h"
#include "server/region_server_impl.h"

namespace meridian {

namespace {

// Label values must come from small fixed sets: anything else a client sends is "other".
std::string MethodLabel(const std::string& method) {
  for (const char* known : {"GET", "PUT", "POST", "DELETE", "HEAD", "PATCH", "OPTIONS"}) {
    if (method == known) return method;
  }
  return "other";
}

struct RouteLabels {
  std::string data_class = "none";
  std::string op;
};

RouteLabels LabelsFor(const ApiCommand& command) {
  RouteLabels labels;
  if (const auto* w = std::get_if<WriteCommand>(&command)) {
    labels.data_class = std::string(DataClassName(w->write.target.data_class));
    labels.op = "write";
  } else if (const auto* r = std::get_if<ReadCommand>(&command)) {
    labels.data_class = std::string(DataClassName(r->key.data_class));
    labels.op = r->consistency == Consistency::kQuorum ? "quorum_read" : "read";
  } else if (std::holds_alternative<MetricsCommand>(command)) {
    labels.op = "metrics";
  } else if (std::holds_alternative<HealthCommand>(command)) {
    labels.op = "healthz";
  } else if (std::holds_alternative<ConflictsCommand>(command)) {
    labels.op = "conflicts";
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
  if (loading.load()) return respond(LoadingResponse(request));
  const SteadyTime start = std::chrono::steady_clock::now();
  if (request.path.starts_with("/admin/")) {
    HandleAdmin(request, std::move(respond));
    return;
  }
  // Wraps the responder so every answer is counted and timed under its route's labels.
  auto timed = [this, start, method = MethodLabel(request.method)](
                   HttpResponder inner, const std::string& data_class, const std::string& op) {
    Histogram* latency = &metrics.request_seconds.WithLabels({method, data_class, op});
    return HttpResponder([this, inner = std::move(inner), latency, start, method, data_class,
                          op](HttpResponse response) {
      latency->Observe(SecondsSince(start));
      metrics.requests.WithLabels({method, data_class, op, std::to_string(response.status)})
          .Increment();
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
    return HandleHandle(std::get<HandleCommand>(*handle), std::move(answer));
  }
  ApiCommand command = ParseApiRequest(request, api_options);
  const RouteLabels labels = LabelsFor(command);
  HttpResponder answer = timed(std::move(respond), labels.data_class, labels.op);

  if (const auto* error = std::get_if<ApiError>(&command)) {
    answer(FormatError(*error));
  } else if (const auto* write = std::get_if<WriteCommand>(&command)) {
    HandleWrite(*write, std::move(answer));
  } else if (const auto* read = std::get_if<ReadCommand>(&command)) {
    HandleRead(*read, std::move(answer));
  } else if (std::holds_alternative<HealthCommand>(command)) {
    std::lock_guard lock(mu);
    answer(HealthzLocked());
  } else if (std::holds_alternative<MetricsCommand>(command)) {
    std::lock_guard lock(mu);
    answer(FormatMetrics(RenderMetricsLocked()));
  } else if (const auto* conflicts = std::get_if<ConflictsCommand>(&command)) {
    std::lock_guard lock(mu);
    answer(FormatConflicts(replica->conflicts(), region_names, conflicts->limit));
  }
}

void RegionServer::Impl::HandleWrite(const WriteCommand& command, HttpResponder respond) {
  std::lock_guard lock(mu);
  if (auto refusal = RefusalLocked()) return respond(std::move(*refusal));
  Output out;
  Result<WriteReply> reply = replica->OnClientWrite(command.write, NowMs(), &out);
  if (!reply.ok()) return respond(FormatStatus(reply.status()));
  SubmitLocked(std::move(out), [this, reply = std::move(reply).value(),
                                respond = std::move(respond)](const Status& durable) {
    respond(durable.ok()
                ? FormatWrite(reply, region_names)
                : FormatStatus(Unavailable("the write was not made durable (" + durable.ToString() +
                                           "); it may or may not "
                                           "take effect: retry with the same "
                                           "Idempotency-Key")));
  });
}

void RegionServer::Impl::HandleRead(const ReadCommand& command, HttpResponder respond) {
  std::lock_guard lock(mu);
  if (auto refusal = RefusalLocked()) return respond(std::move(*refusal));
  if (command.session && !replica->HasApplied(*command.session)) {
    if (session_waits.size() >= options.max_waiting_reads) {
      return respond(FormatStatus(ResourceExhausted(
          "too many reads are waiting for their session token here; retry later")));
    }
    session_waits.push_back(
        {command, std::move(respond),
         std::chrono::steady_clock::now() + std::chrono::milliseconds(options.session_wait_ms)});
    return;
  }
  ServeReadLocked(command, std::move(respond));
}

void RegionServer::Impl::ServeReadLocked(const ReadCommand& command, HttpResponder respond) {
  if (command.consistency == Consistency::kQuorum) {
    StartQuorumReadLocked(command.key, std::move(respond));
    return;
  }
  ReadResult result = replica->Read(command.key);
  if (DurableLocked(command.key)) {
    // The key is on disk, other keys may not be: hand out the vector that is durable, which
    // covers every op this key's state holds.
    {
      std::lock_guard lock(durable_mu);
      result.applied = durable_applied;
    }
    // The client's own past stays in its token even when it is not all durable here yet.
    if (command.session) result.applied.Merge(*command.session);
    return respond(FormatRead(command.key, result, region_names));
  }
  AnswerAfterCommitLocked(FormatRead(command.key, result, region_names), std::move(respond));
}

bool RegionServer::Impl::DurableLocked(const StateKey& key) {
  auto it = undurable_keys.find(key);
  if (it == undurable_keys.end()) return true;
  std::lock_guard lock(durable_mu);
  return it->second <= durable_steps;
}

void RegionServer::Impl::AnswerAfterCommitLocked(HttpResponse response, HttpResponder respond) {
  // With nothing in the pipeline ahead of it, Submit answers at once.
  pipeline->Submit({}, [response = std::move(response),
                        respond = std::move(respond)](const Status& durable) mutable {
    respond(durable.ok() ? std::move(response)
                         : FormatStatus(Unavailable("the state read could not be made durable: " +
                                                    durable.ToString())));
  });
}

std::vector<RegionServer::Impl::SessionWait> RegionServer::Impl::TakeSatisfiedWaitsLocked() {
  std::vector<SessionWait> satisfied;
  auto ready = [&](SessionWait& wait) {
    if (!replica->HasApplied(*wait.command.session)) return false;
    satisfied.push_back(std::move(wait));
    return true;
  };
  session_waits.erase(std::remove_if(session_waits.begin(), session_waits.end(), ready),
                      session_waits.end());
  return satisfied;
}

void RegionServer::Impl::ExpireSessionWaitsLocked(SteadyTime now) {
  auto expired = [&](SessionWait& wait) {
    if (now < wait.deadline && health != RegionHealth::kFailed) return false;
    wait.respond(FormatStatus(DeadlineExceeded(
        "session token not satisfied within " + std::to_string(options.session_wait_ms) +
        " ms: region " + region_names[options.self] + " has applied " +
        replica->applied().ToString() + " but the token needs " + wait.command.session->ToString() +
        "; retry, or read in the region that took the write")));
    return true;
  };
  session_waits.erase(std::remove_if(session_waits.begin(), session_waits.end(), expired),
                      session_waits.end());
}

void RegionServer::Impl::StartQuorumReadLocked(const StateKey& key, HttpResponder respond) {
  const size_t regions = region_names.size();
  const size_t majority = regions / 2 + 1;
  if (replica->neighbors().size() + 1 < majority) {
    return respond(FormatStatus(Unavailable(
        "quorum read: this region replicates directly with too few regions for a majority")));
  }
  // Known at once: with too few peers connected no majority can answer, so say so now rather
  // than after quorum_timeout_ms (as a handle claim in the same spot does).
  size_t connected = 0;
  for (RegionId peer : replica->neighbors())
    connected += transport->Connected(peer) ? 1 : 0;
  if (connected + 1 < majority) {
    return respond(FormatStatus(Unavailable(
        "quorum read: only " + std::to_string(connected + 1) + " of " + std::to_string(regions) +
        " regions reachable from " + region_names[options.self] + ", a majority needs " +
        std::to_string(majority))));
  }
  QuorumRead read;
  read.key = key;
  read.deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options.quorum_timeout_ms);
  read.needed = majority;
  read.answered.push_back(options.self);
  ReadResult local = replica->Read(key);
  read.merged = std::move(local.state);
  read.joined = local.applied;
  if (majority == 1) {
    return AnswerAfterCommitLocked(
        FormatRead(key, ReadResult{std::move(read.merged), read.joined}, region_names),
        std::move(respond));
  }
  read.respond = std::move(respond);
  uint64_t id = 0;
  {
    std::lock_guard quorum_lock(quorum_mu);
    id = next_quorum_id++;
    quorum_reads.emplace(id, std::move(read));
  }
  // The answers arrive in steps submitted after this one, so they are released only once the
  // local state read above is durable too.
  Output out;
  replica->RequestRead(id, key, NowMs(), &out);
  SubmitLocked(std::move(out));
}

void RegionServer::Impl::OnReadReply(RegionId from, const pb::ReadReply& reply) {
  std::lock_guard quorum_lock(quorum_mu);
  auto it = quorum_reads.find(reply.id());
  if (it == quorum_reads.end()) return;  // answered or expired already
  QuorumRead& read = it->second;
  if (std::find(read.answered.begin(), read.answered.end(), from) != read.answered.end()) return;
  auto applied = Decode(reply.applied());
  if (!applied.ok()) return;
  if (reply.found()) {
    auto state = DecodeState(reply.state(), read.key.data_class);
    if (!state.ok()) return;
    if (read.merged) {
      MergeState(*read.merged, *state);
    } else {
      read.merged = std::move(state).value();
    }
  }
  read.joined.Merge(*applied);
  read.answered.push_back(from);
  if (read.answered.size() < read.needed) return;
  read.respond(FormatRead(read.key, ReadResult{std::move(read.merged), read.joined}, region_names));
  quorum_reads.erase(it);
}

void RegionServer::Impl::ExpireQuorumReads(SteadyTime now) {
  std::lock_guard quorum_lock(quorum_mu);
  for (auto it = quorum_reads.begin(); it != quorum_reads.end();) {
    QuorumRead& read = it->second;
    if (now < read.deadline) {
      ++it;
      continue;
    }
    read.respond(
        FormatStatus(Unavailable("quorum read: " + std::to_string(read.answered.size()) + " of " +
                                 std::to_string(region_names.size()) + " regions answered within " +
                                 std::to_string(options.quorum_timeout_ms) +
                                 " ms; a majority needs " + std::to_string(read.needed))));
    it = quorum_reads.erase(it);
  }
}

void RegionServer::Impl::HandleHandle(const HandleCommand& command, HttpResponder respond) {
  std::lock_guard lock(mu);
  if (auto refusal = RefusalLocked()) return respond(std::move(*refusal));
  if (options.strong.mode == HandleMode::kConsensus) {
    // Known to be cut off from a majority: say so now rather than after the request timeout.
    // (A link that just died may still look connected; then the timeout answers.)
    size_t reachable = 1;
    for (RegionId peer = 0; peer < region_names.size(); ++peer) {
      if (peer != options.self && transport->Connected(peer)) ++reachable;
    }
    if (reachable < strong->quorum()) {
      return respond(FormatStatus(Unavailable(
          "region " + region_names[options.self] + " reaches " + std::to_string(reachable) +
          " of " + std::to_string(region_names.size()) + " regions; a handle needs a majority of " +
          std::to_string(strong->quorum()))));
    }
  }
  const uint64_t id = next_handle_request++;
  {
    std::lock_guard handle_lock(handle_mu);
    handle_requests.emplace(id, std::move(respond));
  }
  StrongOutput out;
  Result<std::string> accepted = strong->OnClientRequest(id, command.request, NowMs(), &out);
  if (!accepted.ok()) {
    HttpResponder refused;
    {
      std::lock_guard handle_lock(handle_mu);
      refused = std::move(handle_requests[id]);
      handle_requests.erase(id);
    }
    return refused(FormatStatus(accepted.status()));
  }
  SubmitStrongLocked(std::move(out));
}

void RegionServer::Impl::HandleAdmin(const HttpRequest& request, HttpResponder respond) {
  // Chaos hooks for the demo (`meridian chaos skew`); the listener is the region's own.
  if (request.path != "/admin/skew") {
    return respond(FormatError({404, "not_found", "no admin route " + request.path, ""}));
  }
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
