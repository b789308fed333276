#include "gen/workload.h"

#include <charconv>
#include <cmath>
#include <utility>

namespace meridian {
namespace {

constexpr std::array<std::string_view, kOpClassCount> kClassNames = {"profile", "counter", "tags",
                                                                     "register", "handle"};
// Profile writes set one of these fields; few enough that hot keys see field conflicts.
constexpr uint64_t kProfileFields = 4;
// Tag elements per key: small, so removes usually find an element that an add put there.
constexpr uint64_t kTagElements = 16;
constexpr int64_t kCounterByMax = 5;

}  // namespace

std::string_view OpClassName(OpClass op_class) {
  return kClassNames[static_cast<size_t>(op_class)];
}

std::string_view OpName(OpClass op_class, OpKind kind) {
  switch (kind) {
    case OpKind::kRead:
      return "get";
    case OpKind::kRemove:
      return "remove";
    case OpKind::kWrite:
      break;
  }
  switch (op_class) {
    case OpClass::kCounter:
      return "incr";
    case OpClass::kTags:
      return "add";
    case OpClass::kHandle:
      return "claim";
    case OpClass::kProfile:
    case OpClass::kRegister:
      break;
  }
  return "put";
}

Result<Mix> ParseMix(std::string_view text) {
  Mix mix;
  mix.weights.fill(0);
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view part = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const size_t eq = part.find('=');
    if (eq == std::string_view::npos) {
      return InvalidArgument("mix: '" + std::string(part) + "' is not CLASS=WEIGHT");
    }
    const std::string_view name = part.substr(0, eq);
    const std::string_view number = part.substr(eq + 1);
    size_t slot = kOpClassCount;
    for (size_t i = 0; i < kOpClassCount; ++i) {
      if (kClassNames[i] == name) slot = i;
    }
    if (slot == kOpClassCount) {
      return InvalidArgument("mix: unknown class '" + std::string(name) +
                             "' (profile, counter, tags, register, handle)");
    }
    uint32_t weight = 0;
    const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), weight);
    if (ec != std::errc() || end != number.data() + number.size() || weight > 1'000'000) {
      return InvalidArgument("mix: weight of '" + std::string(name) +
                             "' must be an integer in 0..1000000");
    }
    mix.weights[slot] = weight;
  }
  uint64_t total = 0;
  for (uint32_t w : mix.weights)
    total += w;
  if (total == 0) return InvalidArgument("mix: every class has weight 0");
  return mix;
}

std::string FormatMix(const Mix& mix) {
  std::string out;
  for (size_t i = 0; i < kOpClassCount; ++i) {
    if (mix.weights[i] == 0) continue;
    if (!out.empty()) out += ',';
    out += std::string(kClassNames[i]) + "=" + std::to_string(mix.weights[i]);
  }
  return out;
}

uint64_t OpsInStep(const RateStep& step) {
  return static_cast<uint64_t>(
      std::floor(step.ops_per_s * static_cast<double>(step.duration_ns) / 1e9));
}

Status ValidateWorkload(const WorkloadSpec& spec) {
  if (spec.keyspace < 1) return InvalidArgument("keyspace must be at least 1");
  if (!(spec.zipf_exponent > 0 && spec.zipf_exponent <= 10)) {
    return InvalidArgument("zipf exponent must be in (0, 10]");
  }
  if (!(spec.read_fraction >= 0 && spec.read_fraction <= 1)) {
    return InvalidArgument("read fraction must be in [0, 1]");
  }
  if (!(spec.hopping_fraction >= 0 && spec.hopping_fraction <= 1)) {
    return InvalidArgument("hopping fraction must be in [0, 1]");
  }
  if (spec.regions < 1) return InvalidArgument("at least one target region is needed");
  if (spec.clients < spec.regions) {
    return InvalidArgument("clients (" + std::to_string(spec.clients) +
                           ") must be at least the number of target regions (" +
                           std::to_string(spec.regions) + "), so every region has one");
  }
  if (spec.steps.empty()) return InvalidArgument("the schedule has no rate step");
  for (const RateStep& step : spec.steps) {
    // 10M ops/s is far beyond what one generator process sends; above it is a typo.
    if (!(step.ops_per_s > 0 && step.ops_per_s <= 10'000'000)) {
      return InvalidArgument("rate must be in (0, 10000000] ops/s");
    }
  }
  if (spec.conflict_pairs > 0 && spec.regions < 2) {
    return InvalidArgument("conflict pairs need at least two target regions");
  }
  if (spec.value_bytes > (1 << 20)) return InvalidArgument("value bytes must be at most 1 MiB");
  uint64_t total = 0;
  for (uint32_t w : spec.mix.weights)
    total += w;
  if (total == 0) return InvalidArgument("mix: every class has weight 0");
  return Status::Ok();
}

