// The "no resurrected deletes" part of the kill experiment (issue 6, experiment 8). Before the
// load, tag members and profile fields are written in every region and settle everywhere; then
// three groups of them are deleted (OR-set removes, field deletes with null, whole-profile
// DELETE):
//   group 0 in a survivor before the kill (and settled everywhere, the victim included),
//   group 1 in the victim just before it is killed (possibly never shipped before the kill),
//   group 2 in the other survivor during the outage (the victim learns of it only at failback).
// After failback no acknowledged delete may be undone in any region, and every member and field
// never deleted must still be there.
//
// Contract: every request and wait is bounded; deletes that were not acknowledged are counted and
// left out of the check (a delete that did not happen promises nothing).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "lab/lab_context.h"
#include "lab/ledger.h"

namespace meridian {

class DeleteProbe {
 public:
  // Deletes go to survivors[0] (group 0), the victim (1) and survivors[1] (2).
  // REQUIRES: at least two survivors.
  DeleteProbe(const LabContext& context, size_t victim, std::vector<size_t> survivors,
              const std::string& prefix);

  // Writes every member and field (round-robin over the regions) and waits until every region
  // holds them all. False, with `detail`, when a write failed or they did not settle.
  bool Seed(std::chrono::milliseconds timeout, std::string* detail);
  // Deletes group `group` (0, 1 or 2) in its region. Group 0 also waits (bounded) until every
  // region has applied it.
  void Delete(int group, std::chrono::milliseconds settle);
  // Polls every region until no acknowledged delete shows and everything kept does, or until
  // `timeout`; records the figures and the assertions.
  void Check(std::chrono::milliseconds timeout, ExperimentResult& result);

 private:
  struct Outcome {
    std::vector<std::string> members_removed;  // acknowledged
    std::vector<std::string> fields_deleted;   // acknowledged
    bool cleared = false;                      // the whole-profile DELETE was acknowledged
    size_t refused = 0;                        // deletes not acknowledged
  };
  // Violations in one region's state: deleted items present, kept items missing. -1 if unread.
  struct RegionView {
    int resurrected_members = -1;
    int resurrected_fields = -1;  // deleted fields and fields of cleared keys
    int missing_kept = -1;
    std::string detail;
  };
  RegionView Inspect(size_t region) const;
  bool AllSettled(const std::vector<size_t>& regions) const;
  size_t GroupRegion(int group) const;

  const LabContext& context_;
  size_t victim_;
  std::vector<size_t> survivors_;
  std::string tags_key_;
  std::string profile_key_;
  std::vector<std::string> clear_keys_;  // one per group
  Outcome outcomes_[3];
};

}  // namespace meridian
