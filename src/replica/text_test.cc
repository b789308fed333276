// Class text through the replica: edits by position become RGA ops of the region's view,
// concurrent edits converge, bad edits change nothing, tombstones go at causal stability. The
// RGA rules themselves are property-tested in src/crdt/rga_test.cc.
#include <gtest/gtest.h>

#include "replica/replica.h"
#include "replica/test_net.h"

namespace meridian {
namespace {

using testing_net::Net;

const StateKey kDoc{DataClass::kText, "doc"};

ClientWrite Edit(std::vector<TextEdit> edits, std::string idempotency_key = "") {
  return ClientWrite{kDoc, std::move(idempotency_key), TextWrite{std::move(edits)}};
}
TextEdit Insert(uint64_t pos, std::string text) {
  return TextEdit{true, pos, std::move(text), 0};
}
TextEdit Delete(uint64_t pos, uint64_t len) {
  return TextEdit{false, pos, "", len};
}
const Rga& Text(Replica& r) {
  static const Rga kEmpty;
  const KeyState* s = r.Find(kDoc);
  return s ? std::get<Rga>(*s) : kEmpty;
}

TEST(TextTest, ConcurrentEditsInTwoRegionsConverge) {
  Net net(3);
  ASSERT_TRUE(net.Write(0, Edit({Insert(0, "hello world")})).ok());
  net.Settle();
  net.Cut(0);
  ASSERT_TRUE(net.Write(0, Edit({Insert(5, ",")})).ok());                      // hello, world
  ASSERT_TRUE(net.Write(1, Edit({Delete(0, 1), Insert(0, "H")})).ok());        // Hello world
  ASSERT_TRUE(net.Write(2, Edit({Insert(11, "!"), Insert(5, " big")})).ok());  // hello big world!
  net.Heal();
  net.Settle();
  // "," and " big" both hang after the "o"; " big" was stamped later (lamport 13 > 12), so it
  // comes first, whole.
  for (RegionId r = 0; r < 3; ++r)
    EXPECT_EQ(Text(net.at(r)).Text(), "Hello big, world!") << r;
}

TEST(TextTest, ABadEditIsRefusedAndChangesNothing) {
  Net net(2);
  ASSERT_TRUE(net.Write(0, Edit({Insert(0, "abc")})).ok());
  const VersionVector before = net.at(0).applied();
  for (const ClientWrite& bad :
       {Edit({Insert(4, "x")}), Edit({Delete(2, 2)}), Edit({}), Edit({Insert(0, "")}),
        Edit({Insert(0, "ok"), Insert(9, "no")}), ClientWrite{kDoc, "", std::string("abc")}}) {
    auto reply = net.Write(0, bad);
    EXPECT_FALSE(reply.ok());
  }
  EXPECT_EQ(net.Write(0, Edit({Insert(4, "x")})).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(net.at(0).applied(), before);
  EXPECT_EQ(Text(net.at(0)).Text(), "abc");
}

// A delete of the key removes the text its region showed; an insert it had not seen survives.
TEST(TextTest, ADeleteOfTheKeyKeepsConcurrentInserts) {
  Net net(2);
  ASSERT_TRUE(net.Write(0, Edit({Insert(0, "old")})).ok());
  net.Settle();
  net.Cut(1);
  ASSERT_TRUE(net.Write(0, ClientWrite{kDoc, "", KeyDelete{}}).ok());
  ASSERT_TRUE(net.Write(1, Edit({Insert(3, " new")})).ok());
  net.Heal();
  net.Settle();
  for (RegionId r = 0; r < 2; ++r) {
    EXPECT_EQ(Text(net.at(r)).Text(), " new") << r;
    EXPECT_TRUE(net.Present(r, kDoc));
  }
}

TEST(TextTest, IdempotentRetriesAreAnsweredAsTheFirstWrite) {
  Net net(2);
  auto first = net.Write(0, Edit({Insert(0, "a")}, "req-1"));
  ASSERT_TRUE(first.ok());
  auto again = net.Write(0, Edit({Insert(0, "a")}, "req-1"));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->deduplicated);
  EXPECT_EQ(Text(net.at(0)).Text(), "a");
  EXPECT_EQ(net.Write(0, Edit({Insert(0, "b")}, "req-1")).status().code(),
            StatusCode::kFailedPrecondition);
  // The peer learns the record from the op (its fingerprint is computed from the element ids'
  // form): a retry there is recognised too.
  net.Settle();
  auto there = net.Write(1, Edit({Insert(0, "a")}, "req-1"));
  ASSERT_TRUE(there.ok());
  EXPECT_TRUE(there->deduplicated);
}

TEST(TextTest, TombstonesAreCollectedAtCausalStability) {
  Net net(3);
  ASSERT_TRUE(net.Write(0, Edit({Insert(0, "abcdef")})).ok());
  net.Settle();
  ASSERT_TRUE(net.Write(1, Edit({Delete(1, 1)})).ok());  // "b": "c" hangs after it, it stays
  net.Settle();
  ASSERT_TRUE(net.Write(2, Edit({Delete(3, 2)})).ok());  // "ef": the chain's end, collectable
  net.Settle();
  for (int i = 0; i < 2000 && Text(net.at(0)).ElementCount() > 4; ++i)
    net.Step();
  for (RegionId r = 0; r < 3; ++r) {
    EXPECT_EQ(Text(net.at(r)).Text(), "acd") << r;
    EXPECT_EQ(Text(net.at(r)).ElementCount(), 4u) << r;  // "b" kept, "ef" collected
  }
  EXPECT_GE(net.at(0).stats().garbage_collected, 2u);
}

}  // namespace
}  // namespace meridian
