// MinoritySide: which regions a cut leaves without a majority (partition_handles.h contract 3).
#include "lab/partition_handles.h"

#include <gtest/gtest.h>

namespace meridian {
namespace {

LabContext ThreeRegions() {
  LabContext context;
  context.region_names = {"us", "eu", "ap"};
  context.region_http = {"127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"};
  return context;
}

TEST(MinoritySideTest, OneLinkCutLeavesEveryRegionAMajority) {
  EXPECT_EQ(MinoritySide(ThreeRegions(), {{"us", "eu"}}), std::vector<bool>({false, false, false}));
}

TEST(MinoritySideTest, ARegionCutFromEveryOtherIsTheMinority) {
  EXPECT_EQ(MinoritySide(ThreeRegions(), {{"us", "eu"}, {"us", "ap"}}),
            std::vector<bool>({true, false, false}));
}

TEST(MinoritySideTest, NoCutNoMinority) {
  EXPECT_EQ(MinoritySide(ThreeRegions(), {}), std::vector<bool>({false, false, false}));
}

}  // namespace
}  // namespace meridian
