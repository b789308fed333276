#include "replica/state_index.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "replica/types.h"

namespace meridian {
namespace {

using Map = std::map<StateKey, int>;

StateKey KeyOf(int data_class, const std::string& key) {
  return {kAllDataClasses[static_cast<size_t>(data_class) % std::size(kAllDataClasses)], key};
}

// Contract 2: after any sequence of inserts, Find answers what the map's find does, for keys
// present and absent, and across classes (one key string in several classes is several entries).
RC_GTEST_PROP(StateIndexTest, FindAgreesWithTheMap,
              (const std::vector<std::pair<int, std::string>>& inserts,
               const std::vector<std::pair<int, std::string>>& probes)) {
  Map map;
  StateIndex<Map::iterator> index;
  for (const auto& [c, key] : inserts) {
    auto [it, inserted] = map.try_emplace(KeyOf(c, key), 0);
    if (inserted) index.Insert(it);
  }
  RC_ASSERT(index.size() == map.size());
  auto agrees = [&](const StateKey& key) {
    auto found = index.Find(key.data_class, key.key);
    auto expected = map.find(key);
    return expected == map.end() ? !found.has_value() : (found && *found == expected);
  };
  for (const auto& [c, key] : inserts)
    RC_ASSERT(agrees(KeyOf(c, key)));
  for (const auto& [c, key] : probes)
    RC_ASSERT(agrees(KeyOf(c, key)));
}

// The index keeps pointing at the same entries while the map and the index grow past many
// rehashes, and a key string differing only in its class is a different entry.
TEST(StateIndexTest, EntriesSurviveGrowthAndClassesAreDistinct) {
  Map map;
  StateIndex<Map::iterator> index;
  for (int i = 0; i < 20'000; ++i) {
    for (DataClass c : {DataClass::kCounter, DataClass::kTags}) {
      auto it = map.try_emplace({c, "k" + std::to_string(i)}, i).first;
      index.Insert(it);
    }
  }
  ASSERT_EQ(index.size(), 40'000U);
  for (int i = 0; i < 20'000; i += 7) {
    auto counter = index.Find(DataClass::kCounter, "k" + std::to_string(i));
    auto tags = index.Find(DataClass::kTags, "k" + std::to_string(i));
    ASSERT_TRUE(counter && tags);
    EXPECT_EQ((*counter)->second, i);
    EXPECT_NE(*counter, *tags);
    EXPECT_EQ((*tags)->first.data_class, DataClass::kTags);
  }
  EXPECT_FALSE(index.Find(DataClass::kProfile, "k1").has_value());
  EXPECT_FALSE(index.Find(DataClass::kCounter, "k20000").has_value());
}

}  // namespace
}  // namespace meridian
