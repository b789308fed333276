#include "gen/inputs.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "config/cluster_config.h"

namespace meridian {
namespace {

Result<double> ParseNumber(std::string_view text, const std::string& what) {
  const std::string copy(text);
  char* end = nullptr;
  const double value = std::strtod(copy.c_str(), &end);
  if (copy.empty() || end != copy.c_str() + copy.size() || !std::isfinite(value)) {
    return InvalidArgument(what + ": '" + copy + "' is not a number");
  }
  return value;
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

Result<GenTarget> ParseTarget(std::string_view text) {
  const size_t eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == text.size()) {
    return InvalidArgument("target '" + std::string(text) + "' is not REGION=HOST:PORT");
  }
  GenTarget target{std::string(text.substr(0, eq)), std::string(text.substr(eq + 1))};
  Result<HostPort> address = ParseHostPort(target.address);
  if (!address.ok()) {
    return InvalidArgument("target '" + std::string(text) + "': " + address.status().message());
  }
  return target;
}

Result<std::vector<GenTarget>> LoadTargetsFromConfig(const std::string& path) {
  Result<ClusterConfig> config = LoadClusterConfig(path);
  if (!config.ok()) return config.status();
  std::vector<GenTarget> targets;
  for (const RegionConfig& region : config->regions)
    targets.push_back({region.name, region.http.ToString()});
  return targets;
}

Result<Endpoints> ParseEndpoints(std::string_view json) {
  // ordered_json keeps the file's key order, which becomes the regions' order.
  const nlohmann::ordered_json parsed =
      nlohmann::ordered_json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return InvalidArgument("endpoints: not a JSON object");
  }
  Endpoints out;
  const auto regions = parsed.find("regions");
  if (regions == parsed.end() || !regions->is_object() || regions->empty()) {
    return InvalidArgument("endpoints: \"regions\" must be a non-empty object");
  }
  for (const auto& [name, region] : regions->items()) {
    if (!region.is_object() || !region.contains("http") || !region["http"].is_string()) {
      return InvalidArgument("endpoints: regions." + name + ".http must be a string");
    }
    Result<GenTarget> target = ParseTarget(name + "=" + region["http"].get<std::string>());
    if (!target.ok()) return InvalidArgument("endpoints: " + target.status().message());
    out.regions.push_back(*target);
  }
  const auto router = parsed.find("router");
  if (router != parsed.end()) {
    if (router->is_string()) {
      out.router = router->get<std::string>();
    } else if (router->is_object() && router->contains("http") && (*router)["http"].is_string()) {
      out.router = (*router)["http"].get<std::string>();
    } else {
      return InvalidArgument("endpoints: \"router\" must be an address string");
    }
  }
  const auto key = parsed.find("client_key");
  if (key != parsed.end() && key->is_string()) out.client_key = key->get<std::string>();
  return out;
}

Result<Endpoints> LoadEndpointsFile(const std::string& path) {
  Result<std::string> text = ReadFile(path);
  if (!text.ok()) return text.status();
  Result<Endpoints> endpoints = ParseEndpoints(*text);
  if (!endpoints.ok()) return InvalidArgument(path + ": " + endpoints.status().message());
  return endpoints;
}

Result<uint64_t> ParseDurationNs(std::string_view text) {
  double scale = 1e9;
  std::string_view number = text;
  if (text.ends_with("ms")) {
    scale = 1e6;
    number = text.substr(0, text.size() - 2);
  } else if (text.ends_with("s")) {
    number = text.substr(0, text.size() - 1);
  } else if (text.ends_with("m")) {
    scale = 60e9;
    number = text.substr(0, text.size() - 1);
  } else if (text.ends_with("h")) {
    scale = 3600e9;
    number = text.substr(0, text.size() - 1);
  }
  Result<double> value = ParseNumber(number, "duration");
  if (!value.ok()) return value.status();
  const double ns = *value * scale;
  // A week is far beyond any lab run; it keeps the products below 2^64 ns.
  if (!(ns >= 1e6 && ns <= 7 * 24 * 3600e9)) {
    return InvalidArgument("duration '" + std::string(text) + "' must be between 1ms and a week");
  }
  return static_cast<uint64_t>(ns);
}

Result<std::vector<RateStep>> ParseRamp(std::string_view text) {
  std::vector<std::string_view> parts;
  std::string_view rest = text;
  while (true) {
    const size_t colon = rest.find(':');
    parts.push_back(rest.substr(0, colon));
    if (colon == std::string_view::npos) break;
    rest = rest.substr(colon + 1);
  }
  if (parts.size() != 3 && parts.size() != 4) {
    return InvalidArgument("ramp '" + std::string(text) +
                           "' is not FROM:TO:STEP_SECONDS[:INCREMENT]");
  }
  Result<double> from = ParseNumber(parts[0], "ramp FROM");
  if (!from.ok()) return from.status();
  Result<double> to = ParseNumber(parts[1], "ramp TO");
  if (!to.ok()) return to.status();
  Result<uint64_t> step_ns = ParseDurationNs(parts[2]);
  if (!step_ns.ok()) return step_ns.status();
  double increment = *from;
  if (parts.size() == 4) {
    Result<double> parsed = ParseNumber(parts[3], "ramp INCREMENT");
    if (!parsed.ok()) return parsed.status();
    increment = *parsed;
  }
  if (!(*from > 0) || !(*to >= *from) || !(increment > 0)) {
    return InvalidArgument("ramp '" + std::string(text) +
                           "': need 0 < FROM <= TO and INCREMENT > 0");
  }
  const double count = std::floor((*to - *from) / increment + 1e-9) + 1;
  if (count > static_cast<double>(kRampStepsMax)) {
    return InvalidArgument("ramp '" + std::string(text) + "' has more than " +
                           std::to_string(kRampStepsMax) + " steps");
  }
  std::vector<RateStep> steps;
  for (int i = 0; i < static_cast<int>(count); ++i)
    steps.push_back(RateStep{*from + i * increment, *step_ns});
  return steps;
}

}  // namespace meridian
