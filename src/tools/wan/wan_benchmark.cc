// wan_benchmark: the round trip of a link emulated by `meridian wan`, next to a direct round trip
// to the same echo server, so that what the emulator adds beyond its configured delay is a figure
// (README, "Measured") and not a test's assertion (timings belong in benchmarks, DESIGN.md
// section 7; wan_test asserts only that a link never delivers sooner than its RTT).
//
//   RoundTrip/0    a 32-byte ping straight to an echo server on 127.0.0.1: the loopback's cost.
//   RoundTrip/80   the same ping through one proxy with the matrix toxics for an 80 ms RTT and no
//                  jitter (MatrixToxics(80, 0)): the link's delay plus the emulator's overhead.
// Times are per ping, in milliseconds; one connection per run, opened before the timing starts.
// Machine load can only add to a round trip, so `min` over repetitions is the figure least
// disturbed by a busy machine.
//
// Run:  wan_benchmark --benchmark_repetitions=5 [Google Benchmark flags]
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "net/testing/test_socket.h"
#include "tools/wan/testing/echo_server.h"
#include "tools/wan/wan_emulator.h"

namespace meridian::wan {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

void BM_RoundTrip(benchmark::State& state) {
  const int64_t rtt_ms = state.range(0);
  EchoServer echo;
  std::unique_ptr<WanEmulator> emulator;
  uint16_t port = echo.port();
  if (rtt_ms > 0) {
    ProxySpec spec{"us->eu", "127.0.0.1:0", "127.0.0.1:" + std::to_string(echo.port()),
                   MatrixToxics(rtt_ms, /*jitter_ms=*/0)};
    emulator = std::make_unique<WanEmulator>(std::vector<ProxySpec>{spec}, WanOptions{});
    if (Status started = emulator->Start(); !started.ok()) {
      state.SkipWithError(started.ToString().c_str());
      return;
    }
    const std::string listen = emulator->GetProxy("us->eu")->listen;
    port = static_cast<uint16_t>(std::stoi(listen.substr(listen.rfind(':') + 1)));
  }
  testing::TestSocket socket(port);
  if (!socket.valid()) {
    state.SkipWithError("cannot connect");
    return;
  }
  const std::string ping(32, 'p');
  for (auto _ : state) {
    const Clock::time_point start = Clock::now();
    if (!socket.Send(ping) || socket.Read(ping.size(), 5s) != ping) {
      state.SkipWithError("no echo within 5 s");
      break;
    }
    state.SetIterationTime(std::chrono::duration<double>(Clock::now() - start).count());
  }
}
BENCHMARK(BM_RoundTrip)
    ->Arg(0)
    ->Arg(80)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->ComputeStatistics("min", [](const std::vector<double>& v) {
      return *std::min_element(v.begin(), v.end());
    });

}  // namespace
}  // namespace meridian::wan

BENCHMARK_MAIN();
