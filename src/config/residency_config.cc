#include "config/residency_config.h"

namespace meridian {

Result<Residency> ResidencyFromConfig(const ClusterConfig& config) {
  std::vector<ResidencyRule> rules;
  for (const ResidencyRuleConfig& rule : config.residency) {
    ResidencyRule out{rule.prefix, std::nullopt, rule.regions, rule.data_class == "handle"};
    for (DataClass c : kAllDataClasses) {
      if (DataClassName(c) == rule.data_class) out.data_class = c;
    }
    rules.push_back(std::move(out));
  }
  return Residency::Make(std::move(rules), static_cast<RegionId>(config.regions.size()));
}

}  // namespace meridian
