// Class stock (a bounded counter) on three `meridian region` processes (loopback, direct
// replication): rights move to the region that takes, concurrent takes from every region never
// sell more than was added, a take no reachable region can cover is answered 409 and takes
// nothing, and bad input is 400/405 and changes nothing.
#include <gtest/gtest.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/cluster_harness.h"

namespace meridian::testing {
namespace {

using Json = nlohmann::json;
using std::chrono::seconds;

class StockApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Status started = cluster_.StartAll();
    ASSERT_TRUE(started.ok()) << started.ToString();
  }
  std::pair<int, Json> Send(size_t region, const std::string& method, const std::string& body) {
    auto r = cluster_.Call(region, method, "/stock/item", body);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return {0, Json()};
    return {r->status, Json::parse(r->body, nullptr, /*allow_exceptions=*/false)};
  }
  Json Read(size_t region) { return Send(region, "GET", "").second; }
  int Take(size_t region, int units) {
    return Send(region, "POST", Json{{"take", units}}.dump()).first;
  }
  bool AllShow(int64_t value) {
    for (size_t r = 0; r < cluster_.regions().size(); ++r) {
      if (Read(r)["value"] != value) return false;
    }
    return true;
  }
  ClusterHarness cluster_;
};

TEST_F(StockApiTest, RightsMoveToTheRegionThatTakes) {
  ASSERT_EQ(Send(0, "POST", R"({"add": 10})").first, 200);
  ASSERT_TRUE(Eventually([&] { return Read(1)["value"] == 10; }, seconds(20)));
  EXPECT_EQ(Read(1)["rights"]["us"], 10);
  EXPECT_EQ(Read(1)["rights"]["eu"], 0);
  // eu holds no rights: it asks us, which lends, and the take is answered once the lend is here.
  const auto [status, body] = Send(1, "POST", R"({"take": 4})");
  EXPECT_EQ(status, 200) << body.dump();
  ASSERT_TRUE(Eventually([&] { return AllShow(6); }, seconds(20)));
  const Json read = Read(2);
  EXPECT_EQ(read["rights"]["us"].get<int64_t>() + read["rights"]["eu"].get<int64_t>() +
                read["rights"]["ap"].get<int64_t>(),
            6);
  EXPECT_GE(read["rights"]["us"], 0);
  EXPECT_GE(read["rights"]["eu"], 0);
  // The borrowing shows in both regions' metrics.
  auto eu_metrics = cluster_.Call(1, "GET", "/metrics");
  auto us_metrics = cluster_.Call(0, "GET", "/metrics");
  ASSERT_TRUE(eu_metrics.ok() && us_metrics.ok());
  EXPECT_EQ(eu_metrics->body.find("meridian_stock_rights_requests_total 0"), std::string::npos);
  EXPECT_NE(eu_metrics->body.find("meridian_stock_rights_requests_total "), std::string::npos);
  EXPECT_NE(us_metrics->body.find("meridian_stock_units_lent_total 4"), std::string::npos)
      << us_metrics->body.substr(0, 200);
  EXPECT_NE(eu_metrics->body.find("meridian_node_waiting_requests{for=\"stock\"} 0"),
            std::string::npos);
}

TEST_F(StockApiTest, ConcurrentTakesFromEveryRegionNeverOversell) {
  ASSERT_EQ(Send(0, "POST", R"({"add": 12})").first, 200);
  ASSERT_TRUE(Eventually([&] { return AllShow(12); }, seconds(20)));
  std::atomic<int> sold{0}, refused{0}, other{0};
  std::vector<std::thread> buyers;
  for (size_t r = 0; r < cluster_.regions().size(); ++r) {
    buyers.emplace_back([&, r] {
      for (int i = 0; i < 8; ++i) {  // 24 units asked of 12
        const int status = Take(r, 1);
        (status == 200 ? sold : status == 409 ? refused : other)++;
      }
    });
  }
  for (std::thread& t : buyers)
    t.join();
  EXPECT_EQ(other.load(), 0);
  EXPECT_LE(sold.load(), 12);
  EXPECT_EQ(sold.load() + refused.load(), 24);
  ASSERT_TRUE(Eventually([&] { return AllShow(12 - sold.load()); }, seconds(20))) << Read(0).dump();
  // What was not sold is still there to sell, from any region (rights move on demand).
  for (int left = 12 - sold.load(); left > 0; --left)
    EXPECT_EQ(Take(static_cast<size_t>(left) % 3, 1), 200);
  ASSERT_TRUE(Eventually([&] { return AllShow(0); }, seconds(20)));
  EXPECT_EQ(Take(1, 1), 409);  // sold out: refused at once
}

TEST_F(StockApiTest, ATakeNoReachableRegionCoversIs409AndTakesNothing) {
  ASSERT_EQ(Send(0, "POST", R"({"add": 5})").first, 200);
  ASSERT_TRUE(Eventually([&] { return AllShow(5); }, seconds(20)));
  cluster_.KillRegion(0);  // us holds every right
  const auto [status, body] = Send(1, "POST", R"({"take": 1})");
  EXPECT_EQ(status, 409) << body.dump();
  EXPECT_NE(body.dump().find("nothing was taken"), std::string::npos) << body.dump();
  EXPECT_EQ(Read(1)["value"], 5);
  EXPECT_EQ(Read(2)["value"], 5);
  EXPECT_EQ(Take(2, 6), 409);  // more than the stock: refused at once
}

TEST_F(StockApiTest, BadInputIsRefusedAndChangesNothing) {
  ASSERT_EQ(Send(0, "POST", R"({"add": 3})").first, 200);
  for (const char* body : {R"({"take": 0})", R"({"take": -1})", R"({"add": 1.5})", R"({})",
                           R"({"add": 1, "take": 1})", "not json"}) {
    EXPECT_EQ(Send(0, "POST", body).first, 400) << body;
  }
  EXPECT_EQ(Send(0, "DELETE", "").first, 405);
  const Json read = Read(0);
  EXPECT_EQ(read["value"], 3);
  EXPECT_EQ(read["rights"]["us"], 3);
}

}  // namespace
}  // namespace meridian::testing
