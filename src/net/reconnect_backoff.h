// Internal to ReplicationTransport: the pause before re-dialling one peer (contract 4 of
// replication_transport.h). Pure arithmetic and a seeded jitter, so it is unit-tested alone.
//
// Rules (issue 19, item 10: a healed link must resume within a few hundred milliseconds):
//  1. The pause doubles from min after each failed dial, +-20 % jitter, back to min once a
//     handshake succeeds.
//  2. It is capped at max_after_connected once the link has completed a handshake in this
//     process, and at max before that: a link that was healthy is most likely cut and about to
//     heal (a partition), while one that never came up is more likely misconfigured or down.
//  3. The pause counts from when the failed attempt began: an attempt that already waited out its
//     handshake timeout (a black-holed link) is followed at once by the next, so the link always
//     has an attempt pending and a heal is met by the attempt in flight, not by a sleeping timer.
#pragma once

#include <cstdint>
#include <random>

namespace meridian::net_internal {

class ReconnectBackoff {
 public:
  // REQUIRES: 0 < min_ms <= max_after_connected_ms <= max_ms.
  ReconnectBackoff(int min_ms, int max_ms, int max_after_connected_ms, uint32_t seed);

  // A handshake succeeded: rule 1's reset, and rule 2's lower cap from now on.
  void OnConnected();
  // The pause before the next dial, for an attempt that failed `attempt_ms` after it began (rule
  // 3); the pause after the next failure doubles.
  int NextDelayMs(int64_t attempt_ms);

  int cap_ms() const { return ever_connected_ ? max_after_connected_ms_ : max_ms_; }

 private:
  const int min_ms_;
  const int max_ms_;
  const int max_after_connected_ms_;
  int backoff_ms_;
  bool ever_connected_ = false;
  std::minstd_rand jitter_;  // seeded per link: dialers of one peer do not redial in lockstep
};

}  // namespace meridian::net_internal
