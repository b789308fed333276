#include "gen/request.h"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace meridian {
namespace {

bool IsUnreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// A body we may embed as it is: valid JSON on one line. Anything else is quoted. The server's
// bodies are compact dumps, so this is the common case; accept() validates without building a DOM.
bool IsOneLineJson(std::string_view body) {
  if (body.empty() || (body.front() != '{' && body.front() != '[')) return false;
  if (body.find('\n') != std::string_view::npos || body.find('\r') != std::string_view::npos) {
    return false;
  }
  return nlohmann::json::accept(body);
}

}  // namespace

std::string EncodePathSegment(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (IsUnreserved(c)) {
      out += c;
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 15];
    }
  }
  return out;
}

std::string JsonQuote(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (byte >= 0x20 && byte < 0x7f) {
      out += c;
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\u%04x", byte);
      out += escaped;
    }
  }
  out += '"';
  return out;
}

GenRequest BuildRequest(const PlannedOp& op) {
  const std::string key = EncodePathSegment(op.key);
  GenRequest request;
  const std::string base = "/" + std::string(OpClassName(op.op_class)) + "/" + key;
  if (op.kind == OpKind::kRead) {
    request.method = "GET";
    request.target = base;
    return request;
  }
  switch (op.op_class) {
    case OpClass::kProfile:
      request.method = "PUT";
      request.body = "{" + JsonQuote(op.field) + ":" + JsonQuote(op.value) + "}";
      break;
    case OpClass::kRegister:
      request.method = "PUT";
      request.body = "{\"value\":" + JsonQuote(op.value) + "}";
      break;
    case OpClass::kCounter:
      request.method = "POST";
      request.target = base + "/incr?by=" + std::to_string(op.by);
      return request;
    case OpClass::kTags:
      request.method = "POST";
      request.body = std::string(op.kind == OpKind::kRemove ? "{\"remove\":[" : "{\"add\":[") +
                     JsonQuote(op.value) + "]}";
      break;
    case OpClass::kHandle:
      request.method = "PUT";
      request.body = "{\"owner\":" + JsonQuote(op.value) + "}";
      break;
  }
  request.target = base;
  return request;
}

namespace {

// The op's own fields, from {"index" to "pair"; the caller closes the object.
void AppendOpFields(const PlannedOp& op, std::string_view region_name, std::string& line) {
  line += "{\"index\":" + std::to_string(op.index);
  line += ",\"client\":" + std::to_string(op.client);
  line += ",\"region\":" + JsonQuote(region_name);
  line += ",\"class\":" + JsonQuote(OpClassName(op.op_class));
  line += ",\"op\":" + JsonQuote(OpName(op.op_class, op.kind));
  line += ",\"key\":" + JsonQuote(op.key);
  if (op.kind != OpKind::kRead) {
    switch (op.op_class) {
      case OpClass::kProfile:
        line += ",\"field\":" + JsonQuote(op.field) + ",\"value\":" + JsonQuote(op.value);
        break;
      case OpClass::kRegister:
        line += ",\"value\":" + JsonQuote(op.value);
        break;
      case OpClass::kCounter:
        line += ",\"by\":" + std::to_string(op.by);
        break;
      case OpClass::kTags:
        line += ",\"element\":" + JsonQuote(op.value);
        break;
      case OpClass::kHandle:
        line += ",\"owner\":" + JsonQuote(op.value);
        break;
    }
  }
  if (op.pair >= 0) line += ",\"pair\":" + std::to_string(op.pair);
}

}  // namespace

std::string FormatPlannedOp(const PlannedOp& op, std::string_view region_name) {
  std::string line;
  AppendOpFields(op, region_name, line);
  line += ",\"intended_offset_ns\":" + std::to_string(op.intended_ns) + "}";
  return line;
}

std::string FormatHistoryLine(const PlannedOp& op, std::string_view region_name,
                              const OpOutcome& outcome) {
  std::string line;
  line.reserve(256 + outcome.body.size());
  AppendOpFields(op, region_name, line);
  line += ",\"intended_ns\":" + std::to_string(outcome.intended_ns);
  line += ",\"invoke_ns\":" + std::to_string(outcome.invoke_ns);
  line += ",\"complete_ns\":" + std::to_string(outcome.complete_ns);
  line += ",\"sent\":";
  line += outcome.sent ? "true" : "false";
  line += ",\"status\":" + std::to_string(outcome.http_status);
  if (!outcome.error.empty()) line += ",\"error\":" + JsonQuote(outcome.error);
  if (!outcome.session_token_sent.empty()) {
    line += ",\"session_token_sent\":" + JsonQuote(outcome.session_token_sent);
  }
  if (!outcome.served_by.empty()) line += ",\"served_by\":" + JsonQuote(outcome.served_by);
  if (outcome.http_status != 0) {
    line += ",\"result\":";
    line += IsOneLineJson(outcome.body) ? outcome.body : JsonQuote(outcome.body);
  }
  line += '}';
  return line;
}

}  // namespace meridian
