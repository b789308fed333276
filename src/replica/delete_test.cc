// Deleting a key of any class (issue 19, item 8): observed-remove through the replica, over the
// op stream and over state transfer, with idempotent retries. The CRDT rules themselves are
// property-tested in src/crdt; the simulator checks the same under faults.
#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <vector>

#include "replica/replica.h"

namespace meridian {
namespace {

const StateKey kCounter{DataClass::kCounter, "c"};
const StateKey kTags{DataClass::kTags, "t"};
const StateKey kProfile{DataClass::kProfile, "p"};
const StateKey kRegister{DataClass::kRegister, "r"};

ClientWrite Delete(const StateKey& key, std::string idempotency_key = "") {
  return ClientWrite{key, std::move(idempotency_key), KeyDelete{}};
}

// Regions on an in-order network the test drives; a cut region sends and receives nothing.
class Net {
 public:
  explicit Net(RegionId regions, ReplicaOptions base = {}) {
    for (RegionId r = 0; r < regions; ++r) {
      ReplicaOptions o = base;
      o.self = r;
      o.region_count = regions;
      o.incarnation = 1;
      replicas_.push_back(std::make_unique<Replica>(o));
    }
  }
  Replica& at(RegionId r) { return *replicas_[r]; }

  Result<WriteReply> Write(RegionId r, const ClientWrite& w) {
    Output out;
    auto reply = at(r).OnClientWrite(w, now_, &out);
    Send(r, out);
    return reply;
  }
  void Cut(RegionId r) {
    cut_ = r;
    std::erase_if(flight_, [r](const Message& m) { return m.from == r || m.to == r; });
  }
  void Heal() {
    const RegionId r = *cut_;
    cut_.reset();
    for (RegionId p = 0; p < replicas_.size(); ++p) {
      if (p == r) continue;
      for (auto [x, y] : {std::pair{r, p}, std::pair{p, r}}) {
        Output out;
        at(x).OnPeerConnected(y, &out);
        Send(x, out);
      }
    }
  }
  // Delivers what is in flight, then ticks every region once.
  void Step() {
    std::deque<Message> batch;
    batch.swap(flight_);
    for (auto& [from, to, m] : batch) {
      Output out;
      at(to).OnMessage(from, m, now_, &out);
      Send(to, out);
    }
    now_ += 10;
    for (RegionId r = 0; r < replicas_.size(); ++r) {
      Output out;
      at(r).Tick(now_, &out);
      Send(r, out);
    }
  }
  // Steps until every region has applied the same ops and no log holds anything.
  void Settle() {
    for (int i = 0; i < 3000; ++i) {
      Step();
      if (Converged()) return;
    }
    ADD_FAILURE() << "the regions did not converge";
  }
  bool Converged() const {
    if (cut_.has_value()) return false;
    for (const auto& r : replicas_) {
      if (!(r->applied() == replicas_[0]->applied()) || r->oplog_size() > 0) return false;
    }
    return true;
  }
  bool Present(RegionId r, const StateKey& key) const {
    const KeyState* s = replicas_[r]->Find(key);
    return s != nullptr && KeyPresent(*s);
  }

 private:
  struct Message {
    RegionId from, to;
    pb::PeerMessage m;
  };
  void Send(RegionId from, Output& out) {
    for (auto& [to, m] : out.messages) {
      if (cut_ != from && cut_ != to) flight_.push_back({from, to, std::move(m)});
    }
    out = Output{};
  }

  std::vector<std::unique_ptr<Replica>> replicas_;
  std::deque<Message> flight_;
  std::optional<RegionId> cut_;
  uint64_t now_ = 1000;
};

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
