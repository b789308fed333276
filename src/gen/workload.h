// The workload `meridian gen` sends, as a pure, deterministic plan: a seeded sequence of
// operations, each with its intended send time, client, region, class, key and value.
//
// Invariants:
//  1. The plan is a function of the WorkloadSpec alone (seed included): no clock, no I/O, no
//     responses. Two Planners built from equal specs yield equal sequences, so a run's operations
//     and its conflict pairs can be reproduced from the command line that made them.
//  2. Next() yields ops in non-decreasing intended_ns order, with index 0, 1, 2, ... .
//  3. Keys are key_prefix + a Zipf rank in [1, keyspace] (rank 1 is the hottest key); conflict
//     pair i uses key_prefix + "pair" + i, written once from each of two distinct regions,
//     at most conflict_gap_us_max apart. With conflict_read_back_ns, every pair key is then read
//     once in every region, that long after the last pair, for the checkers to count lost updates.
//  4. Client c's home region is c % regions; the last round(hopping_fraction * clients) clients
//     hop (a uniformly drawn region per op), the others always use their home region.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <queue>
#include <string>
#include <string_view>
#include <vector>

#include "base/random.h"
#include "base/status.h"
#include "gen/zipf.h"

namespace meridian {

enum class OpClass : uint8_t { kProfile, kCounter, kTags, kRegister, kHandle };
inline constexpr size_t kOpClassCount = 5;
std::string_view OpClassName(OpClass op_class);

enum class OpKind : uint8_t {
  kRead,    // GET
  kWrite,   // profile/register PUT, counter incr, tags add, handle claim
  kRemove,  // tags remove
};
inline constexpr size_t kOpKindCount = 3;
// "get", "put", "incr", "add", "remove", "claim": the op's name within its class.
std::string_view OpName(OpClass op_class, OpKind kind);

// Relative weights of the classes; a class with weight 0 is never drawn.
struct Mix {
  std::array<uint32_t, kOpClassCount> weights{40, 30, 30, 0, 0};
};
// "profile=40,counter=30,tags=30" (classes profile, counter, tags, register, handle; unnamed ones
// get 0). InvalidArgument naming the bad part, or when every weight is 0.
Result<Mix> ParseMix(std::string_view text);
std::string FormatMix(const Mix& mix);

// One constant-rate stretch of the schedule.
struct RateStep {
  double ops_per_s = 1000;
  uint64_t duration_ns = 10'000'000'000;
};

struct WorkloadSpec {
  uint64_t seed = 1;
  uint64_t keyspace = 10'000'000;
  double zipf_exponent = 1.1;
  Mix mix;
  double read_fraction = 0.5;         // of the ops of each class
  double tags_remove_fraction = 0.3;  // of the tag writes
  uint32_t regions = 1;               // targets the ops are spread over
  uint32_t clients = 16;
  double hopping_fraction = 0;
  std::vector<RateStep> steps{RateStep{}};
  // Conflict mode when > 0: only pairs of writes, spaced at steps[0].ops_per_s ops per second.
  uint64_t conflict_pairs = 0;
  uint64_t conflict_gap_us_max = 5'000;  // well under the smallest inter-region RTT (80 ms)
  uint64_t conflict_read_back_ns = 0;    // 0: no read-back phase
  size_t value_bytes = 16;               // profile and register values are padded to this
  std::string key_prefix = "k";
};

// OK, or InvalidArgument naming the field that is out of range.
Status ValidateWorkload(const WorkloadSpec& spec);

struct PlannedOp {
  uint64_t index = 0;
  uint64_t intended_ns = 0;  // offset from the start of the run
  uint32_t step = 0;         // index into WorkloadSpec::steps (0 in conflict mode)
  uint32_t client = 0;
  uint32_t region = 0;  // target index
  OpClass op_class = OpClass::kProfile;
  OpKind kind = OpKind::kRead;
  std::string key;
  std::string field;  // profile writes: the field set
  std::string value;  // profile/register value, tag element, handle owner
  int64_t by = 0;     // counter increments
  int64_t pair = -1;  // conflict pair index, or -1

  bool operator==(const PlannedOp&) const = default;
};

class Planner {
 public:
  // REQUIRES: ValidateWorkload(spec).ok().
  explicit Planner(WorkloadSpec spec);

  // The next op in intended-time order, or nullopt when the schedule is over.
  std::optional<PlannedOp> Next();
  // How many ops Next() yields in all.
  uint64_t TotalOps() const { return total_ops_; }
  uint32_t HomeRegion(uint32_t client) const { return client % spec_.regions; }
  bool IsHopping(uint32_t client) const { return client >= spec_.clients - hopping_clients_; }

 private:
  std::optional<PlannedOp> NextMixed();
  std::optional<PlannedOp> NextConflict();
  std::optional<PlannedOp> NextReadBack();
  void PlanPair(uint64_t pair);
  OpClass DrawClass();
  void FillWrite(PlannedOp& op, bool conflict);
  std::string UniqueValue(const PlannedOp& op) const;

  struct Later {
    bool operator()(const PlannedOp& a, const PlannedOp& b) const {
      return a.intended_ns != b.intended_ns ? a.intended_ns > b.intended_ns : a.index > b.index;
    }
  };

  WorkloadSpec spec_;
  Random random_;
  ZipfSampler zipf_;
  uint32_t hopping_clients_ = 0;
  uint64_t total_ops_ = 0;
  uint64_t next_index_ = 0;
  // Mixed mode: position in the schedule.
  uint32_t step_ = 0;
  uint64_t in_step_ = 0;
  uint64_t step_start_ns_ = 0;
  // Conflict mode: pairs planned ahead, so ops leave in intended-time order although a pair's
  // second write may fall after the next pair's first. Holds at most a few pairs.
  uint64_t pairs_planned_ = 0;
  std::priority_queue<PlannedOp, std::vector<PlannedOp>, Later> pending_;
  std::vector<OpClass> pair_classes_;  // for the read-back phase
  uint64_t read_backs_ = 0;            // read-back ops emitted
};

// Ops in one step: floor(ops_per_s * duration).
uint64_t OpsInStep(const RateStep& step);

}  // namespace meridian
