#include "router/health_table.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <set>

namespace meridian::router {
namespace {

constexpr RegionId kUs = 0;
constexpr RegionId kEu = 1;
constexpr RegionId kAp = 2;

// Answers an "ok" probe from `location` to `region` that took `rtt_us`, ending at `now_us`.
HealthEvent ProbeOk(HealthTable& table, RegionId location, RegionId region, int64_t now_us,
                    int64_t rtt_us) {
  return table.OnProbeAnswered(location, region, now_us - rtt_us, now_us, "ok");
}

TEST(HealthTableTest, NothingIsHealthyBeforeAProbeAnswers) {
  HealthTable table(3, 0.3);
  EXPECT_TRUE(table.Rank(kUs).empty());
  EXPECT_FALSE(table.ChooseNext(kUs, {}).has_value());
  EXPECT_FALSE(table.AllProbed());
}

TEST(HealthTableTest, RanksHealthyRegionsNearestFirst) {
  HealthTable table(3, 0.3);
  ProbeOk(table, kUs, kAp, 1'000'000, 150'000);
  ProbeOk(table, kUs, kUs, 1'000'000, 300);
  ProbeOk(table, kUs, kEu, 1'000'000, 80'000);
  EXPECT_EQ(table.Rank(kUs), (std::vector<RegionId>{kUs, kEu, kAp}));
  // Another location has its own paths and RTTs.
  ProbeOk(table, kAp, kAp, 1'000'000, 200);
  ProbeOk(table, kAp, kEu, 1'000'000, 120'000);
  EXPECT_EQ(table.Rank(kAp), (std::vector<RegionId>{kAp, kEu}));
}

TEST(HealthTableTest, EqualRttsRankByRegionId) {
  HealthTable table(3, 0.3);
  ProbeOk(table, kUs, kAp, 1'000, 500);
  ProbeOk(table, kUs, kEu, 1'000, 500);
  EXPECT_EQ(table.Rank(kUs), (std::vector<RegionId>{kEu, kAp}));
}

TEST(HealthTableTest, RttIsAnExponentiallyWeightedMovingAverage) {
  HealthTable table(2, 0.5);
  ProbeOk(table, kUs, kEu, 1'000'000, 100'000);
  EXPECT_DOUBLE_EQ(*table.path(kUs, kEu).rtt_ms, 100.0);  // the first sample sets it
  ProbeOk(table, kUs, kEu, 2'000'000, 200'000);
  EXPECT_DOUBLE_EQ(*table.path(kUs, kEu).rtt_ms, 150.0);
  ProbeOk(table, kUs, kEu, 3'000'000, 50'000);
  EXPECT_DOUBLE_EQ(*table.path(kUs, kEu).rtt_ms, 100.0);
}

TEST(HealthTableTest, SmoothingLetsOneJitteredSampleNotReorder) {
  HealthTable table(3, 0.3);
  for (int64_t t = 1; t <= 5; ++t) {
    ProbeOk(table, kUs, kEu, t * 1'000'000, 80'000);
    ProbeOk(table, kUs, kAp, t * 1'000'000, 100'000);
  }
  ProbeOk(table, kUs, kEu, 6'000'000, 140'000);  // one slow sample: 80 -> 98 ms
  EXPECT_EQ(table.Rank(kUs).front(), kEu);
}

TEST(HealthTableTest, FailedProbeMarksDownAndReportsDetectionTime) {
  HealthTable table(2, 0.3);
  EXPECT_EQ(ProbeOk(table, kUs, kEu, 1'000'000, 80'000).change, HealthChange::kUp);
  const HealthEvent down = table.OnProbeFailed(kUs, kEu, 1'700'000, "timeout");
  EXPECT_EQ(down.change, HealthChange::kDown);
  EXPECT_TRUE(down.failure);
  EXPECT_EQ(down.detection_us, 700'000);
  EXPECT_FALSE(table.path(kUs, kEu).healthy);
  EXPECT_EQ(table.path(kUs, kEu).last_error, "timeout");
  // Already down: nothing changes, nothing is measured twice.
  EXPECT_EQ(table.OnProbeFailed(kUs, kEu, 1'800'000, "timeout").change, HealthChange::kNone);
  EXPECT_EQ(table.path(kUs, kEu).probes_failed, 2u);
}

TEST(HealthTableTest, FailedForwardMarksDownAtOnce) {
  HealthTable table(2, 0.3);
  ProbeOk(table, kUs, kUs, 1'000'000, 100);
  ProbeOk(table, kUs, kEu, 1'000'000, 80'000);
  const HealthEvent down = table.OnForwardFailed(kUs, kUs, 1'100'000, "connection refused");
  EXPECT_EQ(down.change, HealthChange::kDown);
  EXPECT_TRUE(down.failure);
  EXPECT_EQ(table.Rank(kUs), (std::vector<RegionId>{kEu}));
  EXPECT_EQ(table.path(kUs, kUs).forwards_failed, 1u);
}

TEST(HealthTableTest, NonOkStatusMarksDownWithoutCallingItAFailure) {
  HealthTable table(2, 0.3);
  ProbeOk(table, kUs, kEu, 1'000'000, 80'000);
  const HealthEvent down = table.OnProbeAnswered(kUs, kEu, 1'400'000, 1'480'000, "catching_up");
  EXPECT_EQ(down.change, HealthChange::kDown);
  EXPECT_FALSE(down.failure);
  EXPECT_FALSE(down.detection_us.has_value());
  EXPECT_EQ(table.path(kUs, kEu).status, "catching_up");
  EXPECT_TRUE(table.Rank(kUs).empty());
  // A catching_up region that was never up gets no traffic either.
  EXPECT_EQ(table.OnProbeAnswered(kUs, kUs, 0, 10, "catching_up").change, HealthChange::kNone);
  EXPECT_FALSE(table.path(kUs, kUs).healthy);
  // Caught up: back in the ranking.
  EXPECT_EQ(ProbeOk(table, kUs, kEu, 2'000'000, 80'000).change, HealthChange::kUp);
  EXPECT_EQ(table.Rank(kUs), (std::vector<RegionId>{kEu}));
}

TEST(HealthTableTest, CatchingUpRegionsAreALastResortWhileTheyAnswer) {
  HealthTable table(3, 0.3);
  ProbeOk(table, kUs, kUs, 1'000'000, 1'000);
  table.OnProbeAnswered(kUs, kEu, 1'000'000, 1'080'000, "catching_up");
  table.OnProbeAnswered(kUs, kAp, 1'000'000, 1'150'000, "catching_up");
  // Healthy regions are never offered here; the nearest catching-up one is.
  EXPECT_EQ(table.ChooseCatchingUp(kUs, {}), kEu);
  EXPECT_EQ(table.ChooseCatchingUp(kUs, {kEu}), kAp);
  EXPECT_EQ(table.ChooseCatchingUp(kUs, {kEu, kAp}), std::nullopt);
  // A failure since its last answer takes it out, and an answer to a probe sent before that
  // failure does not bring it back (invariant 5).
  table.OnForwardFailed(kUs, kEu, 2'000'000, "connection refused");
  EXPECT_EQ(table.ChooseCatchingUp(kUs, {}), kAp);
  table.OnProbeAnswered(kUs, kEu, 1'900'000, 2'100'000, "catching_up");
  EXPECT_EQ(table.ChooseCatchingUp(kUs, {}), kAp);
  table.OnProbeAnswered(kUs, kEu, 2'200'000, 2'280'000, "catching_up");
  EXPECT_EQ(table.ChooseCatchingUp(kUs, {}), kEu);
  // Draining or failed regions are no resort at all.
  table.OnProbeAnswered(kUs, kEu, 2'300'000, 2'380'000, "draining");
  table.OnProbeAnswered(kUs, kAp, 2'300'000, 2'450'000, "failed");
  EXPECT_EQ(table.ChooseCatchingUp(kUs, {}), std::nullopt);
}

TEST(HealthTableTest, DrainingAndFailedStatusesGetNoTraffic) {
  for (const char* status : {"draining", "failed", "something-new"}) {
    HealthTable table(1, 0.3);
    table.OnProbeAnswered(kUs, kUs, 0, 100, status);
    EXPECT_TRUE(table.Rank(kUs).empty()) << status;
  }
}

TEST(HealthTableTest, ProbeStartedBeforeAFailureCannotRevive) {
  HealthTable table(2, 0.3);
  ProbeOk(table, kUs, kEu, 1'000'000, 80'000);
  table.OnForwardFailed(kUs, kEu, 1'500'000, "reset");
  // This probe left at 1.45 s, before the failure, and answered just after it.
  EXPECT_EQ(table.OnProbeAnswered(kUs, kEu, 1'450'000, 1'530'000, "ok").change,
            HealthChange::kNone);
  EXPECT_FALSE(table.path(kUs, kEu).healthy);
  // A probe sent after the failure may.
  EXPECT_EQ(table.OnProbeAnswered(kUs, kEu, 1'600'000, 1'680'000, "ok").change, HealthChange::kUp);
}

TEST(HealthTableTest, ChooseNextTriesEachRegionAtMostOnce) {
  HealthTable table(3, 0.3);
  ProbeOk(table, kUs, kUs, 1'000, 100);
  ProbeOk(table, kUs, kEu, 1'000, 500);
  ProbeOk(table, kUs, kAp, 1'000, 900);
  std::vector<RegionId> tried;
  while (std::optional<RegionId> next = table.ChooseNext(kUs, tried)) {
    tried.push_back(*next);
    ASSERT_LE(tried.size(), 3u);
  }
  EXPECT_EQ(tried, (std::vector<RegionId>{kUs, kEu, kAp}));
}

TEST(HealthTableTest, ChooseNextSkipsARegionMarkedDownMidRequest) {
  HealthTable table(3, 0.3);
  ProbeOk(table, kUs, kUs, 1'000, 100);
  ProbeOk(table, kUs, kEu, 1'000, 500);
  ProbeOk(table, kUs, kAp, 1'000, 900);
  std::vector<RegionId> tried = {kUs};
  table.OnProbeFailed(kUs, kEu, 2'000, "timeout");
  EXPECT_EQ(table.ChooseNext(kUs, tried), kAp);
}

TEST(HealthTableTest, AllProbedCountsFailuresToo) {
  HealthTable table(2, 0.3);
  for (RegionId location = 0; location < 2; ++location) {
    ProbeOk(table, location, 0, 1'000, 100);
    EXPECT_FALSE(table.AllProbed());
    table.OnProbeFailed(location, 1, 1'000, "refused");
  }
  EXPECT_TRUE(table.AllProbed());
}

// Random event sequences against a model of invariants 1, 2 and 4: a path is healthy exactly when
// its last "ok" probe started after its last failure and nothing marked it down since; Rank lists
// exactly the healthy paths, nearest first, ties by id.
RC_GTEST_PROP(HealthTableProp, RankFollowsTheModel, (const std::vector<uint8_t>& script)) {
  constexpr RegionId kRegions = 3;
  HealthTable table(kRegions, 0.3);
  std::vector<bool> healthy(kRegions, false);
  std::vector<int64_t> last_failure_us(kRegions, -1);
  int64_t now_us = 1'000'000;
  for (size_t i = 0; i + 1 < script.size(); i += 2) {
    now_us += 1'000;
    const RegionId region = script[i] % kRegions;
    const int64_t rtt_us = 1'000 * (script[i + 1] % 50);  // may start before a recent failure
    const bool was_healthy = healthy[region];
    HealthEvent event;
    switch ((script[i] / kRegions) % 4) {
      case 0:
        event = table.OnProbeAnswered(kUs, region, now_us - rtt_us, now_us, "ok");
        if (now_us - rtt_us >= last_failure_us[region]) healthy[region] = true;
        break;
      case 1:
        event = table.OnProbeAnswered(kUs, region, now_us - rtt_us, now_us, "catching_up");
        healthy[region] = false;
        break;
      case 2:
        event = table.OnProbeFailed(kUs, region, now_us, "timeout");
        healthy[region] = false;
        last_failure_us[region] = now_us;
        break;
      default:
        event = table.OnForwardFailed(kUs, region, now_us, "reset");
        healthy[region] = false;
        last_failure_us[region] = now_us;
        break;
    }
    const HealthChange expected = was_healthy == healthy[region] ? HealthChange::kNone
                                  : healthy[region]              ? HealthChange::kUp
                                                                 : HealthChange::kDown;
    RC_ASSERT(event.change == expected);
    RC_ASSERT(!event.detection_us || *event.detection_us >= 0);

    const std::vector<RegionId> ranked = table.Rank(kUs);
    std::set<RegionId> expected_set;
    for (RegionId r = 0; r < kRegions; ++r) {
      if (healthy[r]) expected_set.insert(r);
    }
    RC_ASSERT(std::set<RegionId>(ranked.begin(), ranked.end()) == expected_set);
    RC_ASSERT(ranked.size() == expected_set.size());
    for (size_t k = 1; k < ranked.size(); ++k) {
      const double before = *table.path(kUs, ranked[k - 1]).rtt_ms;
      const double after = *table.path(kUs, ranked[k]).rtt_ms;
      RC_ASSERT(before < after || (before == after && ranked[k - 1] < ranked[k]));
    }
  }
}

}  // namespace
}  // namespace meridian::router
