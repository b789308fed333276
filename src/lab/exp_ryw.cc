// (7) Read-your-writes: each round writes a fresh profile key, then reads it back at once.
//   pinned:          write and read in the same region               -> must see it (asserted)
//   hopping:         read in the next region, no session token        -> stale some of the time
//   hopping + token: read in the next region with X-Session-Token     -> must see it (asserted)
#include <string>

#include "lab/experiments.h"

namespace meridian {

namespace {

struct RywTally {
  uint64_t rounds = 0;
  uint64_t seen = 0;
  uint64_t errors = 0;  // a write or read that failed: neither seen nor stale
};

enum class RywMode { kPinned, kHopping, kHoppingWithToken };

const char* ModeName(RywMode mode) {
  switch (mode) {
    case RywMode::kPinned:
      return "pinned";
    case RywMode::kHopping:
      return "hopping";
    case RywMode::kHoppingWithToken:
      return "hopping-token";
  }
  return "?";
}

RywTally RunMode(const LabContext& context, RywMode mode, uint64_t rounds) {
  RywTally tally;
  const size_t n = context.region_count();
  for (uint64_t i = 0; i < rounds; ++i) {
    const size_t write_region = i % n;
    const size_t read_region = mode == RywMode::kPinned ? write_region : (i + 1) % n;
    const std::string key = std::string("ryw-") + ModeName(mode) + "-" +
                            std::to_string(context.seed) + "-" + std::to_string(i);
    const std::string value = "v" + std::to_string(i);
    ++tally.rounds;
    auto write = LabCall(context.region_http[write_region], "PUT", "/profile/" + key,
                         nlohmann::json{{"f0", value}}.dump());
    if (!write.ok() || write->status != 200 || !write->body.is_object()) {
      ++tally.errors;
      continue;
    }
    LabHeaders headers;
    if (mode == RywMode::kHoppingWithToken) {
      headers.push_back({"X-Session-Token", JsonString(write->body, "session_token")});
    }
    auto read = LabCall(context.region_http[read_region], "GET", "/profile/" + key, "", headers);
    if (!read.ok() || read->status != 200 || !read->body.is_object()) {
      ++tally.errors;
      continue;
    }
    const nlohmann::json fields = JsonField(read->body, "value");
    if (fields.is_object() && JsonString(fields, "f0") == value) ++tally.seen;
  }
  return tally;
}

double Percent(uint64_t part, uint64_t whole) {
  return whole == 0 ? 0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole);
}

}  // namespace

ExperimentResult RunRywExperiment(const LabContext& context) {
  ExperimentResult result = context.NewResult(
      "ryw", "read-your-writes: pinned, hopping without and with the session token");
  const uint64_t rounds = context.quick ? 30 : 300;
  for (RywMode mode : {RywMode::kPinned, RywMode::kHopping, RywMode::kHoppingWithToken}) {
    const RywTally tally = RunMode(context, mode, rounds);
    const std::string name = ModeName(mode);
    const uint64_t answered = tally.rounds - tally.errors;
    result.Metric(name + ": own writes seen", Percent(tally.seen, answered), "%");
    result.Metric(name + ": rounds answered", static_cast<double>(answered), "rounds");
    const std::string detail = std::to_string(tally.seen) + " of " + std::to_string(answered) +
                               " seen, " + std::to_string(tally.errors) + " errors";
    if (mode == RywMode::kHopping) {
      result.Metric("hopping: stale reads", Percent(answered - tally.seen, answered), "%");
      continue;  // shown on purpose, not asserted
    }
    result.Assert(name + ": 100% of own writes seen", tally.errors == 0 && tally.seen == answered,
                  detail);
  }
  result.notes.push_back(
      "Each round writes a fresh key and reads it back immediately; the "
      "hopping client reads in the next region (round-robin). Without the "
      "token it sees what replication has delivered so far (stale on "
      "purpose); with X-Session-Token the region waits until it has applied "
      "the write.");
  return result;
}

}  // namespace meridian
