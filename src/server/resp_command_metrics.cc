#include "server/resp_command_metrics.h"

#include <string>

#include "server/resp_commands.h"

namespace meridian {

namespace {

std::string Label(size_t command) {
  const auto names = RespCommandNames();
  return command < names.size() ? names[command] : "other";
}

// The cached child, resolved through `resolve` on first use (contract 3: a race resolves twice
// to the same child).
template <typename M, typename F>
M& Cached(std::atomic<M*>& slot, F resolve) {
  M* child = slot.load(std::memory_order_acquire);
  if (child == nullptr) {
    child = &resolve();
    slot.store(child, std::memory_order_release);
  }
  return *child;
}

}  // namespace

RespCommandMetrics::RespCommandMetrics(CounterFamily& commands, HistogramFamily& seconds)
    : commands_(commands),
      seconds_(seconds),
      size_(RespCommandNames().size() + 1),
      children_(std::make_unique<Children[]>(size_)) {}

void RespCommandMetrics::Observe(size_t command, bool error, double seconds) {
  if (command >= size_) command = size_ - 1;  // "other"
  Children& c = children_[command];
  Cached(c.seconds, [&]() -> Histogram& {
    return seconds_.WithLabels({Label(command)});
  }).Observe(seconds);
  Cached(c.results[error ? 1 : 0], [&]() -> Counter& {
    return commands_.WithLabels({Label(command), error ? "error" : "ok"});
  }).Increment();
}

}  // namespace meridian
