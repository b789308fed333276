// ParseApiRequest: route matching, method and query checks, then the per-route command.
#include <algorithm>
#include <initializer_list>

#include "api/base64url.h"
#include "api/http_api.h"
#include "api/http_api_bodies.h"
#include "api/http_api_validation.h"
#include "api/session_token.h"
#include "base/subject_pattern.h"

namespace meridian {
namespace {

using namespace api_internal;  // NOLINT: this file is the API's internals' one client

enum class Route {
  kProfile,
  kCounter,
  kCounterIncr,
  kCounterDecr,
  kTags,
  kTagElement,
  kRegister,
  kText,
  kStock,
  kMetrics,
  kHealth,
  kConflicts,
  kScan,
  kSubject,
};

struct Match {
  Route route = Route::kMetrics;
  std::string_view pattern;  // for messages, e.g. "/tags/{key}"
  std::string_view allow;    // methods, as the Allow header lists them
  DataClass data_class = DataClass::kProfile;
  std::string key;
  std::string element;
};

// "/a/b%2Fc/" -> {"a", "b/c", ""}. Empty segments are kept, so "/profile/" is an empty key rather
// than an unknown route; a segment is decoded after splitting, so %2F cannot split a key.
std::optional<std::vector<std::string>> DecodeSegments(std::string_view path) {
  std::vector<std::string> segments;
  if (path.empty() || path[0] != '/') return segments;
  path.remove_prefix(1);
  while (true) {
    const size_t slash = path.find('/');
    std::optional<std::string> decoded = PercentDecode(path.substr(0, slash), false);
    if (!decoded) return std::nullopt;
    segments.push_back(std::move(*decoded));
    if (slash == std::string_view::npos) return segments;
    path.remove_prefix(slash + 1);
  }
}

Match MakeMatch(Route route, std::string_view pattern, std::string_view allow,
                DataClass data_class = DataClass::kProfile) {
  Match m;
  m.route = route;
  m.pattern = pattern;
  m.allow = allow;
  m.data_class = data_class;
  return m;
}

std::optional<Match> MatchRoute(std::vector<std::string>& s) {
  const size_t n = s.size();
  if (n == 1 && s[0] == "metrics") return MakeMatch(Route::kMetrics, "/metrics", "GET, HEAD");
  if (n == 1 && s[0] == "healthz") return MakeMatch(Route::kHealth, "/healthz", "GET, HEAD");
  if (n == 1 && s[0] == "conflicts") return MakeMatch(Route::kConflicts, "/conflicts", "GET, HEAD");
  if (n == 1) {
    for (DataClass c : kAllDataClasses) {
      if (s[0] == DataClassName(c)) return MakeMatch(Route::kScan, "/{class}", "GET, HEAD", c);
    }
  }
  if (n < 2) return std::nullopt;
  std::optional<Match> m;
  if (n == 2 && s[0] == "profile") {
    m = MakeMatch(Route::kProfile, "/profile/{key}", "GET, HEAD, PUT, DELETE", DataClass::kProfile);
  } else if (n == 2 && s[0] == "counter") {
    m = MakeMatch(Route::kCounter, "/counter/{key}", "GET, HEAD, DELETE", DataClass::kCounter);
  } else if (n == 3 && s[0] == "counter" && s[2] == "incr") {
    m = MakeMatch(Route::kCounterIncr, "/counter/{key}/incr", "POST", DataClass::kCounter);
  } else if (n == 3 && s[0] == "counter" && s[2] == "decr") {
    m = MakeMatch(Route::kCounterDecr, "/counter/{key}/decr", "POST", DataClass::kCounter);
  } else if (n == 2 && s[0] == "tags") {
    m = MakeMatch(Route::kTags, "/tags/{key}", "GET, HEAD, POST, DELETE", DataClass::kTags);
  } else if (n == 3 && s[0] == "tags") {
    m = MakeMatch(Route::kTagElement, "/tags/{key}/{element}", "DELETE", DataClass::kTags);
    m->element = std::move(s[2]);
  } else if (n == 2 && s[0] == "subjects") {
    m = MakeMatch(Route::kSubject, "/subjects/{id}", "DELETE");
  } else if (n == 2 && s[0] == "text") {
    m = MakeMatch(Route::kText, "/text/{key}", "GET, HEAD, POST, DELETE", DataClass::kText);
  } else if (n == 2 && s[0] == "stock") {
    // No DELETE: a stock reset to zero would race a concurrent take (bounded_counter.h).
    m = MakeMatch(Route::kStock, "/stock/{key}", "GET, HEAD, POST", DataClass::kStock);
  } else if (n == 2 && s[0] == "register") {
    m = MakeMatch(Route::kRegister, "/register/{key}", "GET, HEAD, PUT, DELETE",
                  DataClass::kRegister);
  } else {
    return std::nullopt;
  }
  m->key = std::move(s[1]);
  return m;
}

bool MethodAllowed(std::string_view allow, std::string_view method) {
  while (!allow.empty()) {
    const size_t comma = allow.find(", ");
    if (allow.substr(0, comma) == method) return true;
    allow = comma == std::string_view::npos ? std::string_view() : allow.substr(comma + 2);
  }
  return false;
}

// Unknown parameters are refused rather than ignored: a typo such as ?consistancy=quorum would
// otherwise silently give the weaker read.
std::optional<ApiError> CheckQuery(const HttpRequest& request,
                                   std::initializer_list<std::string_view> allowed) {
  for (const auto& [name, value] : request.query) {
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      return BadRequest("unknown query parameter " + Quote(name));
    }
  }
  return std::nullopt;
}

std::optional<ApiError> CheckNoBody(const HttpRequest& request, const Match& m) {
  if (request.body.empty()) return std::nullopt;
  return BadRequest(request.method + " " + std::string(m.pattern) + " takes no request body");
}

std::string_view QueryValue(const HttpRequest& request, std::string_view name) {
  const auto it = request.query.find(name);
  return it == request.query.end() ? std::string_view() : std::string_view(it->second);
}

ApiCommand ParseRead(const HttpRequest& request, Match& m, const ApiOptions& options) {
  if (auto error = CheckQuery(request, {"consistency"})) return *error;
  if (auto error = CheckNoBody(request, m)) return *error;
  ReadCommand read{StateKey{m.data_class, std::move(m.key)}, std::nullopt, Consistency::kLocal};
  if (request.query.count("consistency")) {
    // "eventual" and "strong" are the names seed 000 uses; docs/server.md says what each
    // guarantees per class.
    const std::string_view level = QueryValue(request, "consistency");
    if (level == "quorum" || level == "strong") {
      read.consistency = Consistency::kQuorum;
    } else if (level == "all") {
      read.consistency = Consistency::kAll;
    } else if (level != "local" && level != "eventual") {
      return BadRequest(
          "consistency must be 'local' (or 'eventual'), 'quorum' (or 'strong') or 'all', not " +
          Quote(level));
    }
  }
  const std::string_view token = request.Header("x-session-token");
  if (!token.empty()) {
    Result<VersionVector> session = DecodeSessionToken(token, options.token_tag);
    if (!session.ok()) return BadRequest("X-Session-Token: " + session.status().message());
    for (RegionId r = options.token_slots; r < kMaxRegions; ++r) {
      if (session->Get(r) != 0) {
        return BadRequest("X-Session-Token names region " + std::to_string(r) +
                          ", which is not in this cluster");
      }
    }
    read.session = *session;
  }
  return read;
}

// Fills in the target and the Idempotency-Key of a write whose body is already parsed.
ApiCommand MakeWrite(const HttpRequest& request, Match& m, decltype(ClientWrite::body) body) {
  ClientWrite write{StateKey{m.data_class, std::move(m.key)}, "", std::move(body)};
  if (const auto it = request.headers.find("idempotency-key"); it != request.headers.end()) {
    if (auto error = CheckIdempotencyKey(it->second)) return *error;
    write.idempotency_key = it->second;
  }
  return WriteCommand{std::move(write)};
}

ApiCommand ParseCounterWrite(const HttpRequest& request, Match& m) {
  if (auto error = CheckQuery(request, {"by", "w"})) return *error;
  if (!request.body.empty()) {
    return BadRequest(request.method + " " + std::string(m.pattern) +
                      " takes no request body; the amount goes in ?by=N");
  }
  int64_t by = 1;
  if (request.query.count("by")) {
    const auto parsed = ParsePositive(QueryValue(request, "by"), INT64_MAX);
    if (!parsed) return BadRequest("by must be an integer from 1 to " + std::to_string(INT64_MAX));
    by = static_cast<int64_t>(*parsed);
  }
  return MakeWrite(request, m, m.route == Route::kCounterDecr ? -by : by);
}

// DELETE of a key of any class: observed-remove of everything this region shows of it.
ApiCommand ParseKeyDelete(const HttpRequest& request, Match& m) {
  if (auto error = CheckQuery(request, {"w"})) return *error;
  if (auto error = CheckNoBody(request, m)) return *error;
  return MakeWrite(request, m, KeyDelete{});
}

ApiCommand ParseProfileWrite(const HttpRequest& request, Match& m) {
  if (auto error = CheckQuery(request, {"mode", "w"})) return *error;
  bool blob = false;
  if (request.query.count("mode")) {
    if (QueryValue(request, "mode") != "blob") {
      return BadRequest("mode must be 'blob' (or absent, to set fields)");
    }
    blob = true;
  }
  LwwMapOp op;
  if (auto error = ParseProfileBody(request.body, blob, &op)) return *error;
  return MakeWrite(request, m, std::move(op));
}

ApiCommand ParseConflicts(const HttpRequest& request, const Match& m) {
  if (auto error = CheckQuery(request, {"limit"})) return *error;
  if (auto error = CheckNoBody(request, m)) return *error;
  ConflictsCommand command;
  if (request.query.count("limit")) {
    const auto limit = ParsePositive(QueryValue(request, "limit"), kConflictsShownMax);
    if (!limit) {
      return BadRequest("limit must be an integer from 1 to " + std::to_string(kConflictsShownMax));
    }
    command.limit = *limit;
  }
  return command;
}

// GET /{class}?prefix=P&cursor=C&limit=N&scope=local|global: a page of the class's keys
// (ScanCommand). The cursor is the previous page's, opaque to the client (base64url of the last
// key it covered); global merges every reachable region's page (RegionNode contract 8).
ApiCommand ParseScan(const HttpRequest& request, const Match& m) {
  if (auto error = CheckQuery(request, {"prefix", "cursor", "limit", "scope"})) return *error;
  if (auto error = CheckNoBody(request, m)) return *error;
  ScanCommand command;
  command.data_class = m.data_class;
  command.prefix = std::string(QueryValue(request, "prefix"));
  if (!command.prefix.empty()) {
    if (auto error = CheckKey(command.prefix)) {
      return BadRequest("prefix: " + error->message);
    }
  }
  if (request.query.count("cursor")) {
    std::optional<std::string> after = Base64UrlDecode(QueryValue(request, "cursor"));
    if (!after || after->empty() || after->size() > kKeyBytesMax) {
      return BadRequest(
          "cursor is not one this API handed out (pass the previous page's "
          "\"cursor\" as it was)");
    }
    command.after = StateKey{m.data_class, std::move(*after)};
  }
  if (request.query.count("limit")) {
    const auto limit = ParsePositive(QueryValue(request, "limit"), kScanLimitMax);
    if (!limit) {
      return BadRequest("limit must be an integer from 1 to " + std::to_string(kScanLimitMax));
    }
    command.limit = *limit;
  }
  if (request.query.count("scope")) {
    const std::string_view scope = QueryValue(request, "scope");
    if (scope == "global") {
      command.scope = ScanScope::kGlobal;
    } else if (scope != "local") {
      return BadRequest("scope must be 'local' or 'global', not " + Quote(scope));
    }
  }
  return command;
}

// ?w=local|majority|all on a write: how many regions must hold it before the answer
// (RegionNode's contract 5).
ApiCommand WithWriteLevel(ApiCommand command, const HttpRequest& request) {
  auto* write = std::get_if<WriteCommand>(&command);
  if (!write || !request.query.count("w")) return command;
  const std::string_view level = QueryValue(request, "w");
  if (level == "majority") {
    write->level = WriteLevel::kMajority;
  } else if (level == "all") {
    write->level = WriteLevel::kAll;
  } else if (level != "local") {
    return BadRequest("w must be 'local', 'majority' or 'all', not " + Quote(level));
  }
  return command;
}

// X-Context on PUT or DELETE /register/{key}: the register's context as a GET handed it out
// (same codec as a session token); the write then replaces only the siblings that GET showed.
// A header, not a body member, because a DELETE takes no body. Garbage, or a region outside the
// cluster, is a 400 before anything changes.
ApiCommand WithContext(ApiCommand command, const HttpRequest& request, const Match& m,
                       const ApiOptions& options) {
  auto* write = std::get_if<WriteCommand>(&command);
  // Present even when empty: the context of a register never written encodes to "".
  const auto header = request.headers.find("x-context");
  if (!write || header == request.headers.end()) return command;
  const std::string_view context = header->second;
  if (m.route != Route::kRegister) {
    return BadRequest("X-Context applies to /register/{key} only");
  }
  Result<VersionVector> seen = DecodeSessionToken(context);
  if (!seen.ok()) {
    return BadRequest("X-Context is not a context a GET handed out: " + seen.status().message());
  }
  for (RegionId r = options.token_slots; r < kMaxRegions; ++r) {
    if (seen->Get(r) != 0) {
      return BadRequest("X-Context names region " + std::to_string(r) +
                        ", which is not in this cluster");
    }
  }
  write->write.observed_context = *std::move(seen);
  return command;
}

// Dispatches a matched route whose method is allowed and whose key passed CheckKey.
ApiCommand ParseWriteRoute(const HttpRequest& request, Match& m);

ApiCommand ParseDataRoute(const HttpRequest& request, Match& m, const ApiOptions& options) {
  // HEAD is a GET whose body the server leaves out (the HTTP server turns it into one).
  if (request.method == "GET" || request.method == "HEAD") return ParseRead(request, m, options);
  return WithContext(WithWriteLevel(ParseWriteRoute(request, m), request), request, m, options);
}

ApiCommand ParseWriteRoute(const HttpRequest& request, Match& m) {
  if (request.method == "DELETE" && m.route != Route::kTagElement) {
    return ParseKeyDelete(request, m);
  }
  switch (m.route) {
    case Route::kProfile:
      return ParseProfileWrite(request, m);
    case Route::kCounterIncr:
    case Route::kCounterDecr:
      return ParseCounterWrite(request, m);
    case Route::kTags: {
      if (auto error = CheckQuery(request, {"w"})) return *error;
      TagsWrite tags;
      if (auto error = ParseTagsBody(request.body, &tags)) return *error;
      return MakeWrite(request, m, std::move(tags));
    }
    case Route::kTagElement: {
      if (auto error = CheckName(m.element, "tag element")) return *error;
      if (auto error = CheckQuery(request, {"w"})) return *error;
      if (auto error = CheckNoBody(request, m)) return *error;
      return MakeWrite(request, m, TagsWrite{{}, {m.element}});
    }
    case Route::kRegister: {
      if (auto error = CheckQuery(request, {"w"})) return *error;
      std::string value;
      if (auto error = ParseRegisterBody(request.body, &value)) return *error;
      return MakeWrite(request, m, std::move(value));
    }
    case Route::kText: {
      if (auto error = CheckQuery(request, {"w"})) return *error;
      TextWrite text;
      if (auto error = ParseTextBody(request.body, &text)) return *error;
      return MakeWrite(request, m, std::move(text));
    }
    case Route::kStock: {
      if (auto error = CheckQuery(request, {"w"})) return *error;
      StockWrite stock;
      if (auto error = ParseStockBody(request.body, &stock)) return *error;
      return MakeWrite(request, m, stock);
    }
    default:
      break;
  }
  MERIDIAN_ASSERT_MSG(false, "route table allows a method no parser handles");
  return BadRequest("unreachable");
}

}  // namespace

