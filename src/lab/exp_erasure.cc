// (issue 14) Erasure: a subject with data in every class is erased while one region that may
// hold its keys is cut off; afterwards no region answers its keys but 410, and no file of any
// region holds its values, its data keys, or the wrapped vault records of those keys.
//
// Two subjects get data in every class (register, profile, counter, tags) under both their
// pinned prefix ("gdpr:user:ID:", the residency rule's regions only) and their unpinned one
// ("user:ID:", every region), written through the router from every client location and directly
// to regions (lab/erasure_plan.h): one is erased, the other (the control) is not. Once every
// region shows every write (of a register key written twice, the second value: the first may
// have been overwritten, lab/residency_verify.h), every region is backed up online and stopped,
// and its vault is read
// (read-only) for both subjects' wrapped data key records, unwrapped with the region's master key
// (lab/vault_records.h); every file is scanned for the values and the raw data keys (none may be
// there in the clear). The regions restart; the second region of the rule's set is cut from every
// other at the WAN emulator and the first erases the subject (DELETE /subjects/ID). Timed: the
// erasure's reply to 410 for every key in each connected region; the heal to 410 in the cut-off
// one. While cut off, that region still takes a write of the subject (it cannot know). Then every
// region is stopped and scanned again, and restarted.
//
// Asserted: the erasure answered 200; a write at the erasing region answers 410; after the heal
// every key of the erased subject (the late write's included) answers 410 in every region that
// may hold it; the control subject's every acknowledged write is still shown everywhere it
// belongs (as above); no file of any region (data directory with the vault, backups taken before
// the erasure, process logs; SSTs decoded too) holds a value of either subject or a data key in the
// clear, before or after, nor, after, any wrapped record of the erased subject's keys; no vault
// holds a key record of the erased subject, every vault its erased marker; every vault still holds
// the control's records, and the scan finds them in the region's files (it sees what it looks
// for). Timings are figures only.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "base/subject_pattern.h"
#include "cluster/demo_supervisor.h"
#include "lab/erasure_plan.h"
#include "lab/erasure_verify.h"
#include "lab/experiments.h"
#include "lab/raw_scan.h"
#include "lab/region_control.h"
#include "lab/residency_verify.h"
#include "lab/vault_records.h"
#include "lab/wan_links.h"

