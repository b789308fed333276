#include "api/http_api_bodies.h"

#include <algorithm>

#include "api/http_api_validation.h"

namespace meridian::api_internal {
namespace {

std::optional<ApiError> ParseObject(std::string_view body, std::string_view expected, Json* out) {
  if (auto error = ParseJson(body, out)) return error;
  if (!out->is_object()) return BadRequest("request body must be " + std::string(expected));
  return std::nullopt;
}

std::optional<ApiError> CheckItemCount(size_t count) {
  if (count <= kWriteItemsMax) return std::nullopt;
  return TooLarge("write names " + std::to_string(count) + " fields or elements; the limit is " +
                  std::to_string(kWriteItemsMax));
}

// Fills `out` with the sorted, distinct elements of the array `list` (a set: order and repeats
// carry no meaning, and one op per distinct element keeps the write small).
std::optional<ApiError> ParseElements(const Json& list, std::string_view member,
                                      std::vector<std::string>* out) {
  const std::string where = "\"" + std::string(member) + "\"";
  if (!list.is_array()) return BadRequest(where + " must be an array of strings");
  if (auto error = CheckItemCount(list.size())) return error;
  for (const Json& element : list) {
    if (!element.is_string()) return BadRequest(where + " must be an array of strings");
    const auto& text = element.get_ref<const std::string&>();
    if (auto error = CheckName(text, "tag element")) return error;
    out->push_back(text);
  }
  std::sort(out->begin(), out->end());
  out->erase(std::unique(out->begin(), out->end()), out->end());
  return std::nullopt;
}

// Positions and lengths: JSON integers, 0 or more (lengths 1 or more), at most 2^53 so that
// every JSON client states them exactly.
std::optional<ApiError> ParseCount(const Json& edit, std::string_view member, uint64_t min,
                                   std::string_view where, uint64_t* out) {
  constexpr uint64_t kCountMax = uint64_t{1} << 53;
  const auto it = edit.find(member);
  const std::string what = std::string(where) + "\"" + std::string(member) + "\"";
  if (it == edit.end()) return BadRequest(what + " is missing");
  if (!it->is_number_integer() ||
      (it->is_number_integer() && !it->is_number_unsigned() && it->get<int64_t>() < 0)) {
    return BadRequest(what + " must be an integer from " + std::to_string(min));
  }
  const uint64_t value = it->get<uint64_t>();
  if (value < min || value > kCountMax) {
    return BadRequest(what + " must be an integer from " + std::to_string(min) + " to 2^53");
  }
  *out = value;
  return std::nullopt;
}

// {"insert": {...}} or {"delete": {...}}; `where` prefixes messages ("edits[2]: ").
std::optional<ApiError> ParseTextEdit(const Json& json, const std::string& where, TextEdit* out) {
  if (!json.is_object() || json.size() != 1 ||
      (!json.contains("insert") && !json.contains("delete"))) {
    return BadRequest(where + "an edit must be {\"insert\": {...}} or {\"delete\": {...}}");
  }
  out->insert = json.contains("insert");
  const Json& edit = json.begin().value();
  const std::string in = where + (out->insert ? "insert " : "delete ");
  if (!edit.is_object()) return BadRequest(in + "must be an object");
  for (auto it = edit.begin(); it != edit.end(); ++it) {
    const bool known = it.key() == "pos" || it.key() == (out->insert ? "text" : "len");
    if (!known) return BadRequest(in + "has an unknown member " + Quote(it.key()));
  }
  if (auto error = ParseCount(edit, "pos", 0, in, &out->pos)) return error;
  if (!out->insert) return ParseCount(edit, "len", 1, in, &out->len);
  const auto text = edit.find("text");
  if (text == edit.end() || !text->is_string()) return BadRequest(in + "\"text\" must be a string");
  out->text = text->get<std::string>();
  if (out->text.empty()) return BadRequest(in + "\"text\" is empty");
  return CheckValue(out->text, in + "\"text\"");
}

}  // namespace

std::optional<ApiError> ParseTextBody(std::string_view body, TextWrite* out) {
  Json json;
  if (auto error = ParseObject(body, "a JSON object: an edit, or {\"edits\": [...]}", &json)) {
    return error;
  }
  if (!json.contains("edits")) {
    out->edits.emplace_back();
    return ParseTextEdit(json, "", &out->edits.back());
  }
  if (json.size() != 1) return BadRequest("\"edits\" comes alone in the body");
  const Json& edits = json["edits"];
  if (!edits.is_array()) return BadRequest("\"edits\" must be an array of edits");
  if (edits.empty()) return BadRequest("\"edits\" is empty: a text write needs an edit");
  if (auto error = CheckItemCount(edits.size())) return error;
  for (size_t i = 0; i < edits.size(); ++i) {
    out->edits.emplace_back();
    const std::string where = "edits[" + std::to_string(i) + "]: ";
    if (auto error = ParseTextEdit(edits[i], where, &out->edits.back())) return error;
  }
  return std::nullopt;
}

std::optional<ApiError> ParseProfileBody(std::string_view body, bool blob, LwwMapOp* out) {
  Json json;
  if (auto error = ParseObject(body, "a JSON object of fields", &json)) return error;
  if (!blob && json.empty()) return BadRequest("profile write sets no field");
  if (auto error = CheckItemCount(json.size())) return error;
  out->clear = blob;
  for (auto it = json.begin(); it != json.end(); ++it) {
    const std::string& field = it.key();
    if (auto error = CheckName(field, "field name")) return error;
    const Json& value = it.value();
    if (value.is_null() && !blob) {
      out->fields.emplace_back(field, std::nullopt);
      continue;
    }
    if (!value.is_string()) {
      return BadRequest("field " + Quote(field) +
                        (blob ? " must be a string (blob mode has no deletes)"
                              : " must be a string, or null to delete it"));
    }
    const auto& text = value.get_ref<const std::string&>();
    if (auto error = CheckValue(text, "value of field " + Quote(field))) return error;
    out->fields.emplace_back(field, text);
  }
  return std::nullopt;
}

std::optional<ApiError> ParseTagsBody(std::string_view body, TagsWrite* out) {
  Json json;
  if (auto error = ParseObject(body, "a JSON object {\"add\": [...], \"remove\": [...]}", &json)) {
    return error;
  }
  for (auto it = json.begin(); it != json.end(); ++it) {
    if (it.key() != "add" && it.key() != "remove") {
      return BadRequest("unknown member " + Quote(it.key()) + "; expected \"add\" or \"remove\"");
    }
  }
  if (auto add = json.find("add"); add != json.end()) {
    if (auto error = ParseElements(*add, "add", &out->add)) return error;
  }
  if (auto remove = json.find("remove"); remove != json.end()) {
    if (auto error = ParseElements(*remove, "remove", &out->remove)) return error;
  }
  if (out->add.empty() && out->remove.empty()) {
    return BadRequest("tags write adds and removes nothing");
  }
  if (auto error = CheckItemCount(out->add.size() + out->remove.size())) return error;
  for (const std::string& element : out->add) {
    if (std::binary_search(out->remove.begin(), out->remove.end(), element)) {
      return BadRequest("tag element " + Quote(element) + " is both added and removed");
    }
  }
  return std::nullopt;
}

std::optional<ApiError> ParseRegisterBody(std::string_view body, std::string* out) {
  Json json;
  if (auto error = ParseObject(body, "a JSON object {\"value\": \"...\"}", &json)) return error;
  for (auto it = json.begin(); it != json.end(); ++it) {
    if (it.key() != "value") {
      return BadRequest("unknown member " + Quote(it.key()) + "; expected \"value\"");
    }
  }
  const auto value = json.find("value");
  if (value == json.end() || !value->is_string()) return BadRequest("\"value\" must be a string");
  const auto& text = value->get_ref<const std::string&>();
  if (auto error = CheckValue(text, "value")) return error;
  *out = text;
  return std::nullopt;
}

std::optional<ApiError> ParseStockBody(std::string_view body, StockWrite* out) {
  Json json;
  if (auto error = ParseObject(body, "a JSON object {\"add\": N} or {\"take\": N}", &json)) {
    return error;
  }
  if (json.size() != 1 || (!json.contains("add") && !json.contains("take"))) {
    return BadRequest("a stock write is one of {\"add\": N} or {\"take\": N}");
  }
  const bool add = json.contains("add");
  const Json& amount = add ? json["add"] : json["take"];
  if (!amount.is_number_integer() || amount.get<int64_t>() < 1 ||
      static_cast<uint64_t>(amount.get<int64_t>()) > BoundedCounter::kTotalMax) {
    return BadRequest(std::string(add ? "\"add\"" : "\"take\"") +
                      " must be an integer from 1 to 2^62-1");
  }
  out->kind = add ? StockOpKind::kAdd : StockOpKind::kTake;
  out->amount = amount.get<uint64_t>();
  return std::nullopt;
}

}  // namespace meridian::api_internal