ApiCommand ParseApiRequest(const HttpRequest& request, const ApiOptions& options) {
  if (request.body.size() > kBodyBytesMax) {
    return TooLarge("request body is " + std::to_string(request.body.size()) +
                    " bytes; the limit is " + std::to_string(kBodyBytesMax));
  }
  std::optional<std::vector<std::string>> segments = DecodeSegments(request.path);
  if (!segments) return BadRequest("request path has a malformed %-escape");
  std::optional<Match> m = MatchRoute(*segments);
  if (!m) return ApiError{404, "not_found", "no route for path " + Quote(request.path), ""};
  if (!MethodAllowed(m->allow, request.method)) {
    return ApiError{405, "method_not_allowed",
                    "method " + Quote(request.method) + " is not allowed on " +
                        std::string(m->pattern) + "; allowed: " + std::string(m->allow),
                    std::string(m->allow)};
  }
  switch (m->route) {
    case Route::kMetrics:
    case Route::kHealth: {
      if (auto error = CheckQuery(request, {})) return *error;
      if (auto error = CheckNoBody(request, *m)) return *error;
      if (m->route == Route::kMetrics) return MetricsCommand{};
      return HealthCommand{};
    }
    case Route::kConflicts:
      return ParseConflicts(request, *m);
    case Route::kScan:
      return ParseScan(request, *m);
    case Route::kSubject: {
      if (auto error = CheckQuery(request, {})) return *error;
      if (auto error = CheckNoBody(request, *m)) return *error;
      if (Status valid = CheckSubjectId(m->key); !valid.ok()) return BadRequest(valid.message());
      return EraseCommand{std::move(m->key)};
    }
    default:
      break;
  }
  if (auto error = CheckKey(m->key)) return *error;
  return ParseDataRoute(request, *m, options);
}

}  // namespace meridian