Planner::Planner(WorkloadSpec spec)
    : spec_(std::move(spec)), random_(spec_.seed), zipf_(spec_.keyspace, spec_.zipf_exponent) {
  MERIDIAN_ASSERT(ValidateWorkload(spec_).ok());
  hopping_clients_ = static_cast<uint32_t>(
      std::lround(spec_.hopping_fraction * static_cast<double>(spec_.clients)));
  if (spec_.conflict_pairs > 0) {
    total_ops_ = 2 * spec_.conflict_pairs;
    if (spec_.conflict_read_back_ns > 0) total_ops_ += spec_.conflict_pairs * spec_.regions;
  } else {
    for (const RateStep& step : spec_.steps)
      total_ops_ += OpsInStep(step);
  }
}

std::optional<PlannedOp> Planner::Next() {
  std::optional<PlannedOp> op = spec_.conflict_pairs > 0 ? NextConflict() : NextMixed();
  if (op) {
    op->index = next_index_++;
    MERIDIAN_ASSERT(op->index < total_ops_);
  }
  return op;
}

OpClass Planner::DrawClass() {
  uint64_t total = 0;
  for (uint32_t w : spec_.mix.weights)
    total += w;
  uint64_t draw = random_.Uniform(total);
  for (size_t i = 0; i < kOpClassCount; ++i) {
    if (draw < spec_.mix.weights[i]) return static_cast<OpClass>(i);
    draw -= spec_.mix.weights[i];
  }
  MERIDIAN_ASSERT_MSG(false, "class draw beyond the total weight");
  return OpClass::kProfile;
}

std::string Planner::UniqueValue(const PlannedOp& op) const {
  // Unique per op, so a checker can tell which write a read observed.
  std::string value =
      "c" + std::to_string(op.client) + "-" +
      (op.pair >= 0 ? "p" + std::to_string(op.pair) + "-r" + std::to_string(op.region)
                    : "o" + std::to_string(next_index_));
  if (value.size() < spec_.value_bytes) value.resize(spec_.value_bytes, 'x');
  return value;
}

void Planner::FillWrite(PlannedOp& op, bool conflict) {
  switch (op.op_class) {
    case OpClass::kProfile:
      // A conflict pair sets the same field on both sides: a guaranteed LWW field conflict.
      op.field = "f" + std::to_string(conflict ? 0 : random_.Uniform(kProfileFields));
      op.value = UniqueValue(op);
      break;
    case OpClass::kRegister:
      op.value = UniqueValue(op);
      break;
    case OpClass::kCounter:
      op.by = random_.Range(1, kCounterByMax);
      break;
    case OpClass::kTags:
      if (conflict) {
        op.value = "e" + std::to_string(op.pair) + "-r" + std::to_string(op.region);
      } else {
        op.value = "t" + std::to_string(random_.Uniform(kTagElements));
      }
      break;
    case OpClass::kHandle:
      op.value = "client-" + std::to_string(op.client);
      break;
  }
}

