#include "clock/hlc.h"

#include <algorithm>
#include <limits>

#include "base/assert.h"

namespace meridian {

void HybridClock::AdvanceTo(HlcTimestamp floor, uint64_t physical_ms) {
  const HlcTimestamp before = last_;
  const uint64_t physical = std::max({last_.physical_ms, floor.physical_ms, physical_ms});
  uint32_t logical = 0;
  if (physical == last_.physical_ms) logical = std::max(logical, last_.logical + 1);
  if (physical == floor.physical_ms) logical = std::max(logical, floor.logical + 1);
  if (physical == last_.physical_ms && last_.logical == std::numeric_limits<uint32_t>::max()) {
    // 4 billion events within one millisecond: borrow the next millisecond rather than wrap.
    last_ = {physical + 1, 0};
  } else {
    last_ = {physical, logical};
  }
  MERIDIAN_ASSERT(last_ > before);
}

HlcTimestamp HybridClock::Now(uint64_t physical_ms) {
  AdvanceTo(HlcTimestamp{}, physical_ms);
  return last_;
}

bool HybridClock::Observe(HlcTimestamp remote, uint64_t physical_ms) {
  bool accepted = true;
  if (remote.physical_ms > physical_ms) {
    const uint64_t lead = remote.physical_ms - physical_ms;
    max_lead_observed_ms_ = std::max(max_lead_observed_ms_, lead);
    if (lead > options_.max_offset_ms) {
      ++clamped_total_;
      accepted = false;
      remote = {physical_ms + options_.max_offset_ms, 0};
    }
  }
  if (remote > last_) AdvanceTo(remote, physical_ms);
  return accepted;
}

void HybridClock::Restore(HlcTimestamp high_water) {
  last_ = std::max(last_, high_water);
}

}  // namespace meridian
