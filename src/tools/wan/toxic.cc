#include "tools/wan/toxic.h"

#include <nlohmann/json.hpp>

namespace meridian::wan {

using nlohmann::json;

std::string_view ToxicTypeName(ToxicType type) {
  switch (type) {
    case ToxicType::kLatency:
      return "latency";
    case ToxicType::kBandwidth:
      return "bandwidth";
    case ToxicType::kTimeout:
      return "timeout";
  }
  return "latency";
}

std::string_view ToxicStreamName(ToxicStream stream) {
  return stream == ToxicStream::kUpstream ? "upstream" : "downstream";
}

json ToxicToJson(const Toxic& toxic) {
  json attributes = json::object();
  switch (toxic.type) {
    case ToxicType::kLatency:
      attributes["latency"] = toxic.latency_ms;
      attributes["jitter"] = toxic.jitter_ms;
      break;
    case ToxicType::kBandwidth:
      attributes["rate"] = toxic.rate_kbps;
      break;
    case ToxicType::kTimeout:
      attributes["timeout"] = toxic.timeout_ms;
      break;
  }
  return json{{"name", toxic.name},
              {"type", ToxicTypeName(toxic.type)},
              {"stream", ToxicStreamName(toxic.stream)},
              {"toxicity", 1.0},
              {"attributes", std::move(attributes)}};
}

namespace {

Result<int64_t> ReadMillis(const json& value, std::string_view field, int64_t max) {
  if (!value.is_number_integer() || value.get<int64_t>() < 0 || value.get<int64_t>() > max) {
    return InvalidArgument(std::string(field) + " must be an integer in 0.." + std::to_string(max));
  }
  return value.get<int64_t>();
}

// Reads the attributes that belong to toxic.type into toxic; anything else is an error.
Status ApplyAttributes(const json& attributes, Toxic& toxic) {
  if (!attributes.is_object()) return InvalidArgument("attributes must be an object");
  for (const auto& [key, value] : attributes.items()) {
    const std::string field = "attributes." + key;
    Result<int64_t> number = InvalidArgument("");
    if (toxic.type == ToxicType::kLatency && (key == "latency" || key == "jitter")) {
      number = ReadMillis(value, field, kToxicMillisMax);
      if (number.ok()) (key == "latency" ? toxic.latency_ms : toxic.jitter_ms) = *number;
    } else if (toxic.type == ToxicType::kBandwidth && key == "rate") {
      number = ReadMillis(value, field, kToxicRateKbpsMax);
      if (number.ok()) toxic.rate_kbps = *number;
    } else if (toxic.type == ToxicType::kTimeout && key == "timeout") {
      number = ReadMillis(value, field, kToxicMillisMax);
      if (number.ok()) toxic.timeout_ms = *number;
    } else {
      return InvalidArgument("unknown attribute '" + key + "' for a " +
                             std::string(ToxicTypeName(toxic.type)) + " toxic");
    }
    if (!number.ok()) return number.status();
  }
  return Status::Ok();
}

Result<ToxicType> ParseType(const json& value) {
  if (value == "latency") return ToxicType::kLatency;
  if (value == "bandwidth") return ToxicType::kBandwidth;
  if (value == "timeout") return ToxicType::kTimeout;
  return InvalidArgument("type must be one of latency, bandwidth, timeout");
}

}  // namespace

Result<Toxic> ToxicFromJson(const json& body) {
  if (!body.is_object()) return InvalidArgument("toxic must be a JSON object");
  for (const auto& [key, value] : body.items()) {
    if (key != "name" && key != "type" && key != "stream" && key != "toxicity" &&
        key != "attributes") {
      return InvalidArgument("unknown field '" + key + "'");
    }
  }
  Toxic toxic;
  if (!body.contains("type")) return InvalidArgument("type is required");
  Result<ToxicType> type = ParseType(body["type"]);
  if (!type.ok()) return type.status();
  toxic.type = *type;
  if (body.contains("stream")) {
    const json& stream = body["stream"];
    if (stream != "upstream" && stream != "downstream") {
      return InvalidArgument("stream must be upstream or downstream");
    }
    toxic.stream = stream == "upstream" ? ToxicStream::kUpstream : ToxicStream::kDownstream;
  }
  if (body.contains("toxicity") && !(body["toxicity"].is_number() && body["toxicity"] == 1.0)) {
    return InvalidArgument("toxicity other than 1.0 is not supported");
  }
  toxic.name =
      std::string(ToxicTypeName(toxic.type)) + "_" + std::string(ToxicStreamName(toxic.stream));
  if (body.contains("name")) {
    if (!body["name"].is_string() || body["name"].get<std::string>().empty()) {
      return InvalidArgument("name must be a non-empty string");
    }
    toxic.name = body["name"].get<std::string>();
  }
  if (body.contains("attributes")) {
    MERIDIAN_RETURN_IF_ERROR(ApplyAttributes(body["attributes"], toxic));
  }
  return toxic;
}

Status UpdateToxicFromJson(const json& body, Toxic& toxic) {
  if (!body.is_object()) return InvalidArgument("toxic update must be a JSON object");
  for (const auto& [key, value] : body.items()) {
    if (key == "attributes" || key == "toxicity") continue;
    const bool unchanged = (key == "name" && value == toxic.name) ||
                           (key == "type" && value == ToxicTypeName(toxic.type)) ||
                           (key == "stream" && value == ToxicStreamName(toxic.stream));
    if (!unchanged) return InvalidArgument("only attributes can be updated, not '" + key + "'");
  }
  if (body.contains("toxicity") && !(body["toxicity"].is_number() && body["toxicity"] == 1.0)) {
    return InvalidArgument("toxicity other than 1.0 is not supported");
  }
  Toxic updated = toxic;
  if (body.contains("attributes")) {
    MERIDIAN_RETURN_IF_ERROR(ApplyAttributes(body["attributes"], updated));
  }
  toxic = updated;
  return Status::Ok();
}

}  // namespace meridian::wan