std::optional<PlannedOp> Planner::NextMixed() {
  while (step_ < spec_.steps.size() && in_step_ >= OpsInStep(spec_.steps[step_])) {
    step_start_ns_ += spec_.steps[step_].duration_ns;
    ++step_;
    in_step_ = 0;
  }
  if (step_ >= spec_.steps.size()) return std::nullopt;
  PlannedOp op;
  op.step = step_;
  op.intended_ns = step_start_ns_ + static_cast<uint64_t>(static_cast<double>(in_step_) * 1e9 /
                                                          spec_.steps[step_].ops_per_s);
  ++in_step_;
  op.client = static_cast<uint32_t>(random_.Uniform(spec_.clients));
  op.region = IsHopping(op.client) ? static_cast<uint32_t>(random_.Uniform(spec_.regions))
                                   : HomeRegion(op.client);
  op.op_class = DrawClass();
  op.key = spec_.key_prefix + std::to_string(zipf_.Sample(random_));
  if (random_.Chance(spec_.read_fraction)) {
    op.kind = OpKind::kRead;
    return op;
  }
  op.kind = op.op_class == OpClass::kTags && random_.Chance(spec_.tags_remove_fraction)
                ? OpKind::kRemove
                : OpKind::kWrite;
  FillWrite(op, /*conflict=*/false);
  return op;
}

void Planner::PlanPair(uint64_t pair) {
  const double spacing_ns = 2e9 / spec_.steps[0].ops_per_s;  // the rate counts ops, not pairs
  const auto first_ns = static_cast<uint64_t>(static_cast<double>(pair) * spacing_ns);
  const OpClass op_class = DrawClass();
  if (spec_.conflict_read_back_ns > 0) pair_classes_.push_back(op_class);
  const auto first_region = static_cast<uint32_t>(random_.Uniform(spec_.regions));
  const auto second_region = static_cast<uint32_t>(
      (first_region + 1 + random_.Uniform(spec_.regions - 1)) % spec_.regions);
  const uint64_t gap_ns = random_.Uniform(spec_.conflict_gap_us_max + 1) * 1000;
  for (int side = 0; side < 2; ++side) {
    PlannedOp op;
    op.index = 2 * pair + side;  // planning order, the heap's tie-break; renumbered on the way out
    op.pair = static_cast<int64_t>(pair);
    op.op_class = op_class;
    op.kind = OpKind::kWrite;
    op.region = side == 0 ? first_region : second_region;
    // A client homed in that region: region + regions * j, for a j that exists.
    const uint32_t homed = (spec_.clients - op.region + spec_.regions - 1) / spec_.regions;
    op.client = op.region + spec_.regions * static_cast<uint32_t>(random_.Uniform(homed));
    op.intended_ns = first_ns + (side == 0 ? 0 : gap_ns);
    op.key = spec_.key_prefix + "pair" + std::to_string(pair);
    FillWrite(op, /*conflict=*/true);
    pending_.push(std::move(op));
  }
}

std::optional<PlannedOp> Planner::NextConflict() {
  const double spacing_ns = 2e9 / spec_.steps[0].ops_per_s;
  // Plan pairs until the next unplanned pair cannot start before the earliest pending op.
  while (pairs_planned_ < spec_.conflict_pairs &&
         (pending_.empty() || static_cast<double>(pairs_planned_) * spacing_ns <=
                                  static_cast<double>(pending_.top().intended_ns))) {
    PlanPair(pairs_planned_++);
  }
  if (pending_.empty()) return NextReadBack();
  PlannedOp op = pending_.top();
  pending_.pop();
  return op;
}

std::optional<PlannedOp> Planner::NextReadBack() {
  const uint64_t regions = spec_.regions;
  if (spec_.conflict_read_back_ns == 0 || read_backs_ == spec_.conflict_pairs * regions) {
    return std::nullopt;
  }
  // After the last pair's second write at the latest, plus the delay; then at the op rate.
  const double spacing_ns = 1e9 / spec_.steps[0].ops_per_s;
  const auto start_ns =
      static_cast<uint64_t>(static_cast<double>(spec_.conflict_pairs - 1) * 2 * spacing_ns) +
      spec_.conflict_gap_us_max * 1000 + spec_.conflict_read_back_ns;
  PlannedOp op;
  op.pair = static_cast<int64_t>(read_backs_ / regions);
  op.region = static_cast<uint32_t>(read_backs_ % regions);
  op.client = op.region;  // client r is homed in region r (clients >= regions)
  op.op_class = pair_classes_[static_cast<size_t>(op.pair)];
  op.kind = OpKind::kRead;
  op.key = spec_.key_prefix + "pair" + std::to_string(op.pair);
  op.intended_ns = start_ns + static_cast<uint64_t>(static_cast<double>(read_backs_) * spacing_ns);
  ++read_backs_;
  return op;
}

}  // namespace meridian
