// End-to-end: RunGen against fake regions (HttpServer on 127.0.0.1, port 0) that answer the
// routes of src/api/http_api.h. Rates and durations are small; only outcomes are asserted.
#include "gen/runner.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "gen/report.h"
#include "net/http_server.h"

namespace meridian {
namespace {

// A region that answers every route with a plausible body, or `status` for all of them.
struct FakeRegion {
  std::string name;
  int status = 200;
  bool hold = false;   // never answer (the generator's timeout fires)
  int hold_first = 0;  // never answer the first this many requests
  std::atomic<int> requests{0};
  std::atomic<int> reads_with_token{0};
  std::atomic<uint64_t> writes{0};
  GenStop* stop_after_20 = nullptr;  // requested from the handler on the 20th request
  std::mutex mu;
  std::set<std::string> client_regions;  // X-Client-Region values seen
  std::vector<HttpResponder> held;
  std::unique_ptr<HttpServer> server;

  void Handle(HttpRequest request, HttpResponder respond) {
    const int number = requests.fetch_add(1) + 1;
    if (number == 20 && stop_after_20 != nullptr) stop_after_20->Request();
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!request.Header("x-client-region").empty()) {
        client_regions.insert(std::string(request.Header("x-client-region")));
      }
      if (hold || number <= hold_first) {
        held.push_back(std::move(respond));
        return;
      }
    }
    if (name == "router") {
      HttpResponse response =
          HttpResponse::Json(200, R"({"version_vector":{},"session_token":"t"})");
      response.headers.emplace_back("X-Meridian-Region", "eu");
      return respond(std::move(response));
    }
    if (status != 200) {
      return respond(HttpResponse::Json(status, R"({"error":"unavailable","message":"fake"})"));
    }
    if (request.method == "GET") {
      if (!request.Header("x-session-token").empty()) reads_with_token.fetch_add(1);
      return respond(
          HttpResponse::Json(200, R"({"key":"x","value":3,"found":true,"version_vector":{")" +
                                      name + R"(":1},"session_token":"tok"})"));
    }
    const uint64_t seq = writes.fetch_add(1) + 1;
    respond(HttpResponse::Json(200, R"({"version_vector":{")" + name + "\":" + std::to_string(seq) +
                                        R"(},"session_token":"t-)" + name + "-" +
                                        std::to_string(seq) + R"(","dot":{"region":")" + name +
                                        R"(","seq":)" + std::to_string(seq) + "}}"));
  }

  void Start() {
    HttpServerOptions options;
    options.threads = 1;
    options.stop_grace_ms = 100;
    server = std::make_unique<HttpServer>(
        "127.0.0.1:0",
        [this](HttpRequest r, HttpResponder w) { Handle(std::move(r), std::move(w)); }, options);
    ASSERT_TRUE(server->Start().ok());
  }
  ~FakeRegion() {
    if (server) server->Stop();
  }
};

class GenRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("meridian_gen_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  FakeRegion& AddRegion(const std::string& name) {
    regions_.push_back(std::make_unique<FakeRegion>());
    regions_.back()->name = name;
    return *regions_.back();
  }

  GenOptions Options(uint64_t ops, double rate = 2000) {
    GenOptions o;
    for (auto& region : regions_) {
      if (!region->server) region->Start();
      o.targets.push_back({region->name, region->server->address()});
    }
    o.workload.seed = 17;
    o.workload.clients = 8;
    o.workload.keyspace = 1000;
    o.workload.mix = Mix{{40, 30, 30, 0, 0}};
    o.workload.steps = {RateStep{rate, static_cast<uint64_t>(ops / rate * 1e9)}};
    o.history_path = (dir_ / "history.jsonl").string();
    o.timeout_ms = 5'000;
    return o;
  }

  std::vector<nlohmann::json> History() {
    std::ifstream in(dir_ / "history.jsonl");
    std::vector<nlohmann::json> lines;
    std::string line;
    while (std::getline(in, line)) {
      nlohmann::json parsed = nlohmann::json::parse(line, nullptr, false);
      EXPECT_FALSE(parsed.is_discarded()) << line;
      lines.push_back(std::move(parsed));
    }
    return lines;
  }

  static OpStats Total(const GenReport& report) {
    OpStats total;
    for (const auto& [key, stats] : report.ops)
      total.Merge(stats);
    return total;
  }

  std::filesystem::path dir_;
  std::vector<std::unique_ptr<FakeRegion>> regions_;
};

