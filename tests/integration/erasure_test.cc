// Erasure on real processes (docs/residency.md): a subject with data in every class, in four
// regions, is erased while one region is down. Reads then answer 410 everywhere, the region
// applies the erasure when it returns, and afterwards no file of any region holds the subject's
// values, its data keys' vault records, or (never at any time) the data keys' bytes.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "lab/raw_scan.h"
#include "store/rocksdb_storage.h"
#include "tests/integration/cluster_harness.h"

namespace meridian::testing {
namespace {

using std::chrono::seconds;

constexpr size_t kUs = 0, kEu = 1, kAp = 2;

// Occurrences of `needles` in every file under `dir`, SST entries decoded too (lab/raw_scan.h).
uint64_t Hits(const std::string& dir, const std::vector<std::string>& needles) {
  auto scan = ScanForNeedles({dir}, needles);
  EXPECT_TRUE(scan.ok()) << scan.status().ToString();
  if (!scan.ok()) return 0;
  EXPECT_GT(scan->files, 0u) << dir;
  EXPECT_TRUE(scan->unreadable.empty()) << scan->unreadable.front();
  return scan->TotalHits();
}

// The raw (wrapped) vault records of `subject` in a stopped region's vault database.
std::vector<std::string> WrappedKeys(const std::string& data_dir, const std::string& subject) {
  RocksDbOptions options;
  options.create_if_missing = false;
  auto db = RocksDbStorage::Open(data_dir + "/vault", options);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  std::vector<std::string> out;
  if (!db.ok()) return out;
  std::string prefix = "v" + subject;
  prefix.push_back('\0');
  EXPECT_TRUE((*db)
                  ->Scan(prefix,
                         [&](std::string_view key, std::string_view value) {
                           // Data keys are <prefix><8-byte id>; the erased marker is <prefix>.
                           if (key.size() == prefix.size() + 8) out.emplace_back(value);
                           return Status::Ok();
                         })
                  .ok());
  return out;
}

TEST(ErasureTest, AnErasedSubjectIsGoneFromEveryRegionAndEveryFile) {
  ClusterHarness cluster({"us", "eu", "ap"});
  cluster.AppendConfig("subjects:\n  patterns: [\"user:{subject}:\"]\n  master_key_dir: keys\n");
  {
    const Status started = cluster.StartAll(seconds(60));
    ASSERT_TRUE(started.ok()) << started.ToString();
  }
  auto ok = [](const Result<HttpResponse>& r) { return r.ok() && r->status == 200; };
  ASSERT_TRUE(ok(cluster.Call(kEu, "PUT", "/profile/user:alice:profile",
                              R"({"email":"alice-secret-mail@example.com"})")));
  ASSERT_TRUE(
      ok(cluster.Call(kEu, "POST", "/tags/user:alice:tags", R"({"add":["alice-secret-tag"]})")));
  ASSERT_TRUE(ok(
      cluster.Call(kUs, "PUT", "/register/user:alice:note", R"({"value":"alice-secret-note"})")));
  ASSERT_TRUE(ok(cluster.Call(kUs, "POST", "/counter/user:alice:visits/incr?by=7")));
  ASSERT_TRUE(ok(cluster.Call(kUs, "PUT", "/profile/user:bob:profile",
                              R"({"email":"bob-mail@example.com"})")));
  for (size_t r : {kUs, kEu, kAp}) {
    EXPECT_TRUE(Eventually(
        [&] {
          auto got = cluster.Call(r, "GET", "/register/user:alice:note");
          return ok(got) && got->body.find("alice-secret-note") != std::string::npos;
        },
        seconds(20)))
        << cluster.ReadLog(r);
  }
  // Values are sealed at rest: no data file holds them in the clear even before the erasure.
  cluster.StopRegion(kAp);
  const std::string ap_dir = cluster.dir() + "/data/ap";
  EXPECT_EQ(Hits(ap_dir, {"alice-secret"}), 0u);
  const std::vector<std::string> wrapped = WrappedKeys(ap_dir, "alice");
  ASSERT_EQ(wrapped.size(), 1u) << "one data key for alice, held by ap";

  // ap is down while us erases alice.
  auto erased = cluster.Call(kUs, "DELETE", "/subjects/alice");
  ASSERT_TRUE(ok(erased)) << (erased.ok() ? erased->body : erased.status().ToString());
  for (size_t r : {kUs, kEu}) {
    EXPECT_TRUE(Eventually(
        [&] {
          auto got = cluster.Call(r, "GET", "/profile/user:alice:profile");
          return got.ok() && got->status == 410;
        },
        seconds(20)))
        << cluster.ReadLog(r);
  }
  auto write = cluster.Call(kEu, "PUT", "/register/user:alice:note", R"({"value":"again"})");
  ASSERT_TRUE(write.ok());
  EXPECT_EQ(write->status, 410) << write->body;
  auto bob = cluster.Call(kEu, "GET", "/profile/user:bob:profile");
  EXPECT_TRUE(ok(bob) && bob->body.find("bob-mail@example.com") != std::string::npos);

  // ap returns and learns of the erasure from its peers.
  ASSERT_TRUE(cluster.StartRegion(kAp).ok());
  EXPECT_TRUE(Eventually(
      [&] {
        auto got = cluster.Call(kAp, "GET", "/tags/user:alice:tags");
        return got.ok() && got->status == 410;
      },
      seconds(30)))
      << cluster.ReadLog(kAp);
  EXPECT_TRUE(Eventually(
      [&] {
        auto got = cluster.Call(kAp, "GET", "/counter/user:alice:visits");
        return got.ok() && got->status == 410;
      },
      seconds(10)));

  for (size_t r : {kUs, kEu, kAp})
    cluster.StopRegion(r);
  for (size_t r : {kUs, kEu, kAp}) {
    const std::string dir = cluster.dir() + "/data/" + cluster.regions()[r];
    EXPECT_EQ(Hits(dir, {"alice-secret"}), 0u) << dir;
    EXPECT_TRUE(WrappedKeys(dir, "alice").empty()) << dir;
    EXPECT_EQ(Hits(dir, wrapped), 0u) << "ap's wrapped key record in " << dir;
  }
}

}  // namespace
}  // namespace meridian::testing
