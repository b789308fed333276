#include "router/healthz.h"

#include <nlohmann/json.hpp>

namespace meridian::router {

Result<std::string> ParseHealthz(const HttpResponse& response, std::string_view expected_region) {
  if (response.status != 200) {
    return InvalidArgument("healthz answered HTTP " + std::to_string(response.status));
  }
  const nlohmann::json body = nlohmann::json::parse(response.body, nullptr,
                                                    /*allow_exceptions=*/false);
  if (!body.is_object()) return InvalidArgument("healthz answer is not a JSON object");
  const auto region = body.find("region");
  const auto status = body.find("status");
  if (region == body.end() || !region->is_string()) {
    return InvalidArgument("healthz answer has no region name");
  }
  if (status == body.end() || !status->is_string()) {
    return InvalidArgument("healthz answer has no status");
  }
  if (region->get_ref<const std::string&>() != expected_region) {
    return InvalidArgument("healthz answer is from region '" +
                           region->get_ref<const std::string&>() + "', expected '" +
                           std::string(expected_region) + "'");
  }
  return status->get<std::string>();
}

}  // namespace meridian::router