TEST_F(GenRunTest, EveryOpSentAnsweredAndRecorded) {
  FakeRegion& us = AddRegion("us");
  FakeRegion& eu = AddRegion("eu");
  GenOptions options = Options(400);
  options.threads = 2;
  Result<GenReport> report = RunGen(options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  const OpStats total = Total(*report);
  EXPECT_EQ(total.planned, 400u);
  EXPECT_EQ(total.sent, 400u);
  EXPECT_EQ(total.ok, 400u);
  EXPECT_EQ(total.dropped, 0u);
  EXPECT_EQ(total.failed(), 0u);
  EXPECT_EQ(us.requests.load() + eu.requests.load(), 400);
  EXPECT_GT(us.requests.load(), 0);
  EXPECT_GT(eu.requests.load(), 0);

  const std::vector<nlohmann::json> lines = History();
  ASSERT_EQ(lines.size(), 400u);
  std::set<uint64_t> indexes;
  for (const nlohmann::json& line : lines) {
    indexes.insert(line.at("index").get<uint64_t>());
    EXPECT_EQ(line.at("status"), 200);
    EXPECT_TRUE(line.at("sent").get<bool>());
    const std::string region = line.at("region");
    EXPECT_TRUE(region == "us" || region == "eu");
    EXPECT_LE(line.at("intended_ns").get<uint64_t>(), line.at("invoke_ns").get<uint64_t>());
    EXPECT_LE(line.at("invoke_ns").get<uint64_t>(), line.at("complete_ns").get<uint64_t>());
    EXPECT_TRUE(line.at("result").contains("session_token"));
    const std::string op = line.at("op");
    if (op == "incr") {
      EXPECT_GE(line.at("by").get<int>(), 1);
    }
    if (op == "put") {
      EXPECT_TRUE(line.contains("field") && line.contains("value"));
    }
    if (op == "add" || op == "remove") {
      EXPECT_TRUE(line.contains("element"));
    }
  }
  EXPECT_EQ(indexes.size(), 400u);  // each op exactly once
  EXPECT_EQ(*indexes.rbegin(), 399u);

  const std::string table = FormatReportTable(*report);
  EXPECT_NE(table.find("profile"), std::string::npos);
  const nlohmann::json summary = nlohmann::json::parse(FormatReportJson(*report, "meridian gen"));
  EXPECT_EQ(summary.at("totals").at("ok"), 400);
}

// The ops a run sent, by index, without the times and results that differ between runs.
std::map<uint64_t, std::string> OpsByIndex(const std::vector<nlohmann::json>& lines) {
  std::map<uint64_t, std::string> ops;
  for (nlohmann::json line : lines) {
    const uint64_t index = line.at("index");
    for (const char* varying : {"intended_ns", "invoke_ns", "complete_ns", "result", "status"})
      line.erase(varying);
    ops[index] = line.dump();
  }
  return ops;
}

TEST_F(GenRunTest, SameSeedSameOpsWhateverTheThreadCount) {
  AddRegion("us");
  AddRegion("eu");
  GenOptions options = Options(300);
  options.workload.hopping_fraction = 0.5;
  ASSERT_TRUE(RunGen(options).ok());
  const std::map<uint64_t, std::string> first = OpsByIndex(History());
  options.threads = 3;
  ASSERT_TRUE(RunGen(options).ok());
  const std::map<uint64_t, std::string> second = OpsByIndex(History());
  options.workload.seed = 18;
  ASSERT_TRUE(RunGen(options).ok());
  const std::map<uint64_t, std::string> other_seed = OpsByIndex(History());
  ASSERT_EQ(first.size(), 300u);
  EXPECT_EQ(first, second);
  EXPECT_NE(first, other_seed);
}

TEST_F(GenRunTest, FailuresAreCountedByStatus) {
  FakeRegion& us = AddRegion("us");
  us.status = 503;
  Result<GenReport> report = RunGen(Options(100));
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  const OpStats total = Total(*report);
  EXPECT_EQ(total.sent, 100u);
  EXPECT_EQ(total.ok, 0u);
  EXPECT_EQ(total.failures.at("503"), 100u);
  EXPECT_EQ(total.latency.Count(), 0u);
  const std::vector<nlohmann::json> lines = History();
  ASSERT_EQ(lines.size(), 100u);
  for (const nlohmann::json& line : lines) {
    EXPECT_EQ(line.at("status"), 503);
    EXPECT_EQ(line.at("result").at("error"), "unavailable");
  }
}

TEST_F(GenRunTest, SessionTokensAreCarried) {
  FakeRegion& us = AddRegion("us");
  AddRegion("eu");
  GenOptions options = Options(300);
  options.session = true;
  options.workload.hopping_fraction = 0.5;
  Result<GenReport> report = RunGen(options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(Total(*report).ok, 300u);
  EXPECT_GT(us.reads_with_token.load(), 0);
  int carried = 0;
  for (const nlohmann::json& line : History()) {
    if (line.contains("session_token_sent")) {
      ++carried;
      EXPECT_EQ(line.at("op"), "get");
    }
  }
  EXPECT_GT(carried, 0);
}

TEST_F(GenRunTest, OverloadDropsInsteadOfWaiting) {
  FakeRegion& us = AddRegion("us");
  us.hold = true;  // nothing is ever answered
  GenOptions options = Options(50, 1000);
  options.in_flight_max = 4;
  options.connections_per_target = 4;
  options.timeout_ms = 300;
  Result<GenReport> report = RunGen(options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  const OpStats total = Total(*report);
  EXPECT_EQ(total.planned, 50u);
  EXPECT_EQ(total.sent + total.dropped, 50u);
  EXPECT_GE(total.dropped, 1u);
  EXPECT_EQ(total.failures.at("timeout"), total.sent);
  size_t dropped_lines = 0;
  const std::vector<nlohmann::json> lines = History();
  EXPECT_EQ(lines.size(), 50u);
  for (const nlohmann::json& line : lines) {
    if (!line.at("sent").get<bool>()) {
      ++dropped_lines;
      EXPECT_EQ(line.at("error"), "dropped (overload)");
    }
  }
  EXPECT_EQ(dropped_lines, total.dropped);
}

TEST_F(GenRunTest, ConnectionRecoversAfterATimeout) {
  FakeRegion& us = AddRegion("us");
  us.hold_first = 1;
  GenOptions options = Options(30, 100);
  options.connections_per_target = 1;  // the one connection must reconnect to go on
  options.timeout_ms = 1'000;
  Result<GenReport> report = RunGen(options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  const OpStats total = Total(*report);
  EXPECT_EQ(total.sent, 30u);
  EXPECT_EQ(total.failures.at("timeout"), 1u);
  EXPECT_EQ(total.ok, 29u);
}

TEST_F(GenRunTest, ViaRouterNamesTheClientRegion) {
  AddRegion("us");
  AddRegion("eu");
  FakeRegion router;
  router.name = "router";
  router.Start();
  GenOptions options = Options(200);
  options.router = router.server->address();
  options.workload.hopping_fraction = 0.25;
  Result<GenReport> report = RunGen(options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(Total(*report).ok, 200u);
  EXPECT_EQ(router.requests.load(), 200);
  EXPECT_EQ(regions_[0]->requests.load() + regions_[1]->requests.load(), 0);
  std::lock_guard<std::mutex> lock(router.mu);
  EXPECT_EQ(router.client_regions, (std::set<std::string>{"eu", "us"}));
  for (const nlohmann::json& line : History())
    EXPECT_EQ(line.at("served_by"), "eu");
}

TEST_F(GenRunTest, ConflictPairsReachBothRegions) {
  FakeRegion& us = AddRegion("us");
  FakeRegion& eu = AddRegion("eu");
  GenOptions options = Options(0, 2000);
  options.workload.conflict_pairs = 50;
  Result<GenReport> report = RunGen(options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(Total(*report).ok, 100u);
  EXPECT_EQ(us.writes.load(), 50u);  // one side of every pair in each region
  EXPECT_EQ(eu.writes.load(), 50u);
}

TEST_F(GenRunTest, UnreachableTargetFailsEveryOp) {
  FakeRegion& gone = AddRegion("us");
  gone.Start();
  const std::string address = gone.server->address();
  gone.server->Stop();
  GenOptions options = Options(20);
  options.targets = {{"us", address}};
  Result<GenReport> report = RunGen(options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  const OpStats total = Total(*report);
  EXPECT_EQ(total.sent, 20u);
  EXPECT_EQ(total.ok, 0u);
  EXPECT_EQ(total.failed(), 20u);
}

TEST_F(GenRunTest, StopEndsTheScheduleEarly) {
  FakeRegion& us = AddRegion("us");
  GenStop stop;
  us.stop_after_20 = &stop;
  GenOptions options = Options(20'000, 500);  // 40 s unless stopped
  options.stop = &stop;
  Result<GenReport> report = RunGen(options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->stopped_early);
  const OpStats total = Total(*report);
  EXPECT_GE(total.planned, 20u);
  EXPECT_LT(total.planned, 20'000u);
  EXPECT_EQ(total.ok, total.sent);
  EXPECT_EQ(History().size(), total.planned);
  stop.Request();  // after the run: does nothing
}

TEST_F(GenRunTest, RampStopsAfterAStepThatFellBehind) {
  FakeRegion& us = AddRegion("us");
  us.hold = true;  // a saturated server: nothing comes back in time
  GenOptions options = Options(0);
  options.workload.steps.assign(10, RateStep{100, 500'000'000});  // 5 s unless stopped
  options.in_flight_max = 2;
  options.timeout_ms = 300;
  options.ramp_stop_drop_share = 0.1;
  Result<GenReport> report = RunGen(options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->stopped_early);
  EXPECT_EQ(report->ramp_stopped_after, 0);
  const OpStats total = Total(*report);
  EXPECT_LT(total.planned, 500u);
  EXPECT_GT(total.dropped, 0u);
  const std::string table = FormatReportTable(*report);
  EXPECT_NE(table.find("ramp stopped after step 1"), std::string::npos) << table;
}

TEST_F(GenRunTest, WarmupIsSentButNotReported) {
  FakeRegion& us = AddRegion("us");
  GenOptions options = Options(100, 1000);  // 100 measured ops
  options.warmup_ns = 50'000'000;           // 50 warm-up ops before them
  Result<GenReport> report = RunGen(options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(us.requests.load(), 150);
  EXPECT_EQ(History().size(), 150u);
  ASSERT_EQ(report->steps.size(), 1u);
  const OpStats total = Total(*report);
  EXPECT_EQ(total.planned, 100u);
  EXPECT_EQ(total.ok, 100u);
  for (const auto& [key, stats] : report->ops)
    EXPECT_EQ(std::get<0>(key), 0u);
}

TEST(GenOptionsTest, RefusesBadOptions) {
  GenOptions options;
  EXPECT_FALSE(ValidateGenOptions(options).ok());  // no targets
  options.targets = {{"us", "127.0.0.1:1"}, {"us", "127.0.0.1:2"}};
  EXPECT_FALSE(ValidateGenOptions(options).ok());  // duplicate name
  options.targets = {{"us", "127.0.0.1:1"}};
  options.threads = 0;
  EXPECT_FALSE(ValidateGenOptions(options).ok());
  options.threads = 1;
  EXPECT_TRUE(ValidateGenOptions(options).ok());
}

}  // namespace
}  // namespace meridian
