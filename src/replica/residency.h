// Residency: which regions may hold a key (docs/residency.md).
//
// A rule pins the keys starting with a prefix (of one class, or of every class) to a set of
// regions; a rule of every class, or a rule for handles only, pins the handle names (class D)
// starting with its prefix too. Every distinct set of regions that a rule names is a replication
// group of its own: its own replica in each member region, with its own dots, vectors, oplog,
// anti-entropy and state transfers, so that a region outside the set never holds, and never waits
// for, an op of a pinned key. Group 0 is every region (the keys no rule pins).
//
// Session tokens and write dots name ops across groups in one vector of "slots": slot r (r <
// region_count) is region r in group 0; a pinned group's members follow in group order, member
// i of group g at slot_base(g) + i. The layout depends on the rules alone, so every region with
// the same config agrees on it.
//
// Invariants of a Residency returned by Make:
//  1. Every rule's prefix is non-empty and its regions are a non-empty set of valid region ids.
//  2. No two rules have the same prefix and class scope (every class, one class, handles).
//  3. Every key and every handle name matches at most one rule: the longest prefix wins, and a
//     rule of the key's class (of handles, for a name) wins over an every-class rule of the same
//     prefix. A handle rule has no data class.
//  4. Group 0's mask is every region; groups 1.. are the distinct rule sets other than that, in
//     rule order; the slots of all groups fit in kMaxRegions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/ids.h"
#include "base/status.h"
#include "base/subject_pattern.h"
#include "replica/types.h"

namespace meridian {

using RegionMask = uint32_t;  // bit r: region r

struct ResidencyRule {
  std::string prefix;
  std::optional<DataClass> data_class;  // nullopt: every class (handles included) unless `handle`
  std::vector<RegionId> regions;        // allowed, any order
  bool handle = false;                  // a rule for handle names only (config `class: handle`)
};

struct ReplicationGroupLayout {
  RegionMask mask = 0;
  std::vector<RegionId> members;  // ascending: a member's index is its id inside the group
  RegionId slot_base = 0;
};

class Residency {
 public:
  // Nothing pinned: one group of every region.
  explicit Residency(RegionId region_count = 1);
  static Result<Residency> Make(std::vector<ResidencyRule> rules, RegionId region_count);

  // The rule pinning `key`, or nullptr (invariant 3).
  const ResidencyRule* RuleFor(const StateKey& key) const;
  // The group holding `key`: 0 unless a rule pins it.
  size_t GroupOf(const StateKey& key) const;
  // The same for a handle name (canonical, handle_name.h): its handle node runs in that group,
  // with a majority of the group's members as its quorum.
  const ResidencyRule* RuleForHandle(std::string_view name) const;
  size_t GroupOfHandle(std::string_view name) const;
  const std::vector<ReplicationGroupLayout>& groups() const { return groups_; }
  // The group whose mask is `mask`, or nullopt.
  std::optional<size_t> GroupByMask(RegionMask mask) const;
  static bool Holds(RegionMask mask, RegionId region) { return (mask >> region) & 1U; }
  const std::vector<ResidencyRule>& rules() const { return rules_; }
  bool empty() const { return rules_.empty(); }
  RegionId slot_count() const { return slot_count_; }
  // The group and region of `slot`. REQUIRES: slot < slot_count().
  std::pair<size_t, RegionId> SlotOwner(RegionId slot) const;
  // The regions that may hold a key of `subject` (docs/residency.md, erasure): the union of the
  // sets of its keys' prefixes under `patterns`, in every class. Where its keyring goes, and
  // where its erasure is served.
  RegionMask SubjectRegions(const std::vector<SubjectPattern>& patterns,
                            std::string_view subject) const;

 private:
  std::vector<ResidencyRule> rules_;
  std::vector<size_t> group_of_rule_;
  std::vector<ReplicationGroupLayout> groups_;
  RegionId slot_count_ = 0;
};

// The name of every slot, for vectors shown to people: a region's name in group 0, and
// "eu@eu+eu2" for a member of a pinned group.
std::vector<std::string> SlotNames(const Residency& residency,
                                   const std::vector<std::string>& region_names);

// "eu, eu2": the names of the regions of `mask`, for error messages.
std::string MaskNames(RegionMask mask, const std::vector<std::string>& region_names);

}  // namespace meridian