namespace meridian {

namespace {

using Clock = std::chrono::steady_clock;

struct Roles {
  std::vector<size_t> allowed;  // the residency rule's regions (every region without a rule)
  size_t eraser = 0;            // allowed[0]: takes the erasure
  size_t cut = 0;               // allowed[1]: cut off from every other region meanwhile
  ErasureSubject erased;
  ErasureSubject kept;
};

bool IsAllowed(const Roles& roles, size_t region) {
  return std::find(roles.allowed.begin(), roles.allowed.end(), region) != roles.allowed.end();
}

std::optional<ErasureSubject> MakeSubject(const LabContext& context,
                                          const std::vector<SubjectPattern>& patterns,
                                          const std::string& role) {
  ErasureSubject subject;
  subject.id = "lab-" + role + "-" + std::to_string(context.seed);
  subject.value_stem = role + "-" + std::to_string(context.seed) + "-secret";
  const std::string rule =
      context.config.residency.empty() ? std::string() : context.config.residency[0].prefix;
  for (const std::string& prefix : SubjectKeyPrefixes(patterns, subject.id)) {
    const bool pinned = !rule.empty() && prefix.starts_with(rule);
    std::string& slot = pinned ? subject.pinned_prefix : subject.open_prefix;
    if (slot.empty()) slot = prefix;
  }
  if (subject.open_prefix.empty()) return std::nullopt;
  return subject;
}

std::optional<Roles> ResolveRoles(const LabContext& context, ExperimentResult& result) {
  std::vector<SubjectPattern> patterns;
  if (context.config.subjects) {
    for (const std::string& text : context.config.subjects->patterns) {
      auto pattern = ParseSubjectPattern(text);
      if (pattern.ok()) patterns.push_back(*pattern);
    }
  }
  Roles roles;
  for (size_t r = 0; r < context.region_count(); ++r) {
    const auto& rules = context.config.residency;
    if (rules.empty() ||
        std::find(rules[0].regions.begin(), rules[0].regions.end(), r) != rules[0].regions.end())
      roles.allowed.push_back(r);
  }
  auto erased = MakeSubject(context, patterns, "erased");
  auto kept = MakeSubject(context, patterns, "kept");
  if (!erased || !kept || roles.allowed.size() < 2) {
    result.Assert(
        "the cluster config declares subject patterns (one outside every residency "
        "rule) and at least two regions that may hold a subject's keys",
        false, "run with deploy/local-eu2.yaml's `subjects:` (the default does)");
    return std::nullopt;
  }
  roles.erased = *erased;
  roles.kept = *kept;
  roles.eraser = roles.allowed[0];
  roles.cut = roles.allowed[1];
  return roles;
}

// Sends every planned write of `subject`; returns their records.
std::vector<ResidencyWrite> Plant(const LabContext& context, const Roles& roles,
                                  const ErasureSubject& subject, ExperimentResult& result) {
  std::vector<std::string> allowed;
  for (size_t r : roles.allowed)
    allowed.push_back(context.region_names[r]);
  const std::string router = context.config.router.http.ToString();
  const auto start = Clock::now();
  std::vector<ResidencyWrite> writes;
  size_t acked = 0;
  std::string first_failure;
  for (PlannedWrite& planned : PlanSubjectWrites(subject, context.region_names, allowed)) {
    std::string address = router;
    for (size_t r = 0; r < context.region_count(); ++r) {
      if (context.region_names[r] == planned.direct_to) address = context.region_http[r];
    }
    SendResidencyWriteTo(address, start, planned.write);
    if (planned.write.acked) {
      ++acked;
    } else if (first_failure.empty()) {
      first_failure = planned.write.key + ": " + planned.write.failure;
    }
    writes.push_back(std::move(planned.write));
  }
  result.Assert("every write of subject " + subject.id + " acknowledged (healthy cluster)",
                acked == writes.size(),
                std::to_string(acked) + " of " + std::to_string(writes.size()) +
                    (first_failure.empty() ? "" : "; first failure " + first_failure));
  return writes;
}

// Every region shows every acknowledged write of `writes` where it belongs (pinned ones in the
// rule's regions); waits up to `settle` and asserts it when `assert_it`.
bool ShownEverywhere(const LabContext& context, const Roles& roles,
                     const std::vector<ResidencyWrite>& writes, const std::string& label,
                     std::chrono::milliseconds settle, ExperimentResult& result) {
  auto missing_in = [&](size_t r, bool pinned) {
    return CheckVisible(context.region_http[r], writes, pinned);
  };
  const bool shown = WaitUntil(
      [&] {
        for (size_t r = 0; r < context.region_count(); ++r) {
          if (missing_in(r, false).missing > 0) return false;
          if (IsAllowed(roles, r) && missing_in(r, true).missing > 0) return false;
        }
        return true;
      },
      settle);
  for (size_t r = 0; r < context.region_count(); ++r) {
    for (bool pinned : {true, false}) {
      if (pinned && !IsAllowed(roles, r)) continue;
      const Visibility seen = missing_in(r, pinned);
      result.Assert(context.region_names[r] + " shows every " + (pinned ? "pinned" : "unpinned") +
                        " write of " + label,
                    seen.missing == 0 && seen.checked > 0,
                    std::to_string(seen.missing) + " of " + std::to_string(seen.checked) +
                        " missing" +
                        (seen.first_missing.empty() ? "" : ", first: " + seen.first_missing));
    }
  }
  return shown;
}

void StopAll(const LabContext& context, ExperimentResult& result) {
  for (const std::string& name : context.region_names) {
    result.Assert("stop " + name + " (SIGTERM, drained) before a scan",
                  ControlRegion(context, name, "stop"), "");
  }
}

void RestartAll(const LabContext& context, std::chrono::milliseconds settle,
                ExperimentResult& result) {
  for (const std::string& name : context.region_names)
    ControlRegion(context, name, "restart");
  for (size_t r = 0; r < context.region_count(); ++r) {
    result.Assert(context.region_names[r] + " reports ok after its restart",
                  WaitRegionHealthy(context, r, settle), "");
  }
}

// One subject's data key records in one stopped region, and the keys inside them.
struct RegionKeys {
  std::vector<VaultRecord> records;
  std::vector<std::string> data_keys;  // unwrapped, same order
  bool erased_marker = false;
};

RegionKeys ReadKeys(const LabContext& context, size_t region, const std::string& subject,
                    ExperimentResult& result) {
  const std::string& name = context.region_names[region];
  RegionKeys out;
  auto records = ReadSubjectKeyRecords(context.cluster_dir + "/" + name + "/vault", subject);
  if (!records.ok()) {
    result.Assert(name + ": vault read (read-only)", false, records.status().ToString());
    return out;
  }
  out.records = records->data_keys;
  out.erased_marker = records->erased_marker;
  auto master =
      ReadMasterKeyFile(context.cluster_dir + "/" + kDemoMasterKeyDir + "/" + name + ".master.key");
  if (!master.ok()) {
    result.Assert(name + ": master key file read", false, master.status().ToString());
    return out;
  }
  size_t opened = 0;
  for (const VaultRecord& record : out.records) {
    auto key = UnwrapVaultRecord(*master, record);
    if (key.ok()) {
      out.data_keys.push_back(*key);
      ++opened;
    }
  }
  result.Assert(name + ": every data key record of " + subject + " opens under its master key",
                opened == out.records.size(),
                std::to_string(opened) + " of " + std::to_string(out.records.size()));
  return out;
}

struct NeedleGroup {
  std::string what;
  std::vector<std::string> needles;
};

// Hits of each group in each of two sets of a region's files: live (its data directory, vault
// included, and process logs) and its backups.
struct GroupHits {
  std::vector<uint64_t> live;
  std::vector<uint64_t> backup;
  std::vector<uint64_t> needles_found_live;  // per group: needles with at least one live hit
};

std::optional<GroupHits> ScanRegion(const LabContext& context, size_t region,
                                    const std::vector<NeedleGroup>& groups, const std::string& when,
                                    ExperimentResult& result) {
  const std::string& name = context.region_names[region];
  std::vector<std::string> needles;
  for (const NeedleGroup& group : groups)
    needles.insert(needles.end(), group.needles.begin(), group.needles.end());
  std::vector<std::string> live = RegionScanRoots(context.cluster_dir, name);
  const std::string backup = context.cluster_dir + "/backups/" + name;
  live.erase(std::remove(live.begin(), live.end(), backup), live.end());
  GroupHits hits;
  for (const auto& [roots, label] : {std::pair{live, std::string("live")},
                                     std::pair{std::vector{backup}, std::string("backup")}}) {
    auto scan = ScanForNeedles(roots, needles);
    if (!scan.ok()) {
      result.Assert(name + ": raw scan of its " + label + " files " + when, false,
                    scan.status().ToString());
      return std::nullopt;
    }
    result.Metric(name + " " + when + ": " + label + " files scanned (SSTs also decoded: " +
                      std::to_string(scan->sst_decoded) + ")",
                  static_cast<double>(scan->files), "files");
    std::string unreadable;
    for (const std::string& file : scan->unreadable)
      unreadable += (unreadable.empty() ? "" : "; ") + file;
    result.Assert(name + " " + when + ": every " + label + " file read, every SST decoded",
                  scan->unreadable.empty() && (label == "backup" || scan->files > 0), unreadable);
    std::vector<uint64_t>& sums = label == "live" ? hits.live : hits.backup;
    size_t index = 0;
    for (const NeedleGroup& group : groups) {
      uint64_t sum = 0, found = 0;
      for (size_t i = 0; i < group.needles.size(); ++i, ++index) {
        sum += scan->HitsOf(index);
        found += scan->HitsOf(index) > 0 ? 1 : 0;
      }
      sums.push_back(sum);
      if (label == "live") hits.needles_found_live.push_back(found);
    }
  }
  return hits;
}

// Asserts that no group of `absent` occurs in any file of any region.
void AssertAbsent(const LabContext& context, const std::vector<NeedleGroup>& groups,
                  const std::vector<std::optional<GroupHits>>& hits, const std::string& when,
                  size_t groups_checked, ExperimentResult& result) {
  for (size_t g = 0; g < groups_checked; ++g) {
    uint64_t live = 0, backup = 0;
    std::string where;
    for (size_t r = 0; r < context.region_count(); ++r) {
      if (!hits[r]) continue;
      live += hits[r]->live[g];
      backup += hits[r]->backup[g];
      if (hits[r]->live[g] + hits[r]->backup[g] > 0)
        where += (where.empty() ? "" : ", ") + context.region_names[r];
    }
    result.Metric(when + ": occurrences of " + groups[g].what + " in live files",
                  static_cast<double>(live), "hits");
    result.Metric(when + ": occurrences of " + groups[g].what + " in backups",
                  static_cast<double>(backup), "hits");
    result.Assert(when + ": no file of any region holds " + groups[g].what + " (" +
                      std::to_string(groups[g].needles.size()) + " strings)",
                  live + backup == 0 && !groups[g].needles.empty(),
                  std::to_string(live + backup) + " hits" + (where.empty() ? "" : " in " + where));
  }
}

// The cut, the erasure and the heal, with their timings; the late writes are appended to `late`.
void EraseWhileCut(const LabContext& context, const Roles& roles,
                   const std::vector<ResidencyWrite>& erased_keys,
                   std::vector<ResidencyWrite>& late, ExperimentResult& result) {
  const auto& names = context.region_names;
  const std::string& cut = names[roles.cut];
  const std::string& eraser = names[roles.eraser];
  const auto settle = context.quick ? std::chrono::seconds(30) : std::chrono::seconds(60);
  int failed = 0;
  for (size_t r = 0; r < context.region_count(); ++r) {
    if (r != roles.cut) failed += SetWanLinks(context, cut, names[r], false);
  }
  const auto erase_sent = Clock::now();
  auto erased =
      LabCall(context.region_http[roles.eraser], "DELETE", "/subjects/" + roles.erased.id);
  const auto replied = Clock::now();
  result.Assert("DELETE /subjects/" + roles.erased.id + " at " + eraser + " answers 200",
                erased.ok() && erased->status == 200,
                erased.ok() ? "HTTP " + std::to_string(erased->status) + " " + erased->body.dump()
                            : erased.status().ToString());
  result.Metric("erasure at " + eraser + ": request to reply",
                std::chrono::duration<double, std::milli>(replied - erase_sent).count(), "ms");
  // Each connected region: reply to every key it may hold answering 410.
  std::map<size_t, std::vector<ResidencyWrite>> pending;
  for (size_t r = 0; r < context.region_count(); ++r) {
    if (r == roles.cut) continue;
    for (const ResidencyWrite& key : erased_keys) {
      if (!key.pinned || IsAllowed(roles, r)) pending[r].push_back(key);
    }
  }
  WaitUntil(
      [&] {
        for (auto& [r, keys] : pending) {
          if (keys.empty()) continue;
          keys = NotYetGone(context.region_http[r], keys);
          if (keys.empty()) {
            result.Metric("erasure reply to 410 for every key of the subject in " + names[r],
                          SecondsSince(replied) * 1000, "ms");
          }
        }
        return std::all_of(pending.begin(), pending.end(),
                           [](const auto& entry) { return entry.second.empty(); });
      },
      settle);
  // The cut-off region cannot know: it still serves the subject and takes a write.
  auto during = LabCall(context.region_http[roles.cut], "GET",
                        std::string("/") + ResidencyClassName(erased_keys.front().kind) + "/" +
                            erased_keys.front().key);
  result.Metric(cut + " while cut off: a read of the erased subject answered HTTP",
                during.ok() ? during->status : 0, "status");
  for (const std::string& prefix : {roles.erased.pinned_prefix, roles.erased.open_prefix}) {
    if (prefix.empty()) continue;
    ResidencyWrite write;
    write.kind = ResidencyClass::kRegister;
    write.pinned = prefix == roles.erased.pinned_prefix;
    write.client = cut;
    write.key = prefix + "late";
    write.value = roles.erased.value_stem + "-late-" + (write.pinned ? "p" : "o");
    SendResidencyWriteTo(context.region_http[roles.cut], erase_sent, write);
    result.Metric(
        cut + " while cut off: a new write of the erased subject (" + write.key + ") answered HTTP",
        write.status, "status");
    late.push_back(write);
  }
  ResidencyWrite refused = late.back();
  refused.value += "-refused";
  SendResidencyWriteTo(context.region_http[roles.eraser], erase_sent, refused);
  result.Assert("a write of the erased subject at " + eraser + " answers 410",
                refused.status == 410, refused.failure);
  late.push_back(refused);
  std::this_thread::sleep_for(context.quick ? std::chrono::seconds(1) : std::chrono::seconds(10));

  for (size_t r = 0; r < context.region_count(); ++r) {
    if (r != roles.cut) failed += SetWanLinks(context, cut, names[r], true);
  }
  const auto healed = Clock::now();
  std::vector<ResidencyWrite> cut_keys;
  for (const ResidencyWrite& key : erased_keys)
    cut_keys.push_back(key);
  for (const ResidencyWrite& key : late)
    cut_keys.push_back(key);
  if (WaitUntil(
          [&] { return (cut_keys = NotYetGone(context.region_http[roles.cut], cut_keys)).empty(); },
          settle)) {
    result.Metric(
        "heal to 410 for every key of the subject in " + cut + " (cut off during the erasure)",
        SecondsSince(healed) * 1000, "ms");
  }
  result.Assert("cuts and heals via the WAN admin API", failed == 0,
                std::to_string(failed) + " proxy calls failed");
}

}  // namespace

ExperimentResult RunErasureExperiment(const LabContext& context) {
  ExperimentResult result =
      context.NewResult("erasure",
                        "an erased subject is gone from every region and every file, also from a "
                        "region cut off when it was erased");
  const std::optional<Roles> roles = ResolveRoles(context, result);
  if (!roles) return result;
  const auto settle = context.quick ? std::chrono::seconds(30) : std::chrono::seconds(60);
  const auto& names = context.region_names;

  const std::vector<ResidencyWrite> erased = Plant(context, *roles, roles->erased, result);
  const std::vector<ResidencyWrite> kept = Plant(context, *roles, roles->kept, result);
  const auto planted = Clock::now();
  if (ShownEverywhere(context, *roles, erased, "the subject to erase", settle, result) &&
      ShownEverywhere(context, *roles, kept, "the control subject", settle, result)) {
    result.Metric("writes to every write shown where it belongs", SecondsSince(planted), "s");
  }
  for (const std::string& name : names) {
    result.Assert("online backup of " + name + " before the erasure",
                  ControlRegion(context, name, "backup"), "");
  }
  StopAll(context, result);
  std::vector<RegionKeys> erased_before, kept_before;
  std::vector<std::string> erased_records, erased_data_keys, kept_data_keys;
  for (size_t r = 0; r < context.region_count(); ++r) {
    erased_before.push_back(ReadKeys(context, r, roles->erased.id, result));
    kept_before.push_back(ReadKeys(context, r, roles->kept.id, result));
    result.Assert(names[r] + " holds data keys of both subjects before the erasure",
                  !erased_before[r].records.empty() && !kept_before[r].records.empty(),
                  std::to_string(erased_before[r].records.size()) + " and " +
                      std::to_string(kept_before[r].records.size()) + " records");
    for (const VaultRecord& record : erased_before[r].records)
      erased_records.push_back(record.wrapped);
    erased_data_keys.insert(erased_data_keys.end(), erased_before[r].data_keys.begin(),
                            erased_before[r].data_keys.end());
    kept_data_keys.insert(kept_data_keys.end(), kept_before[r].data_keys.begin(),
                          kept_before[r].data_keys.end());
  }
  result.Metric("wrapped data key records of the subject before the erasure, every region",
                static_cast<double>(erased_records.size()), "records");
  std::vector<std::string> values = WrittenValues(kept);
  for (const std::string& value : WrittenValues(erased))
    values.push_back(value);
  std::vector<std::string> data_keys = kept_data_keys;
  data_keys.insert(data_keys.end(), erased_data_keys.begin(), erased_data_keys.end());
  const std::vector<NeedleGroup> before_groups = {
      {"a value of either subject in the clear", values},
      {"a data key of either subject in the clear", data_keys},
  };
  {
    std::vector<std::optional<GroupHits>> hits;
    for (size_t r = 0; r < context.region_count(); ++r)
      hits.push_back(ScanRegion(context, r, before_groups, "before the erasure", result));
    AssertAbsent(context, before_groups, hits, "before the erasure", before_groups.size(), result);
  }
  RestartAll(context, settle, result);

  std::vector<ResidencyWrite> erased_keys = DistinctKeys(erased);
  std::vector<ResidencyWrite> late;
  EraseWhileCut(context, *roles, erased_keys, late, result);
  for (const ResidencyWrite& write : DistinctKeys(late))
    erased_keys.push_back(write);
  for (size_t r = 0; r < context.region_count(); ++r) {
    std::vector<ResidencyWrite> keys;
    for (const ResidencyWrite& key : erased_keys) {
      if (!key.pinned || IsAllowed(*roles, r)) keys.push_back(key);
    }
    WaitUntil([&] { return NotYetGone(context.region_http[r], keys).empty(); }, settle);
    const GoneCheck gone = CheckGone(context.region_http[r], keys);
    result.Assert(names[r] + " answers 410 for every key of the erased subject after the heal",
                  gone.gone == gone.checked && gone.checked > 0,
                  std::to_string(gone.gone) + " of " + std::to_string(gone.checked) +
                      (gone.first_other.empty() ? "" : "; first other: " + gone.first_other));
  }
  ShownEverywhere(context, *roles, kept, "the control subject after the erasure", settle, result);

  StopAll(context, result);
  for (size_t r = 0; r < context.region_count(); ++r) {
    const RegionKeys erased_after = ReadKeys(context, r, roles->erased.id, result);
    const RegionKeys kept_after = ReadKeys(context, r, roles->kept.id, result);
    result.Assert(names[r] +
                      "'s vault holds no data key record of the erased subject, and its "
                      "erased marker",
                  erased_after.records.empty() && erased_after.erased_marker,
                  std::to_string(erased_after.records.size()) + " records, marker " +
                      (erased_after.erased_marker ? "present" : "absent"));
    // Every record held before is still there, byte for byte (a key another region made may
    // have arrived since: more records are fine).
    size_t kept_same = 0;
    for (const VaultRecord& record : kept_before[r].records) {
      kept_same += std::any_of(kept_after.records.begin(), kept_after.records.end(),
                               [&](const VaultRecord& now) {
                                 return now.key == record.key && now.wrapped == record.wrapped;
                               });
    }
    result.Assert(names[r] + "'s vault still holds the control subject's records unchanged",
                  kept_same == kept_before[r].records.size(),
                  std::to_string(kept_same) + " of " +
                      std::to_string(kept_before[r].records.size()) + " records held before");
  }
  std::vector<ResidencyWrite> all_erased = erased;
  all_erased.insert(all_erased.end(), late.begin(), late.end());
  std::vector<NeedleGroup> after = {
      {"a value of the erased subject (the late writes' included)", WrittenValues(all_erased)},
      {"a wrapped data key record of the erased subject (as every vault held it before)",
       erased_records},
      {"a data key of either subject in the clear", data_keys},
      {"a value of the control subject in the clear", WrittenValues(kept)},
      {"", {}},  // per region below: the control's own wrapped records, which must be found
  };
  std::vector<std::optional<GroupHits>> hits;
  for (size_t r = 0; r < context.region_count(); ++r) {
    after.back().what = names[r] + "'s wrapped records of the control subject";
    after.back().needles.clear();
    for (const VaultRecord& record : kept_before[r].records)
      after.back().needles.push_back(record.wrapped);
    hits.push_back(ScanRegion(context, r, after, "after the erasure", result));
    if (!hits.back()) continue;
    result.Assert(names[r] +
                      "'s files hold its wrapped records of the control subject (the scan "
                      "sees a vault record where one is)",
                  hits.back()->needles_found_live.back() == after.back().needles.size() &&
                      !after.back().needles.empty(),
                  std::to_string(hits.back()->needles_found_live.back()) + " of " +
                      std::to_string(after.back().needles.size()));
  }
  AssertAbsent(context, after, hits, "after the erasure", after.size() - 1, result);
  RestartAll(context, settle, result);

  result.notes.push_back(
      "Subjects " + roles->erased.id + " (erased) and " + roles->kept.id +
      " (control), each with " + std::to_string(kErasureWritesPerClass) +
      " writes per class (register, profile field, counter increment, tag) under " +
      (roles->erased.pinned_prefix.empty() ? "its unpinned prefix"
                                           : "its pinned and its unpinned prefix") +
      ", half through the router from every client location, half directly to regions. " +
      names[roles->cut] + " is cut from every other region (WAN emulator) while " +
      names[roles->eraser] + " erases; it also takes a write of the subject meanwhile. The cut " +
      "lasts " + (context.quick ? "1 s" : "10 s") + " after every connected region answers 410.");
  result.notes.push_back(
      "Scans: each region stopped, every file of its data directory (vault included), its "
      "backup (taken online before the erasure) and its process logs read whole, SSTs also "
      "decoded entry by entry (lab/raw_scan.h). Vault records are read read-only and unwrapped "
      "with the region's master key (lab/vault_records.h) to get the data keys' bytes. The "
      "410 times are one poll round of reads of every pending key (a few ms per key) coarse.");
  return result;
}

}  // namespace meridian
