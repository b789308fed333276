// Hybrid logical clock (Kulkarni et al., 2014) and the write stamp that orders LWW writes.
//
// The clock never reads a wall clock: the caller passes the physical time (ms) from an injected
// source, so the simulator and the server drive the same code.
//
// Invariants:
//  1. Timestamps returned by Now() strictly increase, whatever the physical input does (a clock
//     stepping backwards only makes the logical counter grow).
//  2. After Observe(remote), the next Now() is greater than remote, unless remote was more than
//     max_offset_ms ahead of our physical time: then it is clamped to physical + max_offset_ms and
//     counted, so one skewed region cannot drag every clock into its future without bound.
//  3. Restore(high_water) after a restart keeps invariant 1 across the crash.
#pragma once

#include <compare>
#include <cstdint>
#include <string>

#include "base/ids.h"

namespace meridian {

struct HlcTimestamp {
  uint64_t physical_ms = 0;
  uint32_t logical = 0;

  auto operator<=>(const HlcTimestamp&) const = default;
  std::string ToString() const {
    return std::to_string(physical_ms) + "." + std::to_string(logical);
  }
};

// The total order of LWW writes across regions: HLC time first, origin region as the tiebreak.
// Two writes to one key never share a stamp: a region stamps each write to a key above every
// stamp that key has held (the replica raises the HLC reading when a clamped skew left it behind).
struct WriteStamp {
  HlcTimestamp time;
  RegionId region = 0;

  auto operator<=>(const WriteStamp&) const = default;
  std::string ToString() const { return time.ToString() + "@" + std::to_string(region); }
};

struct HlcOptions {
  // How far ahead of our physical time a peer's timestamp may be before we stop following it.
  // 500 ms is well above NTP-disciplined skew (a few ms) yet far below an LWW window anyone
  // would accept losing writes to; the lab's skew experiments push beyond it on purpose.
  uint64_t max_offset_ms = 500;
};

class HybridClock {
 public:
  explicit HybridClock(HlcOptions options = {}) : options_(options) {}

  // Stamps a local event at physical time `physical_ms`.
  HlcTimestamp Now(uint64_t physical_ms);

  // Merges a timestamp received from a peer. Returns false when it was clamped (too far ahead).
  bool Observe(HlcTimestamp remote, uint64_t physical_ms);

  // Raises the clock to at least `high_water` (e.g. the last timestamp persisted before a crash).
  void Restore(HlcTimestamp high_water);

  HlcTimestamp last() const { return last_; }
  uint64_t clamped_total() const { return clamped_total_; }
  // Largest amount (ms) by which an observed remote physical time led our physical time.
  uint64_t max_lead_observed_ms() const { return max_lead_observed_ms_; }

 private:
  void AdvanceTo(HlcTimestamp floor, uint64_t physical_ms);

  HlcOptions options_;
  HlcTimestamp last_;
  uint64_t clamped_total_ = 0;
  uint64_t max_lead_observed_ms_ = 0;
};

}  // namespace meridian
