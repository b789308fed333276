// Linearizability of one handle's history against a compare-and-set register model, in the
// manner of Knossos / Wing & Gong with Lowe's memoization (WGL).
//
// A history is a set of operations, each with an invocation time and, if its client heard back,
// a completion time and a result. It is linearizable when the operations can be put in one order
// that (a) respects real time: an operation that completed before another was invoked comes
// first, and (b) replayed on the model (types.h ApplyRequest: claim / release / read) yields
// exactly the results the clients saw. Operations whose outcome is unknown (answered
// "unavailable", or never answered because their region crashed) may each be placed anywhere
// after their invocation, or left out: they may or may not have taken effect.
//
// The search is depth-first over "which operation takes effect next", memoizing
// (set of operations done, register state) pairs already explored, so each pair is expanded once.
// Its work is bounded by `max_states`; past it the verdict is kInconclusive (never a false alarm).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/ids.h"
#include "strong/types.h"

namespace meridian {

// One client operation on a handle, as the simulator recorded it.
struct HandleOperation {
  uint64_t id = 0;
  RegionId region = 0;
  HandleRequest request;  // name canonical
  uint64_t invoke_ms = 0;
  std::optional<uint64_t> complete_ms;  // nullopt: never answered
  HandleOutcome outcome = HandleOutcome::kUnavailable;
  std::string result_owner;  // the reply record's owner
  // Its result is known: answered, and not "unavailable" (which promises nothing).
  bool known() const { return complete_ms.has_value() && outcome != HandleOutcome::kUnavailable; }
};

enum class LinearizabilityVerdict : uint8_t { kLinearizable, kNotLinearizable, kInconclusive };

struct LinearizabilityResult {
  LinearizabilityVerdict verdict = LinearizabilityVerdict::kLinearizable;
  uint64_t states = 0;      // (done set, register state) pairs explored
  std::string explanation;  // for kNotLinearizable / kInconclusive: the history, readable
};

// Operations per history the checker accepts: the done set is a 64-bit mask.
inline constexpr size_t kMaxCheckedOperations = 64;

// REQUIRES: every operation is on the same handle.
LinearizabilityResult CheckHandleHistory(const std::vector<HandleOperation>& history,
                                         uint64_t max_states);

std::string DescribeOperation(const HandleOperation& op);

}  // namespace meridian
