#include "lab/kill_verify.h"

#include <algorithm>

#include "lab/kill_state.h"

namespace meridian {

OutageRpo MeasureOutageRpo(const LabContext& context, const KillPlan& plan,
                           const std::vector<WriteRecord>& writes,
                           const std::vector<size_t>& survivors) {
  OutageRpo rpo;
  KillRegionState survivor_state;
  const std::vector<std::string> keys = ProfileKeys(writes);
  rpo.survivors_agreed = WaitUntil(
      [&] {
        std::vector<KillRegionState> states;
        for (size_t r : survivors)
          states.push_back(ReadKillState(context.region_http[r], plan, keys));
        for (const KillRegionState& s : states) {
          if (!s.read_ok || !(s == states.front())) return false;
        }
        survivor_state = states.front();
        return true;
      },
      std::chrono::seconds(3));
  if (!rpo.survivors_agreed) return rpo;
  int64_t acked_increments = 0;
  for (const WriteRecord& w : writes)
    acked_increments += w.kind == KillClass::kCounter && w.acked ? 1 : 0;
  rpo.counter =
      static_cast<double>(std::max<int64_t>(0, acked_increments - survivor_state.counter));
  rpo.tags = static_cast<double>(MissingAcked(writes, KillClass::kTags, survivor_state, kAfter));
  rpo.profile =
      static_cast<double>(MissingAcked(writes, KillClass::kProfile, survivor_state, kAfter));
  rpo.handle = static_cast<double>(
      HandlesNotHeld(context.region_http[survivors[0]], writes, plan.handle_owner, kAfter));
  return rpo;
}

void ReportOutageRpo(const OutageRpo& rpo, const std::string& victim, ExperimentResult& result) {
  if (!rpo.survivors_agreed) {
    result.notes.push_back(
        "The surviving regions did not agree within 3 s during the outage, "
        "so what only the victim held is not shown.");
    return;
  }
  const std::string lost_for_good = " if " + victim + " had not returned: acknowledged ";
  result.Metric("RPO counter" + lost_for_good + "increments only on " + victim, rpo.counter, "ops");
  result.Metric("RPO tags" + lost_for_good + "members only on " + victim, rpo.tags, "members");
  result.Metric("RPO profile" + lost_for_good + "fields only on " + victim, rpo.profile, "fields");
  result.Metric("RPO handle" + lost_for_good + "claims a survivor does not show", rpo.handle,
                "claims");
}

void VerifyAfterFailback(const LabContext& context, const KillPlan& plan,
                         const std::vector<WriteRecord>& writes, size_t victim_id,
                         std::chrono::milliseconds settle, ExperimentResult& result) {
  int64_t expected = 0;   // distinct increments acknowledged (first try or retry)
  int64_t ambiguous = 0;  // never acknowledged: may or may not have applied
  for (const WriteRecord& w : writes) {
    if (w.kind != KillClass::kCounter) continue;
    (w.acked || w.retry_acked ? expected : ambiguous) += 1;
  }
  const std::vector<std::string> profile_keys = ProfileKeys(writes);
  const auto converge_at = std::chrono::steady_clock::now();
  std::vector<KillRegionState> states;
  const bool converged = WaitUntil(
      [&] {
        states.clear();
        for (const std::string& address : context.region_http) {
          states.push_back(ReadKillState(address, plan, profile_keys));
          const KillRegionState& s = states.back();
          if (!s.read_ok || s.counter < expected || s.counter > expected + ambiguous) return false;
          if (MissingAcked(writes, KillClass::kTags, s) > 0) return false;
          if (MissingAcked(writes, KillClass::kProfile, s) > 0) return false;
          if (!(s == states.front())) return false;
        }
        return true;
      },
      settle);
  result.Metric("retries to every region holding every acknowledged write",
                SecondsSince(converge_at), "s");
  int64_t lost = 0;
  int64_t doubled = 0;
  size_t missing_members = 0;
  size_t missing_fields = 0;
  bool identical = !states.empty();
  std::string counters;
  for (size_t r = 0; r < states.size(); ++r) {
    const KillRegionState& s = states[r];
    counters += context.region_names[r] + "=" + std::to_string(s.counter) + " ";
    identical = identical && s.read_ok && s == states.front();
    lost = std::max(lost, expected - s.counter);
    doubled = std::max(doubled, s.counter - (expected + ambiguous));
    missing_members = std::max(missing_members, MissingAcked(writes, KillClass::kTags, s));
    missing_fields = std::max(missing_fields, MissingAcked(writes, KillClass::kProfile, s));
  }
  const std::string& victim = context.region_names[victim_id];
  const size_t claims_lost =
      HandlesNotHeld(context.region_http[victim_id], writes, plan.handle_owner);
  result.Metric("RPO counter: acknowledged increments missing after recovery",
                static_cast<double>(lost), "ops");
  result.Metric("RPO tags: acknowledged members missing after recovery",
                static_cast<double>(missing_members), "members");
  result.Metric("RPO profile: acknowledged fields missing after recovery",
                static_cast<double>(missing_fields), "fields");
  result.Metric("RPO handle: acknowledged claims not held after recovery (read via " + victim + ")",
                static_cast<double>(claims_lost), "claims");
  result.Metric("double-applied increments after replay", static_cast<double>(doubled), "ops");
  result.Metric("counter writes never acknowledged, even on retry", static_cast<double>(ambiguous),
                "ops");
  result.Assert(
      "every region's counter == distinct acknowledged increments (zero lost, zero doubled)",
      converged && lost <= 0 && doubled <= 0,
      counters + "expected " + std::to_string(expected) +
          (ambiguous > 0 ? " (+ up to " + std::to_string(ambiguous) + " never acknowledged)"
                         : std::string()));
  result.Assert("every acknowledged member in every region (tags RPO 0)", missing_members == 0,
                std::to_string(missing_members) + " missing in the worst region");
  result.Assert("every acknowledged profile field in every region", missing_fields == 0,
                std::to_string(missing_fields) + " missing in the worst region");
  result.Assert("every acknowledged handle claim still held by its claimant (handle RPO 0)",
                claims_lost == 0, std::to_string(claims_lost) + " not held");
  result.Assert("all regions identical after failback", identical && converged, counters);
}

}  // namespace meridian
