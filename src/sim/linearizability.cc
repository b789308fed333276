#include "sim/linearizability.h"

#include <algorithm>
#include <limits>
#include <map>
#include <unordered_set>

namespace meridian {
namespace {

constexpr uint64_t kNever = std::numeric_limits<uint64_t>::max();

// The register state is an owner, interned: 0 is "free".
struct Op {
  HandleOpKind kind;
  uint32_t owner;  // claim / release: the requester
  uint64_t invoke;
  uint64_t complete;  // kNever when the outcome is unknown
  bool known;
  HandleOutcome outcome;
  uint32_t result_owner;
};

struct Step {
  uint32_t state;
  HandleOutcome outcome;
  uint32_t result_owner;
};

// The compare-and-set register, written independently of the code under test.
Step Model(uint32_t s, const Op& op) {
  switch (op.kind) {
    case HandleOpKind::kClaim:
      if (s == 0 || s == op.owner) return {op.owner, HandleOutcome::kClaimed, op.owner};
      return {s, HandleOutcome::kTaken, s};
    case HandleOpKind::kRelease:
      if (s == 0) return {s, HandleOutcome::kNotFound, 0};
      if (s == op.owner) return {0, HandleOutcome::kReleased, 0};
      return {s, HandleOutcome::kForbidden, s};
    case HandleOpKind::kRead:
      if (s == 0) return {s, HandleOutcome::kNotFound, 0};
      return {s, HandleOutcome::kValue, s};
  }
  return {s, HandleOutcome::kUnavailable, 0};
}

struct KeyHash {
  size_t operator()(const std::pair<uint64_t, uint32_t>& k) const {
    return std::hash<uint64_t>()(k.first * 0x9e3779b97f4a7c15ULL ^ k.second);
  }
};

class Search {
 public:
  Search(std::vector<Op> ops, uint64_t max_states) : ops_(std::move(ops)), max_(max_states) {
    for (size_t i = 0; i < ops_.size(); ++i) {
      if (ops_[i].known) must_ |= uint64_t{1} << i;
    }
  }

  // True when the ops not in `done` can be linearized from state `s`.
  bool From(uint64_t done, uint32_t s) {
    if ((done & must_) == must_) return true;
    if (exhausted_) return false;
    if (!seen_.insert({done, s}).second) return false;
    if (seen_.size() > max_) {
      exhausted_ = true;
      return false;
    }
    // An operation may take effect next only if no pending operation completed before it was
    // invoked (equal times count as concurrent: milliseconds cannot order them).
    uint64_t horizon = kNever;
    for (size_t i = 0; i < ops_.size(); ++i) {
      if (!(done >> i & 1)) horizon = std::min(horizon, ops_[i].complete);
    }
    for (size_t i = 0; i < ops_.size(); ++i) {
      const Op& op = ops_[i];
      if ((done >> i & 1) || op.invoke > horizon) continue;
      const Step step = Model(s, op);
      if (op.known && (step.outcome != op.outcome || step.result_owner != op.result_owner)) {
        continue;
      }
      if (!op.known && step.state == s) continue;  // taking effect would change nothing
      if (From(done | uint64_t{1} << i, step.state)) return true;
    }
    return false;
  }

  bool exhausted() const { return exhausted_; }
  uint64_t states() const { return seen_.size(); }

 private:
  std::vector<Op> ops_;
  uint64_t max_;
  uint64_t must_ = 0;
  bool exhausted_ = false;
  std::unordered_set<std::pair<uint64_t, uint32_t>, KeyHash> seen_;
};

std::string Describe(std::vector<HandleOperation> history) {
  std::sort(history.begin(), history.end(), [](const auto& a, const auto& b) {
    return a.invoke_ms != b.invoke_ms ? a.invoke_ms < b.invoke_ms : a.id < b.id;
  });
  std::string out;
  for (const auto& op : history)
    out += "\n    " + DescribeOperation(op);
  return out;
}

}  // namespace

std::string DescribeOperation(const HandleOperation& op) {
  std::string s = "#" + std::to_string(op.id) + " region " + std::to_string(op.region) + " ";
  switch (op.request.kind) {
    case HandleOpKind::kClaim:
      s += "claim(" + op.request.owner + ")";
      break;
    case HandleOpKind::kRelease:
      s += "release(" + op.request.owner + ")";
      break;
    case HandleOpKind::kRead:
      s += "read";
      break;
  }
  s += " [" + std::to_string(op.invoke_ms) + ", " +
       (op.complete_ms ? std::to_string(*op.complete_ms) : std::string("-")) + "] -> ";
  if (!op.complete_ms) return s + "no answer";
  s += HandleOutcomeName(op.outcome);
  if (!op.result_owner.empty()) s += " " + op.result_owner;
  return s;
}

LinearizabilityResult CheckHandleHistory(const std::vector<HandleOperation>& history,
                                         uint64_t max_states) {
  LinearizabilityResult result;
  std::map<std::string, uint32_t> owners{{"", 0}};
  auto intern = [&owners](const std::string& o) {
    return owners.emplace(o, static_cast<uint32_t>(owners.size())).first->second;
  };
  std::vector<Op> ops;
  for (const HandleOperation& h : history) {
    if (!h.known() && h.request.kind == HandleOpKind::kRead) continue;  // no effect, no result
    const bool known = h.known();
    ops.push_back({h.request.kind, intern(h.request.owner), h.invoke_ms,
                   known ? *h.complete_ms : kNever, known, h.outcome, intern(h.result_owner)});
  }
  if (ops.size() > kMaxCheckedOperations) {
    result.verdict = LinearizabilityVerdict::kInconclusive;
    result.explanation = std::to_string(ops.size()) + " operations, more than the checker takes";
    return result;
  }
  Search search(std::move(ops), max_states);
  const bool ok = search.From(0, 0);
  result.states = search.states();
  if (ok) return result;
  result.verdict = search.exhausted() ? LinearizabilityVerdict::kInconclusive
                                      : LinearizabilityVerdict::kNotLinearizable;
  result.explanation = Describe(history);
  return result;
}

}  // namespace meridian
