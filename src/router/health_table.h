// HealthTable: what the router believes about every client path (location -> region): healthy or
// not, the status the region last reported, the smoothed RTT, the last error. It decides the
// order in which a request tries regions. Pure: no clock, no I/O, no threads; the shell passes
// times in as microseconds of a monotonic clock.
//
// Invariants:
//  1. A path becomes healthy only through a probe that answered status "ok" and was started after
//     the path's last failure: a probe already in flight when a forward failed cannot undo the
//     failure.
//  2. A failed or timed-out probe, a failed forward, or any status but "ok" marks the path down at
//     once (one bad observation is enough: rerouting early is cheap, sending traffic into a dead
//     region is not).
//  3. rtt_ms is the EWMA of the round trips of answered probes; the first sample sets it.
//  4. Rank lists only healthy paths, nearest first, ties broken by RegionId, so equal tables rank
//     equally.
//  5. A path is answering while the latest observation of it is a probe answer (whatever status)
//     started after its last failure. ChooseCatchingUp offers only answering paths whose region
//     said "catching_up": a last resort, used when no healthy region is left to try.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/ids.h"

namespace meridian::router {

inline constexpr std::string_view kStatusOk = "ok";
inline constexpr std::string_view kStatusCatchingUp = "catching_up";

struct PathHealth {
  bool healthy = false;
  bool probed = false;           // a probe has completed, answered or failed
  bool answering = false;        // invariant 5
  std::string status;            // the region's last reported status; "" before any answer
  std::optional<double> rtt_ms;  // smoothed; nullopt before the first answer
  std::string last_error;        // the most recent failure or non-"ok" status; "" if none yet
  std::optional<int64_t> last_good_probe_us;  // completion of the last "ok" probe
  std::optional<int64_t> last_failure_us;     // the last failed probe or forward
  uint64_t probes_failed = 0;
  uint64_t forwards_failed = 0;
};

enum class HealthChange { kNone, kUp, kDown };

struct HealthEvent {
  HealthChange change = HealthChange::kNone;
  // kDown only: true when caused by a failure (probe or forward), false for a non-"ok" status.
  // Requests in flight on a failed path should be aborted and retried elsewhere.
  bool failure = false;
  // kDown by failure of a path that had a good probe: microseconds from that probe to now.
  std::optional<int64_t> detection_us;
};

class HealthTable {
 public:
  // REQUIRES: 1 <= region_count <= kMaxRegions, 0 < rtt_ewma_alpha <= 1.
  HealthTable(size_t region_count, double rtt_ewma_alpha);

  // A probe started at `started_us` got a /healthz answer naming `status` at `now_us`.
  // REQUIRES: valid ids, started_us <= now_us.
  HealthEvent OnProbeAnswered(RegionId location, RegionId region, int64_t started_us,
                              int64_t now_us, std::string_view status);
  // A probe failed (no connection, timeout, bad answer).
  HealthEvent OnProbeFailed(RegionId location, RegionId region, int64_t now_us, std::string error);
  // A forwarded request failed in transport (connect, reset, timeout).
  HealthEvent OnForwardFailed(RegionId location, RegionId region, int64_t now_us,
                              std::string error);

  // The healthy regions for a client in `location`, nearest first (invariant 4).
  std::vector<RegionId> Rank(RegionId location) const;
  // The nearest healthy region not in `tried`, or nullopt: each region is tried at most once.
  std::optional<RegionId> ChooseNext(RegionId location, const std::vector<RegionId>& tried) const;
  // The nearest answering, catching-up region not in `tried` (invariant 5), or nullopt. Its
  // answers may miss writes made elsewhere; the caller must say so to the client.
  std::optional<RegionId> ChooseCatchingUp(RegionId location,
                                           const std::vector<RegionId>& tried) const;

  // True once every path has completed a probe.
  bool AllProbed() const;
  size_t region_count() const { return region_count_; }
  // REQUIRES: valid ids.
  const PathHealth& path(RegionId location, RegionId region) const;

 private:
  PathHealth& MutablePath(RegionId location, RegionId region);
  HealthEvent MarkFailed(PathHealth& path, int64_t now_us, std::string error);

  const size_t region_count_;
  const double rtt_ewma_alpha_;
  std::vector<PathHealth> paths_;  // [location * region_count_ + region]
};

}  // namespace meridian::router
