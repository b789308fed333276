#include "net/reconnect_backoff.h"

#include <algorithm>

#include "base/assert.h"

namespace meridian::net_internal {

ReconnectBackoff::ReconnectBackoff(int min_ms, int max_ms, int max_after_connected_ms,
                                   uint32_t seed)
    : min_ms_(min_ms),
      max_ms_(max_ms),
      max_after_connected_ms_(max_after_connected_ms),
      backoff_ms_(min_ms),
      jitter_(seed) {
  MERIDIAN_ASSERT(0 < min_ms && min_ms <= max_after_connected_ms &&
                  max_after_connected_ms <= max_ms);
}

void ReconnectBackoff::OnConnected() {
  ever_connected_ = true;
  backoff_ms_ = min_ms_;
}

int ReconnectBackoff::NextDelayMs(int64_t attempt_ms) {
  const int base = std::min(backoff_ms_, cap_ms());
  std::uniform_int_distribution<int> spread(base * 4 / 5, base * 6 / 5);
  const int64_t pause = spread(jitter_) - std::max<int64_t>(attempt_ms, 0);
  backoff_ms_ = std::min(base * 2, cap_ms());
  return static_cast<int>(std::max<int64_t>(pause, 0));
}

}  // namespace meridian::net_internal
