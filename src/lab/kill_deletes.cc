#include "lab/kill_deletes.h"

#include <algorithm>
#include <set>

#include "base/assert.h"

namespace meridian {

namespace {

constexpr int kGroups = 3;
constexpr int kMembersPerGroup = 3;  // one removed by DELETE /tags/{key}/{m}, two by POST remove
constexpr int kFieldsPerGroup = 2;   // deleted by one PUT with null values
constexpr int kKeptMembers = 3;
constexpr int kKeptFields = 6;
constexpr int kMembers = kGroups * kMembersPerGroup + kKeptMembers;
constexpr int kFields = kGroups * kFieldsPerGroup + kKeptFields;
constexpr auto kCallTimeout = std::chrono::seconds(2);

std::string Member(int i) {
  return "m" + std::to_string(i);
}
std::string Field(int i) {
  return "f" + std::to_string(i);
}
std::string FieldValue(int i) {
  return "v" + std::to_string(i);
}

bool Ok(const Result<LabReply>& reply) {
  return reply.ok() && reply->status == 200;
}

// The "value" of GET target in the region, or null when it could not be read.
nlohmann::json ReadValue(const std::string& address, const std::string& target) {
  auto reply = LabCall(address, "GET", target, "", {}, kCallTimeout);
  if (!reply.ok() || reply->status != 200) return nullptr;
  return JsonField(reply->body, "value");
}

}  // namespace

DeleteProbe::DeleteProbe(const LabContext& context, size_t victim, std::vector<size_t> survivors,
                         const std::string& prefix)
    : context_(context),
      victim_(victim),
      survivors_(std::move(survivors)),
      tags_key_(prefix + "tags"),
      profile_key_(prefix + "profile") {
  MERIDIAN_ASSERT(survivors_.size() >= 2);
  for (int g = 0; g < kGroups; ++g)
    clear_keys_.push_back(prefix + "clear" + std::to_string(g));
}

size_t DeleteProbe::GroupRegion(int group) const {
  return group == 0 ? survivors_[0] : group == 1 ? victim_ : survivors_[1];
}

bool DeleteProbe::Seed(std::chrono::milliseconds timeout, std::string* detail) {
  const size_t n = context_.region_count();
  int failed = 0;
  for (int i = 0; i < kMembers; ++i) {
    failed += Ok(LabCall(context_.region_http[i % n], "POST", "/tags/" + tags_key_,
                         nlohmann::json{{"add", {Member(i)}}}.dump()))
                  ? 0
                  : 1;
  }
  for (int i = 0; i < kFields; ++i) {
    failed += Ok(LabCall(context_.region_http[i % n], "PUT", "/profile/" + profile_key_,
                         nlohmann::json{{Field(i), FieldValue(i)}}.dump()))
                  ? 0
                  : 1;
  }
  for (int g = 0; g < kGroups; ++g) {
    failed += Ok(LabCall(context_.region_http[g % n], "PUT", "/profile/" + clear_keys_[g],
                         R"({"a": "x", "b": "y"})"))
                  ? 0
                  : 1;
  }
  if (failed > 0) {
    *detail = std::to_string(failed) + " seed writes failed";
    return false;
  }
  std::vector<size_t> all;
  for (size_t r = 0; r < n; ++r)
    all.push_back(r);
  if (!WaitUntil([&] { return AllSettled(all); }, timeout)) {
    *detail = "the seeded members and fields did not reach every region in time";
    return false;
  }
  return true;
}

void DeleteProbe::Delete(int group, std::chrono::milliseconds settle) {
  MERIDIAN_ASSERT(group >= 0 && group < kGroups);
  const std::string& address = context_.region_http[GroupRegion(group)];
  Outcome& out = outcomes_[group];
  const int m0 = group * kMembersPerGroup;
  if (Ok(LabCall(address, "DELETE", "/tags/" + tags_key_ + "/" + Member(m0))))
    out.members_removed.push_back(Member(m0));
  else
    ++out.refused;
  const nlohmann::json removes = {Member(m0 + 1), Member(m0 + 2)};
  if (Ok(LabCall(address, "POST", "/tags/" + tags_key_,
                 nlohmann::json{{"remove", removes}}.dump())))
    out.members_removed.insert(out.members_removed.end(), {Member(m0 + 1), Member(m0 + 2)});
  else
    ++out.refused;
  const int f0 = group * kFieldsPerGroup;
  nlohmann::json nulls = nlohmann::json::object();
  for (int f = f0; f < f0 + kFieldsPerGroup; ++f)
    nulls[Field(f)] = nullptr;
  if (Ok(LabCall(address, "PUT", "/profile/" + profile_key_, nulls.dump()))) {
    for (int f = f0; f < f0 + kFieldsPerGroup; ++f)
      out.fields_deleted.push_back(Field(f));
  } else {
    ++out.refused;
  }
  out.cleared = Ok(LabCall(address, "DELETE", "/profile/" + clear_keys_[group]));
  out.refused += out.cleared ? 0 : 1;
  if (group == 0) {
    std::vector<size_t> all;
    for (size_t r = 0; r < context_.region_count(); ++r)
      all.push_back(r);
    (void)WaitUntil([&] { return AllSettled(all); }, settle);
  }
}

DeleteProbe::RegionView DeleteProbe::Inspect(size_t region) const {
  RegionView view;
  const std::string& address = context_.region_http[region];
  const nlohmann::json tags = ReadValue(address, "/tags/" + tags_key_);
  const nlohmann::json profile = ReadValue(address, "/profile/" + profile_key_);
  if (!tags.is_array() || !profile.is_object()) {
    view.detail = "unreadable";
    return view;
  }
  std::set<std::string> members;
  for (const nlohmann::json& m : tags) {
    if (m.is_string()) members.insert(m.get<std::string>());
  }
  view.resurrected_members = 0;
  view.resurrected_fields = 0;
  view.missing_kept = 0;
  for (const Outcome& out : outcomes_) {
    for (const std::string& m : out.members_removed) {
      if (members.count(m) > 0) {
        ++view.resurrected_members;
        view.detail += " member " + m;
      }
    }
    for (const std::string& f : out.fields_deleted) {
      if (profile.contains(f)) {
        ++view.resurrected_fields;
        view.detail += " field " + f;
      }
    }
  }
  for (int g = 0; g < kGroups; ++g) {
    if (!outcomes_[g].cleared) continue;
    const nlohmann::json cleared = ReadValue(address, "/profile/" + clear_keys_[g]);
    if (!cleared.is_object()) {
      view.detail += " " + clear_keys_[g] + " unreadable";
      view.resurrected_fields = std::max(view.resurrected_fields, 0) + 1;
    } else if (!cleared.empty()) {
      view.resurrected_fields += static_cast<int>(cleared.size());
      view.detail += " " + clear_keys_[g] + " " + cleared.dump();
    }
  }
  for (int i = kGroups * kMembersPerGroup; i < kMembers; ++i) {
    if (members.count(Member(i)) == 0) {
      ++view.missing_kept;
      view.detail += " kept member " + Member(i) + " missing";
    }
  }
  for (int i = kGroups * kFieldsPerGroup; i < kFields; ++i) {
    if (JsonString(profile, Field(i)) != FieldValue(i)) {
      ++view.missing_kept;
      view.detail += " kept field " + Field(i) + " missing";
    }
  }
  return view;
}

bool DeleteProbe::AllSettled(const std::vector<size_t>& regions) const {
  for (size_t r : regions) {
    const RegionView view = Inspect(r);
    if (view.resurrected_members != 0 || view.resurrected_fields != 0 || view.missing_kept != 0)
      return false;
  }
  return true;
}

void DeleteProbe::Check(std::chrono::milliseconds timeout, ExperimentResult& result) {
  std::vector<size_t> all;
  for (size_t r = 0; r < context_.region_count(); ++r)
    all.push_back(r);
  const bool settled = WaitUntil([&] { return AllSettled(all); }, timeout);
  int worst_members = 0;
  int worst_fields = 0;
  int worst_missing = 0;
  bool readable = true;
  std::string detail;
  for (size_t r : all) {
    const RegionView view = Inspect(r);
    readable = readable && view.resurrected_members >= 0;
    worst_members = std::max(worst_members, view.resurrected_members);
    worst_fields = std::max(worst_fields, view.resurrected_fields);
    worst_missing = std::max(worst_missing, view.missing_kept);
    if (!view.detail.empty()) detail += context_.region_names[r] + ":" + view.detail + "; ";
  }
  size_t deletes = 0;
  size_t refused = 0;
  for (int g = 0; g < kGroups; ++g) {
    const Outcome& out = outcomes_[g];
    deletes += out.members_removed.size() + out.fields_deleted.size() + (out.cleared ? 1 : 0);
    refused += out.refused;
    result.Metric("deletes acknowledged by " + context_.region_names[GroupRegion(g)] +
                      (g == 0   ? " before the kill"
                       : g == 1 ? " (the victim) just before the kill"
                                : " during the outage"),
                  static_cast<double>(out.members_removed.size() + out.fields_deleted.size() +
                                      (out.cleared ? 1 : 0)),
                  "items");
  }
  result.Metric("delete requests not acknowledged", static_cast<double>(refused), "requests");
  result.Metric("resurrected tags: removed members back in a region after failback (worst)",
                worst_members, "members");
  result.Metric("resurrected profile: deleted fields back in a region after failback (worst)",
                worst_fields, "fields");
  result.Assert(
      "no resurrected deletes: no removed member, deleted field or cleared profile is back in "
      "any region after failback",
      settled && readable && worst_members == 0 && worst_fields == 0,
      std::to_string(deletes) + " acknowledged deletes checked in every region" +
          (detail.empty() ? std::string() : "; " + detail));
  result.Assert(
      "every member and field never deleted is still in every region",
      readable && worst_missing == 0,
      std::to_string(kKeptMembers) + " members, " + std::to_string(kKeptFields) + " fields kept");
}

}  // namespace meridian
