#include "config/yaml_reader.h"

#include <charconv>

namespace meridian::config_internal {
namespace {

int LineOf(const YAML::Node& node, int fallback) {
  const YAML::Mark mark = node.Mark();
  return mark.is_null() ? fallback : mark.line + 1;
}

std::string ChildPath(std::string_view parent, std::string_view key) {
  if (parent.empty()) return std::string(key);
  std::string path(parent);
  path += '.';
  path += key;
  return path;
}

std::string KindName(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "a scalar";
    case YAML::NodeType::Null:
      return "empty";
    case YAML::NodeType::Undefined:
      return "undefined";
  }
  return "unknown";
}

}  // namespace

Status YamlReader::ErrorAt(int line, std::string_view path, std::string_view message) const {
  std::string text = source_ + ":" + std::to_string(line) + ": ";
  text += path.empty() ? std::string_view("(top level)") : path;
  text += ": ";
  text += message;
  return InvalidArgument(std::move(text));
}

Status YamlReader::Error(const Field& field, std::string_view message) const {
  return ErrorAt(field.line, field.path, message);
}

Field YamlReader::Root(const YAML::Node& node) {
  return Field{node, "", LineOf(node, 1)};
}

Result<FieldMap> YamlReader::Map(const Field& field,
                                 std::initializer_list<std::string_view> allowed) const {
  if (!field.node.IsMap()) return Error(field, "must be a map, got " + KindName(field.node));
  FieldMap out;
  for (const auto& entry : field.node) {
    const int key_line = LineOf(entry.first, field.line);
    if (!entry.first.IsScalar()) return ErrorAt(key_line, field.path, "map keys must be scalars");
    const std::string key = entry.first.Scalar();
    const std::string path = ChildPath(field.path, key);
    bool known = false;
    for (std::string_view name : allowed) {
      known = known || name == key;
    }
    if (!known) {
      std::string expected;
      for (std::string_view name : allowed) {
        expected += (expected.empty() ? "" : ", ") + std::string(name);
      }
      return ErrorAt(key_line, path, "unknown key (expected one of: " + expected + ")");
    }
    if (out.count(key) > 0) return ErrorAt(key_line, path, "duplicate key");
    // The key's line, not the value's: for a nested map or list the value starts a line later,
    // and "wan: is missing admin" should point at `wan:`.
    out.emplace(key, Field{entry.second, path, key_line});
  }
  return out;
}

Result<std::vector<Field>> YamlReader::Sequence(const Field& field) const {
  if (!field.node.IsSequence()) return Error(field, "must be a list, got " + KindName(field.node));
  std::vector<Field> items;
  for (size_t i = 0; i < field.node.size(); ++i) {
    const YAML::Node item = field.node[i];
    items.push_back(
        Field{item, field.path + "[" + std::to_string(i) + "]", LineOf(item, field.line)});
  }
  return items;
}

Result<Field> YamlReader::Required(const Field& parent, const FieldMap& map,
                                   std::string_view key) const {
  const Field* found = Optional(map, key);
  if (found == nullptr) return ErrorAt(parent.line, ChildPath(parent.path, key), "is required");
  return *found;
}

Result<std::string> YamlReader::String(const Field& field) const {
  if (!field.node.IsScalar() || field.node.Scalar().empty()) {
    return Error(field, "must be a non-empty string");
  }
  return field.node.Scalar();
}

Result<int64_t> YamlReader::Int(const Field& field, int64_t min, int64_t max) const {
  const std::string wanted =
      min == 0 ? "must be a non-negative integer" : "must be an integer >= " + std::to_string(min);
  if (!field.node.IsScalar()) return Error(field, wanted);
  const std::string& text = field.node.Scalar();
  int64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value < min) {
    return Error(field, wanted + ", got '" + text + "'");
  }
  if (value > max) return Error(field, "must be at most " + std::to_string(max));
  return value;
}

Result<HostPort> YamlReader::Address(const Field& field) const {
  Result<std::string> text = String(field);
  if (!text.ok()) return Error(field, "must be a host:port string");
  Result<HostPort> address = ParseHostPort(*text);
  if (!address.ok()) return Error(field, address.status().message());
  return address;
}

const Field* Optional(const FieldMap& map, std::string_view key) {
  auto it = map.find(key);
  return it == map.end() ? nullptr : &it->second;
}

}  // namespace meridian::config_internal
