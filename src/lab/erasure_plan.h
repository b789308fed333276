// The data the `erasure` experiment gives each of its subjects, and where each write goes:
// every class a subject's keys can hold (register, profile, counter, tags), under the subject's
// pinned key prefix (a pattern under a residency rule, "gdpr:user:ID:") and its unpinned one
// ("user:ID:"), written through the router from every client location and directly to regions.
//
// Contract:
//  1. Pure: the same inputs give the same writes. Each register, profile field and tag member
//     write has a value of its own, derived from the subject's value stem, the class, pinned or
//     not and an index of fixed width, so no value is a prefix of another (a raw scan counts
//     each on its own).
//  2. Write i of a class (kErasureWritesPerClass of them) goes through the router as a client in
//     regions[i % n] when i is even, else directly to a region: a pinned write only to a region
//     of `allowed` (another region would refuse it with 421), an unpinned one to any.
//  3. A subject without a pinned prefix gets unpinned writes only.
//  4. The writes come in the order they are to be sent, one at a time (a register key's second
//     write must follow its first: CheckKeyRead's requirement).
#pragma once

#include <string>
#include <vector>

#include "lab/residency_load.h"

namespace meridian {

// Per class and per prefix: enough for several keys, fields, members and increments per class,
// few enough that planting and reading them back takes well under a second.
inline constexpr size_t kErasureWritesPerClass = 6;

struct ErasureSubject {
  std::string id;             // the subject id in the key patterns
  std::string pinned_prefix;  // "gdpr:user:ID:", or "" when no pattern is under the rule
  std::string open_prefix;    // "user:ID:"
  std::string value_stem;     // starts every value of the subject
};

struct PlannedWrite {
  ResidencyWrite write;   // key, value, class, pinned; write.client is the client location
  std::string direct_to;  // a region name to send it to directly; "" for through the router
};

// Every write of `subject` (contract above). REQUIRES: regions and allowed are non-empty.
std::vector<PlannedWrite> PlanSubjectWrites(const ErasureSubject& subject,
                                            const std::vector<std::string>& regions,
                                            const std::vector<std::string>& allowed);

// The distinct values (register values, profile field values, tag members) of `writes`: what
// must never be on disk in the clear, and after the erasure nowhere.
std::vector<std::string> WrittenValues(const std::vector<ResidencyWrite>& writes);

// The distinct keys of `writes` with their class, one entry per key (the first write's).
std::vector<ResidencyWrite> DistinctKeys(const std::vector<ResidencyWrite>& writes);

}  // namespace meridian
