// Residency on real processes (docs/residency.md): us, eu, ap, eu2 with "gdpr:" pinned to eu and
// eu2. Pinned writes through a router in eu are readable in eu2; with eu killed the router sends
// them to eu2; a region outside the set refuses them with 421; and afterwards the raw bytes of
// every file of us's and ap's data directories hold none of the pinned keys or values.
#include <gtest/gtest.h>

#include <string.h>
#include <strings.h>

#include <chrono>
#include <string>
#include <vector>

#include "lab/raw_scan.h"
#include "net/http_client.h"
#include "resp/testing/resp_test_client.h"
#include "tests/integration/cluster_harness.h"

namespace meridian::testing {
namespace {

using std::chrono::seconds;

constexpr size_t kUs = 0, kEu = 1, kAp = 2, kEu2 = 3;

// Occurrences of each needle in the raw bytes of every file under `dir` (and in its SSTs'
// decoded entries): lab/raw_scan.h, the scan the lab's `residency` experiment runs.
RawScanReport Scan(const std::string& dir, const std::vector<std::string>& needles) {
  auto scan = ScanForNeedles({dir}, needles);
  EXPECT_TRUE(scan.ok()) << scan.status().ToString();
  EXPECT_TRUE(scan.ok() && scan->unreadable.empty());
  return scan.ok() ? *scan : RawScanReport{};
}

class ResidencyTest : public ::testing::Test {
 protected:
  ResidencyTest() : cluster_({"us", "eu", "ap", "eu2"}) {
    cluster_.AppendConfig(
        "residency:\n  - prefix: \"gdpr:\"\n    regions: [eu, eu2]\n"
        "  - prefix: \"eu.\"\n    class: handle\n    regions: [eu, eu2]\n");
  }

  Result<HttpResponse> ViaRouter(const std::string& method, const std::string& target,
                                 const std::string& body = "") {
    HttpClientRequest request;
    request.method = method;
    request.target = target;
    request.body = body;
    request.headers = {{"Authorization", "Bearer " + cluster_.client_key()}};
    return HttpFetch("127.0.0.1:" + std::to_string(cluster_.router_port()), request, seconds(10));
  }

  static std::string ServedBy(const HttpResponse& response) {
    for (const auto& [name, value] : response.headers) {
      if (strcasecmp(name.c_str(), "X-Meridian-Region") == 0) return value;
    }
    return "";
  }

  bool ReadsBack(size_t region, int i) {
    auto got = cluster_.Call(region, "GET", "/register/gdpr:user" + std::to_string(i));
    return got.ok() && got->status == 200 &&
           got->body.find("secret-value-" + std::to_string(i)) != std::string::npos;
  }

  ClusterHarness cluster_;
};

TEST_F(ResidencyTest, PinnedKeysStayInTheirRegionsAlsoAfterFailover) {
  ASSERT_TRUE(cluster_.StartAll(seconds(60)).ok());
  ASSERT_TRUE(cluster_.StartWan().ok());
  ASSERT_TRUE(cluster_.StartRouter("eu", seconds(60)).ok()) << cluster_.router_log();

  auto write = [&](int i) {
    return ViaRouter("PUT", "/register/gdpr:user" + std::to_string(i),
                     R"({"value":"secret-value-)" + std::to_string(i) + R"("})");
  };
  for (int i = 0; i < 10; ++i) {
    auto wrote = write(i);
    ASSERT_TRUE(wrote.ok()) << wrote.status().ToString();
    ASSERT_EQ(wrote->status, 200) << wrote->body;
    EXPECT_EQ(ServedBy(*wrote), "eu");
  }
  for (int i = 0; i < 10; ++i) {
    EXPECT_TRUE(Eventually([&] { return ReadsBack(kEu2, i); }, seconds(20)))
        << i << ": " << cluster_.Call(kEu2, "GET", "/register/gdpr:user" + std::to_string(i))->body
        << cluster_.ReadLog(kEu2);
  }
  // A region outside the set, reached directly, refuses and names the set.
  auto refused = cluster_.Call(kUs, "PUT", "/register/gdpr:user0", R"({"value":"elsewhere"})");
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->status, 421) << refused->body;
  EXPECT_NE(refused->body.find("eu, eu2"), std::string::npos) << refused->body;
  // Unpinned keys replicate everywhere as before.
  auto plain = ViaRouter("PUT", "/register/plain", R"({"value":"everywhere"})");
  ASSERT_TRUE(plain.ok() && plain->status == 200);
  EXPECT_TRUE(Eventually(
      [&] {
        auto got = cluster_.Call(kAp, "GET", "/register/plain");
        return got.ok() && got->body.find("everywhere") != std::string::npos;
      },
      seconds(20)));

  // eu dies: the router sends pinned writes to eu2, never to us or ap.
  cluster_.KillRegion(kEu);
  for (int i = 10; i < 20; ++i) {
    Result<HttpResponse> wrote = Unavailable("not tried");
    EXPECT_TRUE(Eventually(
        [&] {
          wrote = write(i);
          return wrote.ok() && wrote->status == 200;
        },
        seconds(20)))
        << (wrote.ok() ? wrote->body : wrote.status().ToString());
    if (wrote.ok()) {
      EXPECT_EQ(ServedBy(*wrote), "eu2");
    }
  }
  for (int i = 0; i < 20; ++i)
    EXPECT_TRUE(ReadsBack(kEu2, i)) << i;

