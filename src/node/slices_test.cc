// Slices in the region node (contract 10): three regions, each node slice 1 of 2, so it holds the
// keys and handles of hash slots 8192..16383 alone ("foo" is slot 12182, "bar" 5061).
#include <gtest/gtest.h>

#include "base/hash_slot.h"
#include "node/node_test_trio.h"

namespace meridian {
namespace {

void SliceOneOfTwo(RegionNodeOptions& o) {
  o.slices = {1, 2};
  o.handle_slot_prefix = "handle:";
}

WriteCommand Incr(const std::string& key, int64_t by) {
  return WriteCommand{ClientWrite{{DataClass::kCounter, key}, "", by}};
}

ReadCommand Read(const std::string& key) {
  return ReadCommand{{DataClass::kCounter, key}, std::nullopt, Consistency::kLocal};
}

StatusCode CodeOf(const NodeReply& reply) {
  const auto* status = std::get_if<Status>(&reply.result);
  return status == nullptr ? StatusCode::kOk : status->code();
}

TEST(SlicesNodeTest, KeysAndHandlesOfAnotherSliceAreMisdirectedAndChangeNothing) {
  ASSERT_EQ(KeySlices({1, 2}).SliceOf("foo"), 1u);
  ASSERT_EQ(KeySlices({1, 2}).SliceOf("bar"), 0u);
  Trio t(SliceOneOfTwo);
  t.Settle();
  const uint64_t steps = t.nodes_[kUs]->stats().steps;

  const NodeReply refused = t.Command(kUs, Incr("bar", 1));
  ASSERT_EQ(CodeOf(refused), StatusCode::kMisdirected);
  const std::string message = std::get<Status>(refused.result).message();
  EXPECT_NE(message.find("hash slot 5061 is held by slice 0 of 2"), std::string::npos) << message;
  EXPECT_EQ(CodeOf(t.Command(kUs, Read("bar"))), StatusCode::kMisdirected);
  EXPECT_EQ(t.nodes_[kUs]->stats().steps, steps) << "a refused command recorded nothing";
  EXPECT_EQ(t.nodes_[kUs]->stats().misdirected, 2u);

  // A key of this slice is written, replicates to the same slice elsewhere, and converges.
  EXPECT_EQ(CodeOf(t.Command(kUs, Incr("foo", 2))), StatusCode::kOk);
  EXPECT_EQ(CodeOf(t.Command(kEu, Incr("foo", 3))), StatusCode::kOk);
  t.Settle();
  for (RegionId r : {kUs, kEu, kEu2}) {
    const NodeReply read = t.Command(r, Read("foo"));
    const auto* result = std::get_if<ReadResult>(&read.result);
    ASSERT_NE(result, nullptr);
    ASSERT_TRUE(result->state.has_value());
    EXPECT_EQ(*std::get<PnCounter>(*result->state).Value(), 5);
  }

  // A handle's slot is that of its prefixed, canonical name: "handle:alice" is 13654 (here),
  // "handle:zed" 7721 (slice 0), whatever the case it is sent in.
  EXPECT_EQ(CodeOf(t.Command(kUs, HandleCommand{{HandleOpKind::kClaim, "Zed", "o"}})),
            StatusCode::kMisdirected);
  EXPECT_NE(CodeOf(t.Command(kUs, HandleCommand{{HandleOpKind::kClaim, "Alice", "o"}})),
            StatusCode::kMisdirected);
}

}  // namespace
}  // namespace meridian
