#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "lab/residency_load.h"
#include "lab/residency_verify.h"

namespace meridian {
namespace {

ResidencyPlan Plan() {
  ResidencyPlan plan;
  plan.prefix = "gdpr:";
  plan.seed = "7";
  plan.clients = {"us", "eu", "ap", "eu2"};
  plan.pinned_classes = {std::begin(kResidencyClasses), std::end(kResidencyClasses)};
  return plan;
}

std::vector<ResidencyWrite> SomeWrites(const ResidencyPlan& plan) {
  std::vector<ResidencyWrite> writes;
  for (const std::string& client : plan.clients) {
    for (ResidencyClass kind : kResidencyClasses) {
      for (bool pinned : {true, false}) {
        for (size_t i = 0; i < 120; ++i)
          writes.push_back(MakeResidencyWrite(plan, kind, pinned, client, i));
      }
    }
  }
  return writes;
}

TEST(ResidencyLoadTest, PinnedKeysCarryThePrefixAndUnpinnedOnesDoNot) {
  const ResidencyPlan plan = Plan();
  for (const ResidencyWrite& w : SomeWrites(plan)) {
    EXPECT_EQ(w.key.starts_with("gdpr:"), w.pinned) << w.key;
    EXPECT_NE(w.key.find("-7-"), std::string::npos) << w.key;  // the seed
    EXPECT_EQ(w.value.empty(), w.kind == ResidencyClass::kCounter) << w.key;
    if (!w.pinned) {
      EXPECT_EQ(w.value.find("pinned"), std::string::npos);
    }
  }
}

TEST(ResidencyLoadTest, TheSameSeedMakesTheSameWrites) {
  const ResidencyWrite a = MakeResidencyWrite(Plan(), ResidencyClass::kProfile, true, "eu", 51);
  const ResidencyWrite b = MakeResidencyWrite(Plan(), ResidencyClass::kProfile, true, "eu", 51);
  EXPECT_EQ(a.key, b.key);
  EXPECT_EQ(a.field, b.field);
  EXPECT_EQ(a.value, b.value);
  EXPECT_EQ(a.key, "gdpr:res-7-prof-eu-0001");  // 50 fields per profile key
}

// A raw scan counts each needle on its own only if none is a prefix of another.
TEST(ResidencyLoadTest, NoPinnedNeedleIsAPrefixOfAnother) {
  std::vector<ResidencyWrite> writes = SomeWrites(Plan());
  for (ResidencyWrite& w : writes)
    w.acked = true;
  const std::vector<std::string> needles = PinnedNeedles(writes);
  ASSERT_GT(needles.size(), 1000u);
  for (size_t i = 0; i + 1 < needles.size(); ++i) {  // sorted: a prefix sorts just before
    EXPECT_FALSE(needles[i + 1].starts_with(needles[i])) << needles[i] << " " << needles[i + 1];
  }
  for (const std::string& needle : needles)
    EXPECT_EQ(needle.find("open-"), std::string::npos) << needle;
}

TEST(ResidencyLoadTest, AckedNeedlesLeaveOutUnacknowledgedWrites) {
  std::vector<ResidencyWrite> writes = {
      MakeResidencyWrite(Plan(), ResidencyClass::kRegister, true, "us", 0),
      MakeResidencyWrite(Plan(), ResidencyClass::kRegister, true, "us", 1)};
  writes[0].acked = true;
  EXPECT_EQ(AckedPinnedNeedles(writes),
            (std::vector<std::string>{"gdpr:res-7-reg-us-000000", "pinned-7-reg-us-000000"}));
  EXPECT_EQ(PinnedNeedles(writes).size(), 4u);
}

TEST(ResidencyVerifyTest, ScanRootsAreTheRegionsOwnFilesOnly) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("residency_roots_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "logs");
  for (const char* log : {"eu.log", "eu-restore.log", "eu2.log", "router.log"})
    std::ofstream(dir / "logs" / log) << "x";
  const std::vector<std::string> roots = RegionScanRoots(dir.string(), "eu");
  EXPECT_EQ(roots,
            (std::vector<std::string>{(dir / "eu").string(), (dir / "backups" / "eu").string(),
                                      (dir / "logs" / "eu-restore.log").string(),
                                      (dir / "logs" / "eu.log").string()}));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace meridian
