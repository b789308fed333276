// YamlReader: typed, strict reads from a yaml-cpp tree whose errors name the field path and line.
//
// Internal to src/config. Every error reads "<source>:<line>: <path>: <message>", where path is
// the dotted/indexed field path ("links[1].rtt_ms") and line is 1-based; a missing field reports
// the line of the map that should hold it. Maps are strict: an unknown or repeated key is an error,
// so a typo in the config never passes silently.
//
// yaml-cpp may throw from any accessor; callers run these inside one try block at the edge
// (ParseClusterConfig), which turns anything unexpected into a Status.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "config/cluster_config.h"

namespace meridian::config_internal {

// One node of the tree with where it came from.
struct Field {
  YAML::Node node;
  std::string path;  // "" for the document root
  int line = 1;      // 1-based
};

using FieldMap = std::map<std::string, Field, std::less<>>;

class YamlReader {
 public:
  explicit YamlReader(std::string_view source) : source_(source) {}

  // "<source>:<line>: <path>: <message>" as an InvalidArgument.
  Status Error(const Field& field, std::string_view message) const;
  Status ErrorAt(int line, std::string_view path, std::string_view message) const;

  // The document root (line 1 when it has no mark).
  static Field Root(const YAML::Node& node);

  // The keys of a map node, each allowed and present once.
  Result<FieldMap> Map(const Field& field, std::initializer_list<std::string_view> allowed) const;
  // The items of a sequence node, paths "path[i]".
  Result<std::vector<Field>> Sequence(const Field& field) const;
  // A required key of `map` (read with Map); the error names parent.key at the parent's line.
  Result<Field> Required(const Field& parent, const FieldMap& map, std::string_view key) const;

  // A non-empty scalar string.
  Result<std::string> String(const Field& field) const;
  // An integer scalar in [min, max] (decimal digits, optional leading '-').
  Result<int64_t> Int(const Field& field, int64_t min, int64_t max) const;
  // A "host:port" scalar.
  Result<HostPort> Address(const Field& field) const;

 private:
  std::string source_;
};

// Returns map[key] or nullptr.
const Field* Optional(const FieldMap& map, std::string_view key);

}  // namespace meridian::config_internal
