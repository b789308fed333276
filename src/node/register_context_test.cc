// Register writes with a client's context in the region node (issue 16): a context naming
// register writes the region has not applied waits for them, as a session read waits for its
// token; it is served once they arrive, and answered DEADLINE_EXCEEDED past session_wait_ms.
#include <gtest/gtest.h>

#include "node/node_test_trio.h"

namespace meridian {
namespace {

const StateKey kNote{DataClass::kRegister, "note"};

WriteCommand Put(const std::string& value, std::optional<VersionVector> context) {
  WriteCommand w{ClientWrite{kNote, "", value}};
  w.write.observed_context = std::move(context);
  return w;
}

std::vector<std::string> ValuesAt(Trio& t, RegionId r) {
  const KeyState* state = t.nodes_[r]->replica().Find(kNote);
  return state ? std::get<MvRegister>(*state).Values() : std::vector<std::string>{};
}

TEST(RegisterContextNodeTest, AContextAheadOfTheRegionWaitsForItsWrites) {
  Trio t;
  ASSERT_TRUE(std::holds_alternative<WriteReply>(t.Command(kUs, Put("a", std::nullopt)).result));
  const VersionVector seen = std::get<MvRegister>(*t.nodes_[kUs]->replica().Find(kNote)).context();
  // eu does not get us's write: a write there with us's context cannot observe it.
  t.hold_ = [](RegionId from, RegionId to) { return from == kUs && to == kEu; };
  const NodeReply late = t.Command(kEu, Put("b", seen));
  const auto* refused = std::get_if<Status>(&late.result);
  ASSERT_NE(refused, nullptr);
  EXPECT_EQ(refused->code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(refused->message().find("region 0's writes 1..1"), std::string::npos)
      << refused->message();
  EXPECT_TRUE(ValuesAt(t, kEu).empty());  // nothing was written
  // Once us's write arrives the waiting write goes ahead and replaces it (its context saw it).
  t.hold_ = nullptr;
  const NodeReply served = t.Command(kEu, Put("b", seen));
  ASSERT_TRUE(std::holds_alternative<WriteReply>(served.result));
  t.Settle();
  for (RegionId r : {kUs, kEu, kEu2})
    EXPECT_EQ(ValuesAt(t, r), (std::vector<std::string>{"b"})) << r;
}

TEST(RegisterContextNodeTest, AContextNamingARegionOutsideTheClusterIsRefusedAtOnce) {
  Trio t;
  VersionVector outside;
  outside.Set(5, 1);
  const NodeReply reply = t.Command(kUs, Put("x", outside));
  const auto* refused = std::get_if<Status>(&reply.result);
  ASSERT_NE(refused, nullptr);
  EXPECT_EQ(refused->code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(ValuesAt(t, kUs).empty());
}

}  // namespace
}  // namespace meridian
