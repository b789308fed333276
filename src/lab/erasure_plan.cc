// The erasure experiment's subject data (erasure_plan.h).
#include "lab/erasure_plan.h"

#include <cstdio>
#include <set>
#include <utility>

namespace meridian {
namespace {

std::string Padded(size_t index) {
  char buffer[24];
  std::snprintf(buffer, sizeof buffer, "%03zu", index);
  return buffer;
}

ResidencyWrite MakeWrite(const ErasureSubject& subject, ResidencyClass kind, bool pinned,
                         size_t index) {
  const std::string& prefix = pinned ? subject.pinned_prefix : subject.open_prefix;
  ResidencyWrite write;
  write.kind = kind;
  write.pinned = pinned;
  const std::string value = subject.value_stem + "-" + ResidencyClassName(kind) + "-" +
                            (pinned ? "p" : "o") + "-" + Padded(index);
  switch (kind) {
    // A key per two writes, the second sent (to another address) once the first is answered:
    // it replaces the first where its accepting region had seen it, else the two stay siblings,
    // as replication lag has it. Either is right, so the check owes only the second's value
    // (CheckKeyRead in lab/residency_verify.h), while the scans look for both.
    case ResidencyClass::kRegister:
      write.key = prefix + "note-" + Padded(index / 2);
      write.value = value;
      break;
    case ResidencyClass::kProfile:  // one profile, a field per write
      write.key = prefix + "profile";
      write.field = "f" + Padded(index);
      write.value = value;
      break;
    case ResidencyClass::kCounter:  // one counter, an increment per write
      write.key = prefix + "visits";
      break;
    case ResidencyClass::kTags:  // one set, a member per write
      write.key = prefix + "tags";
      write.value = value;
      break;
  }
  return write;
}

}  // namespace

std::vector<PlannedWrite> PlanSubjectWrites(const ErasureSubject& subject,
                                            const std::vector<std::string>& regions,
                                            const std::vector<std::string>& allowed) {
  std::vector<PlannedWrite> out;
  std::vector<bool> kinds = {false};
  if (!subject.pinned_prefix.empty()) kinds.insert(kinds.begin(), true);
  for (ResidencyClass kind : kResidencyClasses) {
    for (bool pinned : kinds) {
      const std::vector<std::string>& targets = pinned ? allowed : regions;
      for (size_t i = 0; i < kErasureWritesPerClass; ++i) {
        PlannedWrite planned;
        planned.write = MakeWrite(subject, kind, pinned, i);
        planned.write.client = regions[i % regions.size()];
        if (i % 2 == 1) planned.direct_to = targets[(i / 2) % targets.size()];
        out.push_back(std::move(planned));
      }
    }
  }
  return out;
}

std::vector<std::string> WrittenValues(const std::vector<ResidencyWrite>& writes) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const ResidencyWrite& write : writes) {
    if (!write.value.empty() && seen.insert(write.value).second) out.push_back(write.value);
  }
  return out;
}

std::vector<ResidencyWrite> DistinctKeys(const std::vector<ResidencyWrite>& writes) {
  std::vector<ResidencyWrite> out;
  std::set<std::pair<ResidencyClass, std::string>> seen;
  for (const ResidencyWrite& write : writes) {
    if (seen.insert({write.kind, write.key}).second) out.push_back(write);
  }
  return out;
}

}  // namespace meridian
