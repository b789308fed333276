// End-to-end over RESP: RunGen with GenProtocol::kResp against (1) the router tests' in-process
// fake resp region (counters only), where the counts are checked against the plan, and (2) a real
// redis-server the test starts on a free loopback port, with every class in the mix, where every
// op must be answered without an error reply (skipped when redis-server is not installed).
// Outcomes only, never timings.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include "cluster/child_process.h"
#include "gen/runner.h"
#include "router/fake_resp_region.h"

namespace meridian {
namespace {

using tcp = boost::asio::ip::tcp;

GenOptions RespOptions(const std::string& address, const Mix& mix, uint64_t ops) {
  GenOptions o;
  o.protocol = GenProtocol::kResp;
  o.targets.push_back({"us", address});
  o.workload.seed = 23;
  o.workload.clients = 8;
  o.workload.keyspace = 50;
  o.workload.mix = mix;
  const double rate = 2000;
  o.workload.steps = {RateStep{rate, static_cast<uint64_t>(ops / rate * 1e9)}};
  o.connections_per_target = 4;
  o.timeout_ms = 5'000;
  return o;
}

OpStats Total(const GenReport& report) {
  OpStats total;
  for (const auto& [key, stats] : report.ops)
    total.Merge(stats);
  return total;
}

std::string Failures(const OpStats& stats) {
  std::string out;
  for (const auto& [what, count] : stats.failures)
    out += what + " x" + std::to_string(count) + "; ";
  return out;
}

TEST(GenRespTest, EveryIncrementReachesTheServerOnce) {
  router::testing::FakeRespRegion region("us");
  region.Start();
  // Writes only, so the counters add up to exactly the plan's increments.
  GenOptions options = RespOptions(region.address(), Mix{{0, 100, 0, 0, 0}}, 300);
  options.workload.read_fraction = 0;
  Result<GenReport> report = RunGen(options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  const OpStats total = Total(*report);
  EXPECT_EQ(total.planned, 300u);
  EXPECT_EQ(total.ok, 300u) << Failures(total);
  EXPECT_EQ(total.dropped, 0u);

  std::map<std::string, int64_t> planned;
  Planner planner(PlannedWorkload(options));
  while (std::optional<PlannedOp> op = planner.Next())
    planned["counter:" + op->key] += op->by;
  ASSERT_FALSE(planned.empty());
  for (const auto& [key, sum] : planned)
    EXPECT_EQ(region.counter(key), sum) << key;
  region.Stop();
}

TEST(GenRespTest, AnErrorReplyCountsAsAFailureNamedByItsCode) {
  router::testing::FakeRespRegion region("us");
  region.Start();
  // The fake knows no HSET: every op is answered "-ERR unknown command".
  GenOptions options = RespOptions(region.address(), Mix{{100, 0, 0, 0, 0}}, 40);
  options.workload.read_fraction = 0;
  Result<GenReport> report = RunGen(options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  const OpStats total = Total(*report);
  EXPECT_EQ(total.ok, 0u);
  EXPECT_EQ(total.failures.at("ERR"), 40u) << Failures(total);
  region.Stop();
}

TEST(GenRespTest, SessionTokensAreRefusedOverResp) {
  GenOptions options = RespOptions("127.0.0.1:1", Mix{{0, 100, 0, 0, 0}}, 10);
  options.session = true;
  EXPECT_FALSE(ValidateGenOptions(options).ok());
}

std::string FindOnPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const std::filesystem::path candidate = std::filesystem::path(dir) / program;
    if (!dir.empty() && access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return "";
}

uint16_t FreeLoopbackPort() {
  boost::asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(boost::asio::ip::address_v4::loopback(), 0));
  return acceptor.local_endpoint().port();
}

bool Connects(uint16_t port) {
  boost::asio::io_context io;
  tcp::socket socket(io);
  boost::system::error_code ec;
  socket.connect(tcp::endpoint(boost::asio::ip::address_v4::loopback(), port), ec);
  return !ec;
}

// redis-server on a free loopback port, without persistence, until the test ends.
struct RedisServer {
  ChildProcess process;
  uint16_t port = 0;
  std::filesystem::path dir;

  // The port was free a moment ago; another process may take it first, so a start whose server
  // exits before it answers is tried again on another port.
  bool Start(const std::string& binary) {
    dir =
        std::filesystem::temp_directory_path() / ("meridian-gen-resp-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    for (int attempt = 0; attempt < 3; ++attempt) {
      port = FreeLoopbackPort();
      const Status started =
          process.Start({binary, "--port", std::to_string(port), "--bind", "127.0.0.1", "--save",
                         "", "--appendonly", "no", "--dir", dir.string(), "--daemonize", "no"},
                        (dir / "redis.log").string());
      if (!started.ok()) return false;
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (std::chrono::steady_clock::now() < deadline && !process.Poll()) {
        if (Connects(port)) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling, bounded
      }
      process.Kill();
    }
    return false;
  }

  ~RedisServer() {
    if (process.running()) process.Stop(SIGTERM, std::chrono::seconds(5));
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
};

TEST(GenRespTest, EveryClassIsAnsweredByRedisServer) {
  const std::string binary = FindOnPath("redis-server");
  if (binary.empty())
    GTEST_SKIP() << "redis-server is not installed (apt-get install redis-server)";
  RedisServer redis;
  ASSERT_TRUE(redis.Start(binary)) << "redis-server did not start; see " << redis.dir;
  GenOptions options =
      RespOptions("127.0.0.1:" + std::to_string(redis.port), Mix{{20, 20, 20, 20, 20}}, 500);
  options.threads = 2;
  Result<GenReport> report = RunGen(options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  const OpStats total = Total(*report);
  EXPECT_EQ(total.planned, 500u);
  EXPECT_EQ(total.ok, 500u) << Failures(total);
  // Every class and kind appeared and was answered.
  for (const auto& [key, stats] : report->ops) {
    EXPECT_EQ(stats.ok, stats.planned) << OpClassName(std::get<1>(key));
  }
  EXPECT_GE(report->ops.size(), 10u);
}

}  // namespace
}  // namespace meridian
