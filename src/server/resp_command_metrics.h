// RespCommandMetrics: the region's per-command RESP series with their children resolved once.
//
//   meridian_resp_commands_total{command,result}  result "ok" | "error" (the reply was an error)
//   meridian_resp_command_seconds{command}         from the command parsed to its reply ready
//
// `command` is a name of RespCommandNames() (server/resp_commands.h) or "other": a bounded set,
// never a client's word.
//
// Contract:
//  1. Observe() builds no label vector and takes no lock once a command's children exist: they
//     are looked up in the families (obs/metrics.h, whose children live as long as the registry)
//     on the command's first use and kept in an array indexed by RespCommandIndex().
//  2. A command never seen has no series (a scrape is not padded with every command's zeros).
//  3. Thread-safe: the cached pointers are atomics; two threads resolving one child at once get
//     the same child from the family.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <memory>

#include "obs/metrics.h"

namespace meridian {

class RespCommandMetrics {
 public:
  // The families outlive this (both are the region's RegionMetrics).
  RespCommandMetrics(CounterFamily& commands, HistogramFamily& seconds);

  // One command answered. `command`: RespCommandIndex() of its name; `error`: its reply is a
  // RESP error; `seconds`: from parsed to reply ready.
  void Observe(size_t command, bool error, double seconds);

 private:
  struct Children {
    std::atomic<Histogram*> seconds{nullptr};
    std::array<std::atomic<Counter*>, 2> results{};  // [0] ok, [1] error
  };

  CounterFamily& commands_;
  HistogramFamily& seconds_;
  const size_t size_;                     // RespCommandNames().size() + 1 ("other")
  std::unique_ptr<Children[]> children_;  // by command index
};

}  // namespace meridian
