// Deleting a key of any class (issue 19, item 8): observed-remove through the replica, over the
// op stream and over state transfer, with idempotent retries. The CRDT rules themselves are
// property-tested in src/crdt; the simulator checks the same under faults.
#include <gtest/gtest.h>

#include <vector>

#include "replica/replica.h"
#include "replica/test_net.h"

namespace meridian {
namespace {

using testing_net::Net;

const StateKey kCounter{DataClass::kCounter, "c"};
const StateKey kTags{DataClass::kTags, "t"};
const StateKey kProfile{DataClass::kProfile, "p"};
const StateKey kRegister{DataClass::kRegister, "r"};

ClientWrite Delete(const StateKey& key, std::string idempotency_key = "") {
  return ClientWrite{key, std::move(idempotency_key), KeyDelete{}};
}

int64_t Counter(Replica& r) {
  const KeyState* s = r.Find(kCounter);
  return s ? *std::get<PnCounter>(*s).Value() : 0;
}

TEST(DeleteTest, EveryClassIsDeletedEverywhereAndReadsAsNotPresent) {
  Net net(3);
  ASSERT_TRUE(net.Write(0, {kCounter, "", int64_t{5}}).ok());
  ASSERT_TRUE(net.Write(1, {kTags, "", TagsWrite{{"a", "b"}, {}}}).ok());
  ASSERT_TRUE(net.Write(2, {kProfile, "", LwwMapOp{false, {{"name", "ann"}}}}).ok());
  ASSERT_TRUE(net.Write(0, {kRegister, "", std::string("v")}).ok());
  net.Settle();
  for (const StateKey& key : {kCounter, kTags, kProfile, kRegister}) {
    ASSERT_TRUE(net.Present(2, key));
    auto reply = net.Write(2, Delete(key));
    ASSERT_TRUE(reply.ok()) << reply.status().ToString();
    EXPECT_NE(reply->dot.seq, 0u);
  }
  net.Settle();
  for (RegionId r = 0; r < 3; ++r) {
    for (const StateKey& key : {kCounter, kTags, kProfile, kRegister})
      EXPECT_FALSE(net.Present(r, key)) << DataClassName(key.data_class) << " in " << r;
    EXPECT_EQ(Counter(net.at(r)), 0);
  }
  // Written again, a key starts from nothing.
  ASSERT_TRUE(net.Write(1, {kCounter, "", int64_t{2}}).ok());
  net.Settle();
  EXPECT_EQ(Counter(net.at(0)), 2);
  EXPECT_TRUE(net.Present(0, kCounter));
}

// The documented rule: a delete removes what its region had seen; writes it had not seen (made
// concurrently on the other side of a partition) survive it, in every region.
TEST(DeleteTest, WritesTheDeleteDidNotSeeSurviveIt) {
  Net net(3);
  ASSERT_TRUE(net.Write(0, {kCounter, "", int64_t{5}}).ok());
  ASSERT_TRUE(net.Write(0, {kTags, "", TagsWrite{{"a"}, {}}}).ok());
  ASSERT_TRUE(net.Write(0, {kProfile, "", LwwMapOp{false, {{"name", "ann"}}}}).ok());
  ASSERT_TRUE(net.Write(0, {kRegister, "", std::string("v1")}).ok());
  net.Settle();
  net.Cut(0);
  for (const StateKey& key : {kCounter, kTags, kProfile, kRegister})
    ASSERT_TRUE(net.Write(1, Delete(key)).ok());
  ASSERT_TRUE(net.Write(0, {kCounter, "", int64_t{3}}).ok());
  ASSERT_TRUE(net.Write(0, {kTags, "", TagsWrite{{"a", "b"}, {}}}).ok());  // a new dot for a
  ASSERT_TRUE(net.Write(0, {kProfile, "", LwwMapOp{false, {{"city", "oslo"}}}}).ok());
  ASSERT_TRUE(net.Write(0, {kRegister, "", std::string("v2")}).ok());
  net.Heal();
  net.Settle();
  for (RegionId r = 0; r < 3; ++r) {
    Replica& at = net.at(r);
    EXPECT_EQ(Counter(at), 3) << r;
    EXPECT_EQ(std::get<OrSet>(*at.Find(kTags)).Elements(), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(std::get<LwwMap>(*at.Find(kProfile)).Visible(),
              (std::map<std::string, std::string>{{"city", "oslo"}}));
    EXPECT_EQ(std::get<MvRegister>(*at.Find(kRegister)).Values(), (std::vector<std::string>{"v2"}));
  }
}

TEST(DeleteTest, ADeleteOfNothingMakesNoOp) {
  Net net(2);
  auto reply = net.Write(0, Delete(kCounter));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->dot.seq, 0u);
  EXPECT_TRUE(net.at(0).applied().IsZero());
  EXPECT_EQ(net.at(0).Find(kCounter), nullptr);
}

// A retry of a delete carrying its idempotency key is answered as the same delete, also after
// more writes; a retry in another region makes a second delete op, and nothing is compensated.
TEST(DeleteTest, IdempotentDeleteRetries) {
  Net net(2);
  ASSERT_TRUE(net.Write(0, {kCounter, "", int64_t{4}}).ok());
  net.Settle();
  auto first = net.Write(0, Delete(kCounter, "del-1"));
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(net.Write(0, {kCounter, "", int64_t{1}}).ok());
  auto again = net.Write(0, Delete(kCounter, "del-1"));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->deduplicated);
  EXPECT_EQ(again->dot, first->dot);
  EXPECT_EQ(Counter(net.at(0)), 1);
  // Another request under the same key is refused.
  EXPECT_FALSE(net.Write(0, {kCounter, "del-1", int64_t{1}}).ok());
  // A failover retry: region 1 has not seen the first delete.
  net.Cut(1);
  ASSERT_TRUE(net.Write(0, Delete(kCounter, "del-2")).ok());
  ASSERT_TRUE(net.Write(1, Delete(kCounter, "del-2")).ok());
  net.Heal();
  net.Settle();
  EXPECT_EQ(net.at(0).stats().compensations + net.at(1).stats().compensations, 0u);
  EXPECT_EQ(Counter(net.at(0)), 0);
  EXPECT_EQ(Counter(net.at(1)), 0);
}

// A region that has to catch up by state transfer (its peers' logs no longer hold what it
// missed) receives the deletes in the states, so nothing it held comes back.
TEST(DeleteTest, StateTransferCarriesDeletes) {
  ReplicaOptions small_log;
  small_log.oplog_retention_ops = 1;
  Net net(3, small_log);
  ASSERT_TRUE(net.Write(0, {kCounter, "", int64_t{5}}).ok());
  ASSERT_TRUE(net.Write(0, {kTags, "", TagsWrite{{"a"}, {}}}).ok());
  ASSERT_TRUE(net.Write(0, {kRegister, "", std::string("v")}).ok());
  net.Settle();
  net.Cut(2);
  for (const StateKey& key : {kCounter, kTags, kRegister})
    ASSERT_TRUE(net.Write(1, Delete(key)).ok());
  for (int i = 0; i < 5; ++i)  // more than the log keeps
    ASSERT_TRUE(net.Write(1, {{DataClass::kCounter, "other"}, "", int64_t{1}}).ok());
  for (int i = 0; i < 100; ++i)  // the others truncate their logs meanwhile
    net.Step();
  net.Heal();
  net.Settle();
  EXPECT_GE(net.at(2).stats().snapshots_applied, 1u);
  for (const StateKey& key : {kCounter, kTags, kRegister})
    EXPECT_FALSE(net.Present(2, key)) << DataClassName(key.data_class);
  EXPECT_EQ(Counter(net.at(2)), 0);
}

}  // namespace
}  // namespace meridian
