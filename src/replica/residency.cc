#include "replica/residency.h"

#include <algorithm>

#include "base/assert.h"

namespace meridian {

namespace {

RegionMask AllRegions(RegionId region_count) {
  return region_count >= 32 ? ~RegionMask{0} : (RegionMask{1} << region_count) - 1;
}

std::vector<RegionId> Members(RegionMask mask) {
  std::vector<RegionId> out;
  for (RegionId r = 0; r < kMaxRegions; ++r) {
    if (Residency::Holds(mask, r)) out.push_back(r);
  }
  return out;
}

}  // namespace

Residency::Residency(RegionId region_count) {
  MERIDIAN_ASSERT(region_count >= 1 && region_count <= kMaxRegions);
  const RegionMask all = AllRegions(region_count);
  groups_.push_back({all, Members(all), 0});
  slot_count_ = region_count;
}

Result<Residency> Residency::Make(std::vector<ResidencyRule> rules, RegionId region_count) {
  if (region_count < 1 || region_count > kMaxRegions) {
    return InvalidArgument("residency: region count out of range");
  }
  Residency out(region_count);
  for (size_t i = 0; i < rules.size(); ++i) {
    ResidencyRule& rule = rules[i];
    if (rule.prefix.empty()) return InvalidArgument("residency: a rule's prefix is empty");
    if (rule.handle && rule.data_class) {
      return InvalidArgument("residency: the rule for '" + rule.prefix +
                             "' is for handles and a data class at once");
    }
    if (rule.regions.empty()) {
      return InvalidArgument("residency: the rule for '" + rule.prefix + "' allows no region");
    }
    RegionMask mask = 0;
    for (RegionId r : rule.regions) {
      if (r >= region_count) return InvalidArgument("residency: a rule names an unknown region");
      mask |= RegionMask{1} << r;
    }
    for (size_t j = 0; j < i; ++j) {
      if (rules[j].prefix == rule.prefix && rules[j].data_class == rule.data_class &&
          rules[j].handle == rule.handle) {
        return InvalidArgument("residency: two rules for the prefix '" + rule.prefix + "'");
      }
    }
    rule.regions = Members(mask);
    std::optional<size_t> group = out.GroupByMask(mask);
    if (!group) {
      const RegionId members = static_cast<RegionId>(rule.regions.size());
      if (out.slot_count_ + members > kMaxRegions) {
        return InvalidArgument("residency: the rules name more region sets than fit (" +
                               std::to_string(kMaxRegions) +
                               " slots: the regions plus the members of each pinned set)");
      }
      group = out.groups_.size();
      out.groups_.push_back({mask, rule.regions, out.slot_count_});
      out.slot_count_ += members;
    }
    out.group_of_rule_.push_back(*group);
  }
  out.rules_ = std::move(rules);
  return out;
}

const ResidencyRule* Residency::RuleFor(const StateKey& key) const {
  const ResidencyRule* best = nullptr;
  for (const ResidencyRule& rule : rules_) {
    if (rule.handle || (rule.data_class && *rule.data_class != key.data_class)) continue;
    if (!key.key.starts_with(rule.prefix)) continue;
    if (best == nullptr || rule.prefix.size() > best->prefix.size() ||
        (rule.prefix.size() == best->prefix.size() && rule.data_class)) {
      best = &rule;
    }
  }
  return best;
}

size_t Residency::GroupOf(const StateKey& key) const {
  const ResidencyRule* rule = RuleFor(key);
  if (rule == nullptr) return 0;
  return group_of_rule_[static_cast<size_t>(rule - rules_.data())];
}

const ResidencyRule* Residency::RuleForHandle(std::string_view name) const {
  const ResidencyRule* best = nullptr;
  for (const ResidencyRule& rule : rules_) {
    if (rule.data_class || !name.starts_with(rule.prefix)) continue;
    if (best == nullptr || rule.prefix.size() > best->prefix.size() ||
        (rule.prefix.size() == best->prefix.size() && rule.handle)) {
      best = &rule;
    }
  }
  return best;
}

size_t Residency::GroupOfHandle(std::string_view name) const {
  const ResidencyRule* rule = RuleForHandle(name);
  if (rule == nullptr) return 0;
  return group_of_rule_[static_cast<size_t>(rule - rules_.data())];
}

std::optional<size_t> Residency::GroupByMask(RegionMask mask) const {
  for (size_t g = 0; g < groups_.size(); ++g) {
    if (groups_[g].mask == mask) return g;
  }
  return std::nullopt;
}

std::pair<size_t, RegionId> Residency::SlotOwner(RegionId slot) const {
  MERIDIAN_ASSERT(slot < slot_count_);
  for (size_t g = groups_.size(); g-- > 0;) {
    if (slot >= groups_[g].slot_base) return {g, groups_[g].members[slot - groups_[g].slot_base]};
  }
  MERIDIAN_ASSERT(false);
  return {0, 0};
}

std::vector<std::string> SlotNames(const Residency& residency,
                                   const std::vector<std::string>& region_names) {
  std::vector<std::string> out;
  for (const ReplicationGroupLayout& group : residency.groups()) {
    std::string set;
    for (RegionId r : group.members)
      set += (set.empty() ? "" : "+") + region_names[r];
    for (RegionId r : group.members)
      out.push_back(out.size() < region_names.size() ? region_names[r]
                                                     : region_names[r] + "@" + set);
  }
  return out;
}

std::string MaskNames(RegionMask mask, const std::vector<std::string>& region_names) {
  std::string out;
  for (RegionId r = 0; r < region_names.size(); ++r) {
    if (!Residency::Holds(mask, r)) continue;
    if (!out.empty()) out += ", ";
    out += region_names[r];
  }
  return out;
}

RegionMask Residency::SubjectRegions(const std::vector<SubjectPattern>& patterns,
                                     std::string_view subject) const {
  RegionMask mask = 0;
  for (const std::string& prefix : SubjectKeyPrefixes(patterns, subject)) {
    for (DataClass data_class : kAllDataClasses)
      mask |= groups_[GroupOf(StateKey{data_class, prefix})].mask;
  }
  return mask;
}

}  // namespace meridian
