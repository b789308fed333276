// Formatters: results of the replica as HTTP/JSON responses (contracts 4 and 5 of http_api.h).
#include <cctype>

#include <nlohmann/json.hpp>

#include "api/base64url.h"
#include "api/http_api.h"
#include "api/session_token.h"
#include "base/utf8.h"
#include "clock/hlc.h"
#include "replica/key_state.h"

namespace meridian {
namespace {

// Ordered, so that fields appear as written ("key" first) and output is byte-for-byte stable.
using Json = nlohmann::ordered_json;

// Never throws: text we did not validate (a value from a peer's bug) is replaced, not fatal.
std::string Dump(const Json& json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string RegionName(const std::vector<std::string>& names, RegionId region) {
  return region < names.size() ? names[region] : std::to_string(region);
}

// Every named region (zeros included, so a client sees the cluster's shape), plus any other
// non-zero entry by number.
Json VectorJson(const VersionVector& vector, const std::vector<std::string>& names) {
  Json out = Json::object();
  for (RegionId r = 0; r < kMaxRegions; ++r) {
    if (r < names.size() || vector.Get(r) != 0) out[RegionName(names, r)] = vector.Get(r);
  }
  return out;
}

std::string LowerCase(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The value of a state as the client sees it; OUT_OF_RANGE for an overflowed counter.
Result<Json> ValueJson(const KeyState& state) {
  if (const auto* map = std::get_if<LwwMap>(&state)) {
    Json out = Json::object();
    for (const auto& [field, value] : map->Visible())
      out[field] = value;
    return out;
  }
  if (const auto* counter = std::get_if<PnCounter>(&state)) {
    Result<int64_t> value = counter->Value();
    if (!value.ok()) return value.status();
    return Json(*value);
  }
  if (const auto* set = std::get_if<OrSet>(&state)) return Json(set->Elements());
  if (const auto* text = std::get_if<Rga>(&state)) return Json(text->Text());
  if (const auto* stock = std::get_if<BoundedCounter>(&state)) return Json(stock->Value());
  return Json(std::get<MvRegister>(state).Values());  // siblings, in dot order
}

Json StampJson(const WriteStamp& stamp, const std::vector<std::string>& names) {
  return Json{{"physical_ms", stamp.time.physical_ms},
              {"logical", stamp.time.logical},
              {"region", RegionName(names, stamp.region)}};
}

Json ConflictSideJson(const WriteStamp& stamp, const std::optional<std::string>& value,
                      bool with_value, const std::vector<std::string>& names) {
  Json out{{"stamp", StampJson(stamp, names)}};
  if (!with_value) return out;
  if (!value) {
    out["value"] = nullptr;  // the write was a delete
    return out;
  }
  const size_t shown = IsValidUtf8(*value) ? Utf8PrefixBytes(*value, kConflictValueBytesShown)
                                           : std::min(value->size(), kConflictValueBytesShown);
  out["value"] = value->substr(0, shown);
  if (shown < value->size()) out["value_bytes"] = value->size();
  return out;
}

Json ConflictJson(const ConflictEntry& entry, const std::vector<std::string>& names) {
  const bool lww = entry.outcome == ConflictOutcome::kLwwOverwrite;
  Json out{{"class", DataClassName(entry.data_class)},
           {"key", entry.key},
           {"outcome", ConflictOutcomeName(entry.outcome)}};
  if (lww) out["field"] = entry.field;
  if (entry.clashes_with) out["clashes_with"] = DataClassName(*entry.clashes_with);
  out["winner"] = ConflictSideJson(entry.winner_stamp, entry.winner_value, lww, names);
  out["loser"] = ConflictSideJson(entry.loser_stamp, entry.loser_value, lww, names);
  return out;
}

}  // namespace

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    // A handle already taken, a lost race: each conflicts with an earlier request, which the
    // client must look at before retrying.
    case StatusCode::kAlreadyExists:
    case StatusCode::kAborted:
      return 409;
    // Well-formed, but not to be done: counter overflow (the current value cannot take it), an
    // Idempotency-Key reused for a different request (422 as the IETF idempotency-key draft and
    // payment APIs answer it; a retry must repeat the original request exactly).
    case StatusCode::kFailedPrecondition:
    case StatusCode::kOutOfRange:
      return 422;
    // A key pinned to other regions (a residency rule): the message names them.
    case StatusCode::kMisdirected:
      return 421;
    // A subject's key after its erasure: never coming back, unlike 404.
    case StatusCode::kGone:
      return 410;
    case StatusCode::kResourceExhausted:
      return 429;
    case StatusCode::kUnimplemented:
      return 501;
    // Cancelled only when the server stops under a waiting request: try another region.
    case StatusCode::kCancelled:
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kDeadlineExceeded:
      return 504;
    case StatusCode::kUnknown:
    case StatusCode::kInternal:
    case StatusCode::kDataLoss:
      return 500;
  }
  return 500;
}

HttpResponse FormatStatus(const Status& status) {
  MERIDIAN_ASSERT(!status.ok());
  const Json body{{"error",
                   {{"code", LowerCase(StatusCodeName(status.code()))},
                    {"message", status.message()},
                    {"retryable", status.retryable()}}}};
  HttpResponse response = HttpResponse::Json(HttpStatusFor(status.code()), Dump(body));
  // Tells clients and the router that waiting helps, and for how long at least.
  if (status.retryable()) response.headers.emplace_back("Retry-After", "1");
  return response;
}

HttpResponse FormatError(const ApiError& error) {
  const Json body{{"error", {{"code", error.code}, {"message", error.message}}}};
  HttpResponse response = HttpResponse::Json(error.http_status, Dump(body));
  if (!error.allow.empty()) response.headers.emplace_back("Allow", error.allow);
  return response;
}

HttpResponse FormatRead(const StateKey& key, const ReadResult& result,
                        const std::vector<std::string>& region_names, std::string_view token_tag) {
  const KeyState empty = EmptyState(key.data_class);
  const KeyState& state = result.state ? *result.state : empty;
  MERIDIAN_ASSERT(StateMatchesClass(state, key.data_class));
  Result<Json> value = ValueJson(state);
  if (!value.ok()) return FormatStatus(value.status());
  Json body{{"key", key.key},
            {"class", DataClassName(key.data_class)},
            {"value", std::move(*value)},
            {"found", result.state.has_value() && KeyPresent(*result.state)},
            {"version_vector", VectorJson(result.applied, region_names)},
            {"session_token", EncodeSessionToken(result.applied, token_tag)}};
  // Positions of POST /text count code points: the length the next edit may use.
  if (const auto* text = std::get_if<Rga>(&state)) body["length"] = text->Length();
  // Where the stock may be taken from without asking: each region's rights as this one sees them.
  if (const auto* stock = std::get_if<BoundedCounter>(&state)) {
    Json rights = Json::object();
    for (RegionId r = 0; r < region_names.size(); ++r)
      rights[RegionName(region_names, r)] = stock->Rights(r);
    body["rights"] = std::move(rights);
  }
  // Every sibling, and the context a PUT or DELETE sends back in X-Context to replace exactly
  // these siblings (and none written after this read).
  if (const auto* reg = std::get_if<MvRegister>(&state)) {
    body["values"] = reg->Values();
    body["context"] = EncodeSessionToken(reg->context());
  }
  return HttpResponse::Json(200, Dump(body));
}

HttpResponse FormatScan(const ScanResult& page, const std::vector<std::string>& region_names,
                        std::string_view token_tag) {
  Json keys = Json::array();
  for (const auto& [key, state] : page.entries) {
    Json entry{{"key", key.key}, {"class", DataClassName(key.data_class)}};
    Result<Json> value = ValueJson(state);
    if (value.ok()) {
      entry["value"] = std::move(*value);
    } else {
      entry["value"] = nullptr;
      entry["error"] = value.status().message();
    }
    keys.push_back(std::move(entry));
  }
  Json cursor = nullptr;
  if (page.next) cursor = Base64UrlEncode(page.next->key);
  Json body{{"keys", std::move(keys)},
            {"cursor", std::move(cursor)},
            {"version_vector", VectorJson(page.applied, region_names)},
            {"session_token", EncodeSessionToken(page.applied, token_tag)}};
  if (page.scope == ScanScope::kGlobal) {
    // Which regions' pages are in this one: a partial page may miss keys only they hold.
    body["scope"] = "global";
    body["partial"] = !page.missing_regions.empty();
    body["missing_regions"] = page.missing_regions;
  }
  return HttpResponse::Json(200, Dump(body));
}

HttpResponse FormatWrite(const WriteReply& reply, const std::vector<std::string>& region_names,
                         std::string_view token_tag) {
  Json dot = nullptr;  // no op was made (a delete that found nothing to remove)
  if (reply.dot.seq != 0) {
    dot = {{"region", RegionName(region_names, reply.dot.origin)}, {"seq", reply.dot.seq}};
  }
  Json body{{"version_vector", VectorJson(reply.applied, region_names)},
            {"session_token", EncodeSessionToken(reply.applied, token_tag)},
            {"dot", std::move(dot)},
            {"deduplicated", reply.deduplicated}};
  // Only a write that asked for more than its own region (?w=majority or all) says how many.
  if (reply.replicated_to > 0) body["replicated_to"] = reply.replicated_to;
  return HttpResponse::Json(200, Dump(body));
}

HttpResponse FormatConflicts(const ConflictLog& log, const std::vector<std::string>& region_names,
                             size_t limit) {
  Json counts = Json::object();
  for (const DataClass c : kAllDataClasses) {
    Json by_outcome = Json::object();
    for (const ConflictOutcome o : kAllConflictOutcomes) {
      by_outcome[std::string(ConflictOutcomeName(o))] = log.count(c, o);
    }
    counts[std::string(DataClassName(c))] = std::move(by_outcome);
  }
  Json recent = Json::array();
  const auto& entries = log.recent();
  for (auto it = entries.rbegin(); it != entries.rend() && recent.size() < limit; ++it) {
    recent.push_back(ConflictJson(*it, region_names));
  }
  const Json body{{"total", log.total()}, {"counts", std::move(counts)}, {"recent", recent}};
  return HttpResponse::Json(200, Dump(body));
}

HttpResponse FormatMetrics(std::string exposition) {
  return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", std::move(exposition), {}};
}

}  // namespace meridian
