#include "clock/hlc.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace meridian {
namespace {

TEST(HybridClockTest, FollowsPhysicalTime) {
  HybridClock clock;
  EXPECT_EQ(clock.Now(100), (HlcTimestamp{100, 0}));
  EXPECT_EQ(clock.Now(100), (HlcTimestamp{100, 1}));
  EXPECT_EQ(clock.Now(105), (HlcTimestamp{105, 0}));
}

TEST(HybridClockTest, PhysicalClockGoingBackDoesNotGoBack) {
  HybridClock clock;
  HlcTimestamp a = clock.Now(1000);
  HlcTimestamp b = clock.Now(900);
  EXPECT_GT(b, a);
  EXPECT_EQ(b.physical_ms, 1000u);
}

TEST(HybridClockTest, ObserveMovesPastRemote) {
  HybridClock clock;
  EXPECT_TRUE(clock.Observe({1200, 5}, 1000));
  EXPECT_GT(clock.Now(1000), (HlcTimestamp{1200, 5}));
  EXPECT_EQ(clock.clamped_total(), 0u);
  EXPECT_EQ(clock.max_lead_observed_ms(), 200u);
}

TEST(HybridClockTest, RemoteTooFarAheadIsClampedAndCounted) {
  HybridClock clock(HlcOptions{.max_offset_ms = 500});
  EXPECT_FALSE(clock.Observe({1000000, 0}, 1000));
  EXPECT_EQ(clock.clamped_total(), 1u);
  HlcTimestamp next = clock.Now(1000);
  EXPECT_LE(next.physical_ms, 1500u);
  EXPECT_GE(next.physical_ms, 1000u);
}

TEST(HybridClockTest, RestoreKeepsMonotonicAcrossRestart) {
  HybridClock before;
  HlcTimestamp last{};
  for (int i = 0; i < 10; ++i)
    last = before.Now(5000);
  HybridClock after;
  after.Restore(last);
  EXPECT_GT(after.Now(10), last);
}

RC_GTEST_PROP(HybridClockProp, StrictlyIncreasingUnderAnyInputs,
              (const std::vector<std::pair<bool, uint32_t>>& events)) {
  HybridClock clock(HlcOptions{.max_offset_ms = 50});
  HlcTimestamp last{};
  uint64_t physical = 1000;
  for (const auto& [observe, x] : events) {
    physical = physical + (x % 7) - 3;  // wanders, also backwards
    if (observe) {
      (void)clock.Observe({physical + (x % 200), x % 3}, physical);
      RC_ASSERT(clock.last() >= last);
      last = clock.last();
    } else {
      HlcTimestamp now = clock.Now(physical);
      RC_ASSERT(now > last);
      last = now;
    }
  }
}

TEST(WriteStampTest, RegionBreaksTies) {
  WriteStamp a{{100, 0}, 0}, b{{100, 0}, 1};
  EXPECT_LT(a, b);
  WriteStamp c{{101, 0}, 0};
  EXPECT_LT(b, c);
}

}  // namespace
}  // namespace meridian
