// wake_probe: how late this machine wakes a sleeping thread. A benchmark of the platform, not part
// of the product.
//
// It sleeps --interval-us at a time for --seconds and prints how far past the requested time each
// wake-up came (p50, p90, p99, p99.9, max, and the share later than 1 ms). Every request a server
// answers needs such wake-ups (the server's thread on the request, the client's on the answer),
// so where this tail is long, no server's end-to-end tail can be shorter. scripts/bench-region
// prints it beside its figures.
//
//   wake_probe --seconds 5 --interval-us 500
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  CLI::App app{"Measure how late sleeping threads wake up on this machine"};
  double seconds = 5;
  int interval_us = 500;
  app.add_option("--seconds", seconds, "how long to measure")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  app.add_option("--interval-us", interval_us, "each sleep, in microseconds")
      ->check(CLI::Range(1, 1'000'000))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  using Clock = std::chrono::steady_clock;
  const auto interval = std::chrono::microseconds(interval_us);
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  std::vector<int64_t> late_ns;
  for (auto before = Clock::now(); before < end; before = Clock::now()) {
    std::this_thread::sleep_for(interval);
    late_ns.push_back(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - before - interval)
            .count());
  }
  std::sort(late_ns.begin(), late_ns.end());
  const size_t n = late_ns.size();
  auto ms_at = [&](double q) {
    return static_cast<double>(late_ns[std::min(n - 1, static_cast<size_t>(q * n))]) / 1e6;
  };
  const auto over_1ms =
      late_ns.end() - std::upper_bound(late_ns.begin(), late_ns.end(), int64_t{1'000'000});
  std::printf(
      "wake-ups %zu of %d us: late p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, p99.9 %.3f ms, "
      "max %.3f ms; %.2f%% later than 1 ms\n",
      n, interval_us, ms_at(0.5), ms_at(0.9), ms_at(0.99), ms_at(0.999), ms_at(1.0),
      100.0 * static_cast<double>(over_1ms) / static_cast<double>(n));
  return 0;
}
