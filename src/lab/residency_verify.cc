#include "lab/residency_verify.h"

#include <filesystem>
#include <map>
#include <set>

#include "lab/lab_context.h"

namespace meridian {

namespace {

using WritesByKey =
    std::map<std::pair<ResidencyClass, std::string>, std::vector<const ResidencyWrite*>>;

std::string Describe(const ResidencyWrite& write) {
  return std::string(ResidencyClassName(write.kind)) + " " + write.key +
         (write.value.empty() ? "" : " = " + write.value) + " (from a client in " + write.client +
         ", served by " + write.served_by + ")";
}

// Whether `value` shows `write` (not for counters).
bool Shows(const nlohmann::json& value, const ResidencyWrite& write) {
  switch (write.kind) {
    case ResidencyClass::kRegister:  // a multi-value register: its siblings
    case ResidencyClass::kTags:      // the set's members
      return value.is_array() &&
             std::find(value.begin(), value.end(), nlohmann::json(write.value)) != value.end();
    case ResidencyClass::kProfile:
      return JsonString(value, write.field) == write.value;
    case ResidencyClass::kCounter:
      break;  // counted as a sum
  }
  return false;
}

void AddMissing(const ResidencyWrite& write, const std::string& detail, size_t count,
                Visibility& seen) {
  if (seen.missing == 0) seen.first_missing = Describe(write) + detail;
  seen.missing += count;
}

// A register key: its last acknowledged write's value, or a later write's (CheckKeyRead).
void CheckRegister(const nlohmann::json& value, const std::vector<const ResidencyWrite*>& writes,
                   Visibility& seen) {
  const auto last_acked = std::find_if(writes.rbegin(), writes.rend(),
                                       [](const ResidencyWrite* write) { return write->acked; });
  if (last_acked == writes.rend()) return;
  ++seen.checked;
  const bool shown = std::any_of(writes.rbegin(), last_acked + 1,
                                 [&](const ResidencyWrite* write) { return Shows(value, *write); });
  if (!shown) AddMissing(**last_acked, " (the key's last acknowledged write)", 1, seen);
}

void CheckCounter(const nlohmann::json& value, const std::vector<const ResidencyWrite*>& writes,
                  Visibility& seen) {
  const auto acked = static_cast<size_t>(std::count_if(
      writes.begin(), writes.end(), [](const ResidencyWrite* write) { return write->acked; }));
  seen.checked += acked;
  const int64_t count = value.is_number_integer() ? value.get<int64_t>() : -1;
  const auto sent = static_cast<int64_t>(writes.size());
  if (count < static_cast<int64_t>(acked)) {
    AddMissing(*writes.front(),
               ": reads " + std::to_string(count) + " after " + std::to_string(acked) +
                   " acknowledged increments",
               acked - static_cast<size_t>(std::max<int64_t>(count, 0)), seen);
  }
  if (count > sent) seen.doubled += static_cast<size_t>(count - sent);
}

}  // namespace

void CheckKeyRead(const nlohmann::json& value, const std::vector<const ResidencyWrite*>& writes,
                  Visibility& seen) {
  if (writes.empty()) return;
  switch (writes.front()->kind) {
    case ResidencyClass::kRegister:
      return CheckRegister(value, writes, seen);
    case ResidencyClass::kCounter:
      return CheckCounter(value, writes, seen);
    case ResidencyClass::kProfile:
    case ResidencyClass::kTags:
      break;
  }
  for (const ResidencyWrite* write : writes) {
    if (!write->acked) continue;
    ++seen.checked;
    if (!Shows(value, *write)) AddMissing(*write, "", 1, seen);
  }
}

Visibility CheckVisible(const std::string& address, const std::vector<ResidencyWrite>& writes,
                        bool pinned) {
  WritesByKey by_key;
  for (const ResidencyWrite& write : writes) {
    if (write.pinned == pinned) by_key[{write.kind, write.key}].push_back(&write);
  }
  Visibility seen;
  for (const auto& [id, key_writes] : by_key) {
    const bool any_acked = std::any_of(key_writes.begin(), key_writes.end(),
                                       [](const ResidencyWrite* w) { return w->acked; });
    if (!any_acked) continue;
    auto reply =
        LabCall(address, "GET", std::string("/") + ResidencyClassName(id.first) + "/" + id.second);
    if (!reply.ok() || reply->status != 200) {
      ++seen.read_failures;
      Visibility none;
      CheckKeyRead(nlohmann::json(), key_writes, none);
      seen.checked += none.checked;
      seen.missing += none.missing;
      if (seen.first_missing.empty()) {
        seen.first_missing =
            none.first_missing + " (read: " +
            (reply.ok() ? "HTTP " + std::to_string(reply->status) : reply.status().ToString()) +
            ")";
      }
      continue;
    }
    CheckKeyRead(JsonField(reply->body, "value"), key_writes, seen);
  }
  return seen;
}

namespace {

std::vector<std::string> Needles(const std::vector<ResidencyWrite>& writes, bool acked_only) {
  std::set<std::string> distinct;
  for (const ResidencyWrite& write : writes) {
    if (!write.pinned || (acked_only && !write.acked)) continue;
    distinct.insert(write.key);
    if (!write.value.empty()) distinct.insert(write.value);
  }
  return {distinct.begin(), distinct.end()};
}

}  // namespace

std::vector<std::string> PinnedNeedles(const std::vector<ResidencyWrite>& writes) {
  return Needles(writes, /*acked_only=*/false);
}

std::vector<std::string> AckedPinnedNeedles(const std::vector<ResidencyWrite>& writes) {
  return Needles(writes, /*acked_only=*/true);
}

std::vector<std::string> RegionScanRoots(const std::string& cluster_dir,
                                         const std::string& region) {
  std::vector<std::string> roots = {cluster_dir + "/" + region, cluster_dir + "/backups/" + region};
  std::error_code error;
  std::set<std::string> logs;  // sorted: the same roots in the same order every run
  for (const auto& entry : std::filesystem::directory_iterator(cluster_dir + "/logs", error)) {
    const std::string name = entry.path().filename().string();
    if (name == region + ".log" || name.starts_with(region + "-")) logs.insert(entry.path());
  }
  roots.insert(roots.end(), logs.begin(), logs.end());
  return roots;
}

}  // namespace meridian