  for (size_t r : {kUs, kAp, kEu2})
    cluster_.StopRegion(r);
  for (size_t r : {kUs, kAp}) {
    const RawScanReport scan =
        Scan(cluster_.dir() + "/data/" + cluster_.regions()[r], {"gdpr:", "secret-value-"});
    EXPECT_GT(scan.files, 0u);
    EXPECT_EQ(scan.TotalHits(), 0u) << cluster_.regions()[r];
  }
  EXPECT_GT(Scan(cluster_.dir() + "/data/eu2", {"secret-value-19"}).TotalHits(), 0u);
}

// The same through the router's Redis-protocol port (docs/resp.md, "Through the router"), with
// the router in us, nearest to itself but outside the set: pinned keys go to eu or eu2 only,
// fail over to the other when the one serving dies, and with both dead the client is told no
// allowed region is reachable; unpinned keys still go to us. Pinned handles, through either port,
// go only to eu or eu2 as well. us and ap never store a pinned byte.
TEST_F(ResidencyTest, PinnedKeysThroughTheRespPortStayInTheirSetAlsoAfterFailover) {
  ASSERT_TRUE(cluster_.StartAll(seconds(60)).ok());
  ASSERT_TRUE(cluster_.StartWan().ok());
  ASSERT_TRUE(cluster_.StartRouter("us", seconds(60)).ok()) << cluster_.router_log();
  auto connected = RespTestClient::Connect(
      "127.0.0.1:" + std::to_string(cluster_.router_resp_port()), seconds(10));
  ASSERT_TRUE(connected.ok()) << connected.status().ToString();
  RespTestClient client = std::move(*connected);
  auto call = [&](const std::vector<std::string>& args) {
    Result<std::string> reply = client.Call(args);
    return reply.ok() ? *reply : "<" + reply.status().ToString() + ">";
  };
  ASSERT_EQ(call({"AUTH", cluster_.client_key()}), "+OK\r\n");
  auto served_by = [&] {
    const std::string reply = call({"MERIDIAN.REGION"});
    for (const char* name : {"us", "eu", "ap", "eu2"}) {
      const std::string bulk = "$" + std::to_string(strlen(name)) + "\r\n" + name + "\r\n";
      if (reply.ends_with(bulk)) return std::string(name);
    }
    return reply;
  };
  auto set = [&](int i) {
    return call({"SET", "gdpr:resp" + std::to_string(i), "secret-resp-" + std::to_string(i)});
  };

  ASSERT_EQ(set(0), "+OK\r\n");
  const std::string first = served_by();
  ASSERT_TRUE(first == "eu" || first == "eu2") << first;
  for (int i = 1; i < 5; ++i) {
    EXPECT_EQ(set(i), "+OK\r\n");
    EXPECT_EQ(served_by(), first);
  }
  EXPECT_EQ(call({"SET", "plain-resp", "everywhere"}), "+OK\r\n");
  EXPECT_EQ(served_by(), "us");
  // A pinned handle too, on either port: claimed by eu and eu2 alone (us would answer 421).
  EXPECT_EQ(call({"SET", "handle:eu.resp", "owner-resp", "NX"}), "+OK\r\n");
  const std::string claimed_by = served_by();
  EXPECT_TRUE(claimed_by == "eu" || claimed_by == "eu2") << claimed_by;
  auto http_claim = ViaRouter("PUT", "/handle/EU.http", R"({"owner":"owner-http"})");
  ASSERT_TRUE(http_claim.ok()) << http_claim.status().ToString();
  EXPECT_EQ(http_claim->status, 201) << http_claim->body;
  EXPECT_TRUE(ServedBy(*http_claim) == "eu" || ServedBy(*http_claim) == "eu2")
      << ServedBy(*http_claim);

  // The serving region dies: the other member of the set serves, never us or ap.
  const size_t first_region = first == "eu" ? kEu : kEu2;
  const std::string second = first == "eu" ? "eu2" : "eu";
  const size_t second_region = first == "eu" ? kEu2 : kEu;
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(Eventually(
        [&] {
          auto got = cluster_.Call(second_region, "GET", "/register/gdpr:resp" + std::to_string(i));
          return got.ok() &&
                 got->body.find("secret-resp-" + std::to_string(i)) != std::string::npos;
        },
        seconds(20)))
        << i;
  }
  cluster_.KillRegion(first_region);
  std::string reply;
  EXPECT_TRUE(Eventually(
      [&] {
        reply = set(5);
        return reply == "+OK\r\n";
      },
      seconds(20)))
      << reply;
  EXPECT_EQ(served_by(), second);
  EXPECT_EQ(call({"GET", "gdpr:resp5"}), "$13\r\nsecret-resp-5\r\n");

  // None of the set left: an error naming it, and still nothing elsewhere.
  cluster_.KillRegion(second_region);
  EXPECT_TRUE(Eventually(
      [&] {
        reply = set(6);
        return reply.find("no allowed region (eu, eu2, by residency) is reachable") !=
               std::string::npos;
      },
      seconds(20)))
      << reply;
  EXPECT_TRUE(reply.starts_with("-CLUSTERDOWN") || reply.starts_with("-TRYAGAIN")) << reply;
  EXPECT_EQ(call({"SET", "plain-resp", "still"}), "+OK\r\n");
  EXPECT_EQ(served_by(), "us");

  for (size_t r : {kUs, kAp})
    cluster_.StopRegion(r);
  for (size_t r : {kUs, kAp}) {
    const RawScanReport scan = Scan(cluster_.dir() + "/data/" + cluster_.regions()[r],
                                    {"gdpr:resp", "secret-resp-", "owner-resp", "owner-http"});
    EXPECT_GT(scan.files, 0u);
    EXPECT_EQ(scan.TotalHits(), 0u) << cluster_.regions()[r];
  }
}

}  // namespace
}  // namespace meridian::testing
