// (3) CRDTs lose nothing: seeded increments (counter) and adds (tags) spread over every region,
// then every region must show the sum of the acknowledged increments and every acknowledged
// member, and all regions the same state.
#include <set>
#include <string>

#include "base/random.h"
#include "lab/experiments.h"

namespace meridian {

namespace {

constexpr auto kConvergeTimeout = std::chrono::seconds(20);
constexpr uint64_t kIncrementMax = 9;

struct CrdtState {
  int64_t counter = 0;
  std::set<std::string> tags;
  bool read_ok = false;
};

CrdtState ReadState(const std::string& address, const std::string& counter_key,
                    const std::string& tags_key) {
  CrdtState state;
  auto counter = LabCall(address, "GET", "/counter/" + counter_key);
  auto tags = LabCall(address, "GET", "/tags/" + tags_key);
  if (!counter.ok() || counter->status != 200 || !tags.ok() || tags->status != 200) return state;
  const nlohmann::json& counter_value = JsonField(counter->body, "value");
  const nlohmann::json& tags_value = JsonField(tags->body, "value");
  if (!counter_value.is_number_integer() || !tags_value.is_array()) return state;
  state.counter = counter_value.get<int64_t>();
  for (const nlohmann::json& member : tags_value) {
    if (member.is_string()) state.tags.insert(member.get<std::string>());
  }
  state.read_ok = true;
  return state;
}

}  // namespace

ExperimentResult RunCrdtExperiment(const LabContext& context) {
  ExperimentResult result = context.NewResult(
      "crdt", "PN-counter and OR-set under writes from every region: nothing lost");
  const std::string counter_key = "crdt-counter-" + std::to_string(context.seed);
  const std::string tags_key = "crdt-tags-" + std::to_string(context.seed);
  const uint64_t ops = context.quick ? 60 : 600;
  Random random(context.seed);
  int64_t acked_sum = 0;
  uint64_t acked_incr = 0;
  uint64_t failed = 0;
  std::set<std::string> acked_members;
  for (uint64_t i = 0; i < ops; ++i) {
    const size_t region = random.Uniform(context.region_count());
    const auto by = static_cast<int64_t>(1 + random.Uniform(kIncrementMax));
    auto incr = LabCall(context.region_http[region], "POST",
                        "/counter/" + counter_key + "/incr?by=" + std::to_string(by));
    if (incr.ok() && incr->status == 200) {
      acked_sum += by;
      ++acked_incr;
    } else {
      ++failed;
    }
    const std::string member = "m" + std::to_string(i) + "-" + context.region_names[region];
    auto add = LabCall(context.region_http[region], "POST", "/tags/" + tags_key,
                       nlohmann::json{{"add", {member}}}.dump());
    if (add.ok() && add->status == 200)
      acked_members.insert(member);
    else
      ++failed;
  }
  result.Metric("increments acknowledged", static_cast<double>(acked_incr), "ops");
  result.Metric("sum of acknowledged increments", static_cast<double>(acked_sum), "");
  result.Metric("members acknowledged", static_cast<double>(acked_members.size()), "members");
  result.Metric("writes refused or failed", static_cast<double>(failed), "ops");

  const auto start = std::chrono::steady_clock::now();
  std::vector<CrdtState> states;
  const bool converged = WaitUntil(
      [&] {
        states.clear();
        for (const std::string& address : context.region_http) {
          states.push_back(ReadState(address, counter_key, tags_key));
          const CrdtState& s = states.back();
          if (!s.read_ok || s.counter != acked_sum || s.tags != acked_members) return false;
        }
        return true;
      },
      kConvergeTimeout);
  result.Metric("time until every region holds every acknowledged write", SecondsSince(start), "s");
  std::string counters;
  int64_t lost_increments = 0;
  size_t lost_members = 0;
  for (size_t r = 0; r < states.size(); ++r) {
    counters += context.region_names[r] + "=" + std::to_string(states[r].counter) + " ";
    lost_increments = std::max(lost_increments, acked_sum - states[r].counter);
    size_t missing = 0;
    for (const std::string& member : acked_members)
      missing += states[r].tags.count(member) == 0 ? 1 : 0;
    lost_members = std::max(lost_members, missing);
  }
  result.Metric("lost increments (largest over regions)", static_cast<double>(lost_increments), "");
  result.Metric("lost members (largest over regions)", static_cast<double>(lost_members),
                "members");
  result.Assert("every region's counter == sum of acknowledged increments (zero lost)", converged,
                counters + "expected " + std::to_string(acked_sum));
  result.Assert("zero lost members, all regions identical", converged,
                std::to_string(acked_members.size()) + " members expected");
  result.notes.push_back(
      "Sequential requests, each to a region drawn from the seed; counter "
      "deltas 1..9 from the seed. States are polled until they match, at most "
      "20 s.");
  return result;
}

}  // namespace meridian
