// (issue 16) Causal+ reads on live regions, run both ways. Regions: the config's first three,
// here called first, second and third.
//   Each session writes A (a profile key) in the first region, reads A in the second with the
//   write's X-Session-Token (the read waits until the second has applied A), then writes B (another
//   key) in the second: B causally follows A. The first region's replication link to the third is
//   cut (one direction, at the WAN emulator) for the whole run, so A reaches the third only by the
//   mesh's relay or after the heal, while B arrives at once. The third is polled for B; when B
//   shows, A must show too.
//   causal:          the cluster as shipped: B is never shown without A (asserted).
//   causal-control:  regions started with --TEST-plain-eventual-delivery, which apply every op
//                    on arrival: B shows without A (asserted: else the check proves nothing).
// In both, after the heal every session's A and B show in the third region (asserted).
#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "lab/experiments.h"
#include "lab/wan_links.h"

namespace meridian {

namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

struct CausalTally {
  uint64_t sessions = 0;
  uint64_t errors = 0;            // a write or the session read failed
  uint64_t b_shown = 0;           // B showed in the third region within the poll window
  uint64_t b_without_a = 0;       // ... while A did not
  std::vector<double> b_wait_ms;  // from B's acknowledgement to B showing in the third region
};

// True when GET /profile/{key} in `region` shows field f0 == value.
bool Shows(const LabContext& context, size_t region, const std::string& key,
           const std::string& value) {
  auto read = LabCall(context.region_http[region], "GET", "/profile/" + key);
  return read.ok() && read->status == 200 &&
         JsonString(JsonField(read->body, "value"), "f0") == value;
}

std::string SessionKey(const LabContext& context, const std::string& mode, uint64_t i,
                       const char* which) {
  return "causal-" + mode + "-" + std::to_string(context.seed) + "-" + std::to_string(i) + "-" +
         which;
}

// One session (see the file comment); polls the third region for up to `window`.
void RunSession(const LabContext& context, const std::string& mode, uint64_t i, milliseconds window,
                CausalTally& tally) {
  ++tally.sessions;
  const std::string a_key = SessionKey(context, mode, i, "a");
  const std::string b_key = SessionKey(context, mode, i, "b");
  auto wrote_a = LabCall(context.region_http[0], "PUT", "/profile/" + a_key, R"({"f0":"cause"})");
  if (!wrote_a.ok() || wrote_a->status != 200) {
    ++tally.errors;
    return;
  }
  const LabHeaders session{{"X-Session-Token", JsonString(wrote_a->body, "session_token")}};
  auto read_a = LabCall(context.region_http[1], "GET", "/profile/" + a_key, "", session);
  if (!read_a.ok() || read_a->status != 200) {
    ++tally.errors;
    return;
  }
  auto wrote_b =
      LabCall(context.region_http[1], "PUT", "/profile/" + b_key, R"({"f0":"effect"})", session);
  if (!wrote_b.ok() || wrote_b->status != 200) {
    ++tally.errors;
    return;
  }
  const Clock::time_point acked = Clock::now();
  // B first, then A: A appearing between the two reads can only hide an anomaly, never make one.
  if (!WaitUntil([&] { return Shows(context, 2, b_key, "effect"); }, window)) return;
  ++tally.b_shown;
  tally.b_wait_ms.push_back(
      std::chrono::duration<double, std::milli>(Clock::now() - acked).count());
  if (!Shows(context, 2, a_key, "cause")) ++tally.b_without_a;
}

double Median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

ExperimentResult RunCausal(const LabContext& context, bool control) {
  const std::string mode = control ? "causal-control" : "causal";
  ExperimentResult result = context.NewResult(
      mode, control
                ? "causal+ reads, the control: the same sessions under plain eventual delivery"
                : "causal+ reads: a write is never visible in a third region without its cause");
  if (context.region_count() < 3) {
    result.Assert("the cluster has three regions", false,
                  std::to_string(context.region_count()) + " regions");
    return result;
  }
  const std::string first = context.region_names[0];
  const std::string third = context.region_names[2];
  const uint64_t sessions = context.quick ? 5 : 40;
  const milliseconds window(3000);  // past the mesh's 1 s relay delay and the RTTs

  const bool cut = SetWanProxy(context, first + "->" + third, false);
  result.Assert("the " + first + " -> " + third + " link is cut", cut, "at the WAN emulator");
  CausalTally tally;
  if (cut) {
    for (uint64_t i = 0; i < sessions; ++i)
      RunSession(context, mode, i, window, tally);
  }
  const bool healed = SetWanProxy(context, first + "->" + third, true);
  result.Assert("the link is healed", healed, "");

  const bool converged = WaitUntil(
      [&] {
        for (uint64_t i = 0; i < tally.sessions; ++i) {
          if (!Shows(context, 2, SessionKey(context, mode, i, "a"), "cause") ||
              !Shows(context, 2, SessionKey(context, mode, i, "b"), "effect")) {
            return false;
          }
        }
        return true;
      },
      milliseconds(30'000));

  result.Metric("sessions", static_cast<double>(tally.sessions), "sessions");
  result.Metric("B shown in " + third + " within 3 s", static_cast<double>(tally.b_shown),
                "sessions");
  result.Metric("B shown without A", static_cast<double>(tally.b_without_a), "sessions");
  result.Metric("B shown after its ack, median", Median(tally.b_wait_ms), "ms");
  const std::string detail = std::to_string(tally.b_without_a) + " of " +
                             std::to_string(tally.b_shown) + " sessions whose B showed";
  result.Assert("every session's writes and read answered", tally.errors == 0,
                std::to_string(tally.errors) + " failed");
  if (control) {
    result.Assert("plain eventual delivery shows B without A (the check can fail)",
                  tally.b_without_a > 0, detail);
  } else {
    result.Assert("B is never shown without A", tally.b_without_a == 0, detail);
  }
  result.Assert("after the heal " + third + " shows every A and B", converged, "");
  result.notes.push_back(
      "The " + first + " -> " + third +
      " replication link is cut one way for the whole run; A reaches " + third +
      " by the mesh's relay (after about 1 s) or after the heal. " +
      (control ? "Regions run with --TEST-plain-eventual-delivery: ops are applied on arrival."
               : "Under causal delivery " + third +
                     " holds B back until it has A, which is the wait measured above."));
  return result;
}

}  // namespace

ExperimentResult RunCausalExperiment(const LabContext& context) {
  return RunCausal(context, /*control=*/false);
}

ExperimentResult RunCausalControlExperiment(const LabContext& context) {
  return RunCausal(context, /*control=*/true);
}

}  // namespace meridian
