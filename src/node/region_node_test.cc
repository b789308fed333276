// RegionNode's shell rules, each alone: replies and messages held until their step is durable in
// the WAL mode's sense, reads of keys not yet durable, session waits, quorum reads cut off from a
// majority, and a failed disk. The simulator checks the same under random faults.
#include "node/region_node.h"

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <memory>

#include "store/memory_storage.h"

namespace meridian {
namespace {

ClientWrite Incr(const std::string& key, int64_t by = 1) {
  return ClientWrite{{DataClass::kCounter, key}, "", by};
}

// Two regions whose disks and network the test drives by hand. Records reach the disk only when
// the test says so (Persist), and so do the durability reports.
class Pair {
 public:
  explicit Pair(WalSync mode) {
    for (RegionId r = 0; r < 2; ++r) {
      RegionNodeOptions o;
      o.replica.self = r;
      o.replica.region_count = 2;
      o.replica.incarnation = 100 + r;
      o.strong.self = r;
      o.strong.region_count = 2;
      o.region_names = {"us", "eu"};
      o.wal_sync = mode;
      o.session_wait_ms = 500;
      disks_.push_back(std::make_unique<MemoryStorage>());
      auto node = RegionNode::Recover(o, *disks_.back());
      EXPECT_TRUE(node.ok()) << node.status().ToString();
      nodes_.push_back(std::move(node).value());
    }
  }

  RegionNode& at(RegionId r) { return *nodes_[r]; }
  NodeTime now() const { return {1'000'000 + now_ms_, now_ms_}; }
  void Advance(uint64_t ms) { now_ms_ += ms; }

  // Writes what region r emitted so far and reports it written (and synced when `sync`).
  void Persist(RegionId r, bool sync) {
    ASSERT_TRUE(disks_[r]->Write(pending_[r], {.sync = sync}).ok());
    pending_[r] = {};
    NodeOutput out;
    if (sync) {
      at(r).OnSynced(at(r).last_step(), &out);
    } else {
      at(r).OnWritten(at(r).last_step(), &out);
    }
    Take(r, std::move(out));
  }

  void Take(RegionId r, NodeOutput out) {
    pending_[r].Append(std::move(out.records));
    for (auto& [to, m] : out.messages) {
      if (!cut_) network_.push_back({r, to, std::move(m)});
    }
    for (auto& reply : out.replies)
      replies_[reply.id] = std::move(reply);
  }

  void Command(RegionId r, RequestId id, NodeCommand command) {
    NodeOutput out;
    at(r).OnCommand(id, std::move(command), now(), &out);
    Take(r, std::move(out));
  }

  // Ticks, delivers and persists (synced) until nothing moves: both regions caught up.
  void Settle(int rounds = 200) {
    for (int i = 0; i < rounds; ++i) {
      Advance(10);
      for (RegionId r = 0; r < 2; ++r) {
        NodeOutput out;
        at(r).OnTick(now(), &out);
        Take(r, std::move(out));
        Persist(r, true);
      }
      std::deque<std::tuple<RegionId, RegionId, pb::PeerMessage>> batch;
      batch.swap(network_);
      for (auto& [from, to, m] : batch) {
        NodeOutput out;
        at(to).OnPeerMessage(from, m, now(), &out);
        Take(to, std::move(out));
      }
    }
  }

  // `verified`: the peer has answered the link's handshake (RegionNode::OnLinkVerified).
  void Link(bool up, bool verified = true) {
    for (RegionId r = 0; r < 2; ++r) {
      NodeOutput out;
      at(r).OnLinkChanged(1 - r, up, now(), &out);
      at(r).OnLinkVerified(1 - r, verified);
      Take(r, std::move(out));
    }
    cut_ = !up;
  }

  // Messages sent and not yet delivered that carry ops, and how many ops they carry.
  std::pair<size_t, int> op_batches_in_flight() const {
    std::pair<size_t, int> n{0, 0};
    for (const auto& [from, to, m] : network_) {
      if (!m.has_ops()) continue;
      ++n.first;
      n.second += m.ops().ops_size();
    }
    return n;
  }

  const NodeReply* reply(RequestId id) const {
    auto it = replies_.find(id);
    return it == replies_.end() ? nullptr : &it->second;
  }

 private:
  std::vector<std::unique_ptr<MemoryStorage>> disks_;
  std::vector<std::unique_ptr<RegionNode>> nodes_;
  RecordBatch pending_[2];
  std::deque<std::tuple<RegionId, RegionId, pb::PeerMessage>> network_;
  std::map<RequestId, NodeReply> replies_;
  uint64_t now_ms_ = 0;
  bool cut_ = false;
};

int64_t CounterIn(const NodeReply& reply) {
  const auto& read = std::get<ReadResult>(reply.result);
  return read.state ? *std::get<PnCounter>(*read.state).Value() : 0;
}

TEST(RegionNodeTest, AlwaysModeAnswersAWriteOnlyOnceItsStepIsSynced) {
  Pair pair(WalSync::kEveryCommit);
  pair.Link(true);
  pair.Settle();
  ASSERT_EQ(pair.at(0).health(), RegionHealth::kOk);
  pair.Command(0, 1, WriteCommand{Incr("likes")});
  EXPECT_EQ(pair.reply(1), nullptr);
  EXPECT_TRUE(pair.at(0).wants_sync());
  pair.Persist(0, /*sync=*/false);
  EXPECT_EQ(pair.reply(1), nullptr) << "written is not enough in always mode";
  pair.Persist(0, /*sync=*/true);
  ASSERT_NE(pair.reply(1), nullptr);
  EXPECT_TRUE(std::holds_alternative<WriteReply>(pair.reply(1)->result));
}

TEST(RegionNodeTest, PeriodicModeAnswersWhenWrittenButPeersHearOnlyWhenSynced) {
  Pair pair(WalSync::kPeriodic);
  pair.Link(true);
  pair.Settle();
  pair.Command(0, 1, WriteCommand{Incr("likes", 5)});
  EXPECT_EQ(pair.reply(1), nullptr);
  pair.Persist(0, /*sync=*/false);
  ASSERT_NE(pair.reply(1), nullptr);
  // The op's message to eu waits for a sync, and wants_sync says so.
  EXPECT_GT(pair.at(0).stats().held_messages, 0u);
  EXPECT_TRUE(pair.at(0).wants_sync());
  pair.Persist(0, /*sync=*/true);
  EXPECT_EQ(pair.at(0).stats().held_messages, 0u);
  EXPECT_FALSE(pair.at(0).wants_sync());
  pair.Settle();
  pair.Command(1, 2, ReadCommand{{DataClass::kCounter, "likes"}, std::nullopt});
  ASSERT_NE(pair.reply(2), nullptr);
  EXPECT_EQ(CounterIn(*pair.reply(2)), 5);
}

TEST(RegionNodeTest, WritesReleasedByOneSyncReachAPeerAsOneBatch) {
  Pair pair(WalSync::kEveryCommit);
  pair.Link(true);
  pair.Settle();
  for (RequestId id = 1; id <= 10; ++id)
    pair.Command(0, id, WriteCommand{Incr("likes", 1)});
  EXPECT_EQ(pair.op_batches_in_flight().first, 0u) << "held until synced";
  pair.Persist(0, /*sync=*/true);
  EXPECT_EQ(pair.op_batches_in_flight(), (std::pair<size_t, int>{1, 10}));
  EXPECT_EQ(pair.at(0).stats().coalesced_messages, 9u);
  pair.Settle();
  pair.Command(1, 11, ReadCommand{{DataClass::kCounter, "likes"}, std::nullopt});
  ASSERT_NE(pair.reply(11), nullptr);
  EXPECT_EQ(CounterIn(*pair.reply(11)), 10);
}

TEST(RegionNodeTest, AReadOfAKeyNotYetDurableWaitsOtherKeysAnswerAtOnce) {
  Pair pair(WalSync::kEveryCommit);
  pair.Link(true);
  pair.Settle();
  pair.Command(0, 1, WriteCommand{Incr("old")});
  pair.Persist(0, true);
  const VersionVector durable = std::get<WriteReply>(pair.reply(1)->result).applied;
  pair.Command(0, 2, WriteCommand{Incr("new")});
  pair.Command(0, 3, ReadCommand{{DataClass::kCounter, "new"}, std::nullopt});
  pair.Command(0, 4, ReadCommand{{DataClass::kCounter, "old"}, std::nullopt});
  EXPECT_EQ(pair.reply(3), nullptr);
  ASSERT_NE(pair.reply(4), nullptr);
  EXPECT_EQ(CounterIn(*pair.reply(4)), 1);
  // The token of the durable key's read names only what is durable.
  EXPECT_EQ(std::get<ReadResult>(pair.reply(4)->result).applied, durable);
  pair.Persist(0, true);
  ASSERT_NE(pair.reply(3), nullptr);
  EXPECT_EQ(CounterIn(*pair.reply(3)), 1);
}

TEST(RegionNodeTest, ASessionReadWaitsForItsTokenAndTimesOut) {
  Pair pair(WalSync::kEveryCommit);
  pair.Link(true);
  pair.Settle();
  pair.Command(0, 1, WriteCommand{Incr("likes", 3)});
  pair.Persist(0, true);
  const VersionVector token = std::get<WriteReply>(pair.reply(1)->result).applied;
  // eu has not heard of the write yet: the read waits, then answers once it has.
  pair.Command(1, 2, ReadCommand{{DataClass::kCounter, "likes"}, token});
  EXPECT_EQ(pair.reply(2), nullptr);
  pair.Settle();
  ASSERT_NE(pair.reply(2), nullptr);
  EXPECT_EQ(CounterIn(*pair.reply(2)), 3);
  // A token eu can never satisfy while cut off: DEADLINE_EXCEEDED after session_wait_ms.
  pair.Link(false);
  pair.Command(0, 3, WriteCommand{Incr("likes")});
  pair.Persist(0, true);
  const VersionVector ahead = std::get<WriteReply>(pair.reply(3)->result).applied;
  pair.Command(1, 4, ReadCommand{{DataClass::kCounter, "likes"}, ahead});
  pair.Settle(60);  // 600 ms > session_wait_ms
  ASSERT_NE(pair.reply(4), nullptr);
  const auto* status = std::get_if<Status>(&pair.reply(4)->result);
  ASSERT_NE(status, nullptr);
  EXPECT_EQ(status->code(), StatusCode::kDeadlineExceeded);
}

TEST(RegionNodeTest, AQuorumReadCutOffFromAMajorityIsRefusedAtOnce) {
  Pair pair(WalSync::kEveryCommit);
  pair.Link(true);
  pair.Settle();
  pair.Command(0, 1,
               ReadCommand{{DataClass::kCounter, "likes"}, std::nullopt, Consistency::kQuorum});
  pair.Settle(5);
  ASSERT_NE(pair.reply(1), nullptr);
  EXPECT_TRUE(std::holds_alternative<ReadResult>(pair.reply(1)->result));
  pair.Link(false);
  pair.Command(0, 2,
               ReadCommand{{DataClass::kCounter, "likes"}, std::nullopt, Consistency::kQuorum});
  ASSERT_NE(pair.reply(2), nullptr);
  const auto* status = std::get_if<Status>(&pair.reply(2)->result);
  ASSERT_NE(status, nullptr);
  EXPECT_EQ(status->code(), StatusCode::kUnavailable);
  pair.Command(0, 3, ReadCommand{{DataClass::kCounter, "likes"}, std::nullopt, Consistency::kAll});
  ASSERT_NE(pair.reply(3), nullptr);
  const auto* all = std::get_if<Status>(&pair.reply(3)->result);
  ASSERT_NE(all, nullptr);
  EXPECT_NE(all->message().find("every region needs 2"), std::string::npos) << all->ToString();
}

// A redial opens for sending before the peer answers its hello, so a dead peer's link looks up
// until the handshake times out: such a link carries traffic but counts as no reachable region.
TEST(RegionNodeTest, ALinkUpButNotYetVerifiedCountsAsNoReachableRegion) {
  Pair pair(WalSync::kEveryCommit);
  pair.Link(true, /*verified=*/false);
  pair.Command(0, 1,
               ReadCommand{{DataClass::kCounter, "likes"}, std::nullopt, Consistency::kQuorum});
  ASSERT_NE(pair.reply(1), nullptr) << "refused at once, not after the quorum timeout";
  const auto* read = std::get_if<Status>(&pair.reply(1)->result);
  ASSERT_NE(read, nullptr);
  EXPECT_EQ(read->code(), StatusCode::kUnavailable);
  pair.Command(0, 2, WriteCommand{Incr("likes", 1), 2});
  ASSERT_NE(pair.reply(2), nullptr);
  const auto* write = std::get_if<Status>(&pair.reply(2)->result);
  ASSERT_NE(write, nullptr);
  EXPECT_EQ(write->code(), StatusCode::kUnavailable);
  EXPECT_TRUE(pair.at(0).link_up(1));
  EXPECT_FALSE(pair.at(0).link_verified(1));

  pair.Link(true, /*verified=*/true);  // the hello reply came
  pair.Settle();
  pair.Command(0, 3,
               ReadCommand{{DataClass::kCounter, "likes"}, std::nullopt, Consistency::kQuorum});
  pair.Settle(5);
  ASSERT_NE(pair.reply(3), nullptr);
  EXPECT_TRUE(std::holds_alternative<ReadResult>(pair.reply(3)->result));
  pair.Link(false);
  EXPECT_FALSE(pair.at(0).link_verified(1)) << "a link that went down is no longer verified";
}

// Contract 5: w=majority (of two regions: both).
TEST(RegionNodeTest, AMajorityWriteIsAnsweredOnceThePeerHoldsItAndNotBefore) {
  Pair pair(WalSync::kPeriodic);  // where a plain write is answered as soon as it is written
  pair.Link(true);
  pair.Settle();
  pair.Command(0, 1, WriteCommand{Incr("likes", 3), 2});
  pair.Persist(0, /*sync=*/false);
  EXPECT_EQ(pair.reply(1), nullptr) << "written here is not enough";
  pair.Persist(0, /*sync=*/true);
  EXPECT_EQ(pair.reply(1), nullptr) << "eu has not acknowledged it yet";
  EXPECT_EQ(pair.at(0).stats().replication_waits, 1u);
  pair.Settle();
  ASSERT_NE(pair.reply(1), nullptr);
  const auto* write = std::get_if<WriteReply>(&pair.reply(1)->result);
  ASSERT_NE(write, nullptr);
  EXPECT_EQ(write->replicated_to, 2u);
  EXPECT_EQ(pair.at(0).stats().replication_waits, 0u);
  pair.Command(1, 2, ReadCommand{{DataClass::kCounter, "likes"}, std::nullopt});
  ASSERT_NE(pair.reply(2), nullptr);
  EXPECT_EQ(CounterIn(*pair.reply(2)), 3);
}

TEST(RegionNodeTest, AMajorityWriteWithNoMajorityReachableIsRefusedUnapplied) {
  Pair pair(WalSync::kEveryCommit);
  pair.Link(true);
  pair.Settle();
  pair.Link(false);
  pair.Command(0, 1, WriteCommand{Incr("likes", 3), 2});
  ASSERT_NE(pair.reply(1), nullptr);
  const auto* status = std::get_if<Status>(&pair.reply(1)->result);
  ASSERT_NE(status, nullptr);
  EXPECT_EQ(status->code(), StatusCode::kUnavailable);
  EXPECT_NE(status->message().find("nothing was written"), std::string::npos) << status->ToString();
  pair.Command(0, 2, ReadCommand{{DataClass::kCounter, "likes"}, std::nullopt});
  ASSERT_NE(pair.reply(2), nullptr);
  EXPECT_EQ(CounterIn(*pair.reply(2)), 0);
}

TEST(RegionNodeTest, AMajorityWriteNotAcknowledgedInTimeSaysHowManyHoldIt) {
  Pair pair(WalSync::kEveryCommit);
  pair.Link(true);
  pair.Settle();
  pair.Command(0, 1, WriteCommand{Incr("likes", 2), 2});
  pair.Link(false);  // the op never reaches eu
  pair.Settle(400);  // 4 s, past write_wait_ms
  ASSERT_NE(pair.reply(1), nullptr);
  const auto* status = std::get_if<Status>(&pair.reply(1)->result);
  ASSERT_NE(status, nullptr);
  EXPECT_EQ(status->code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(status->message().find("applied in 1 of 2 regions"), std::string::npos)
      << status->ToString();
  // It stays applied here, as the answer says.
  pair.Command(0, 2, ReadCommand{{DataClass::kCounter, "likes"}, std::nullopt});
  ASSERT_NE(pair.reply(2), nullptr);
  EXPECT_EQ(CounterIn(*pair.reply(2)), 2);
}

TEST(RegionNodeTest, AFailedDiskAnswersWhatWasHeldAndRefusesTheRest) {
  Pair pair(WalSync::kEveryCommit);
  pair.Link(true);
  pair.Settle();
  pair.Command(0, 1, WriteCommand{Incr("likes")});
  ASSERT_EQ(pair.reply(1), nullptr);
  NodeOutput out;
  pair.at(0).OnStorageFailed(Internal("fsync: input/output error"), &out);
  pair.Take(0, std::move(out));
  ASSERT_NE(pair.reply(1), nullptr);
  const auto* lost = std::get_if<Status>(&pair.reply(1)->result);
  ASSERT_NE(lost, nullptr);
  EXPECT_EQ(lost->code(), StatusCode::kUnavailable);
  EXPECT_NE(lost->message().find("may or may not"), std::string::npos);
  EXPECT_EQ(pair.at(0).health(), RegionHealth::kFailed);
  pair.Command(0, 2, ReadCommand{{DataClass::kCounter, "likes"}, std::nullopt});
  ASSERT_NE(pair.reply(2), nullptr);
  EXPECT_EQ(std::get<Status>(pair.reply(2)->result).code(), StatusCode::kUnavailable);
  EXPECT_FALSE(pair.at(0).wants_sync());
}

// `new_cluster` (etcd's --initial-cluster-state new) skips the rejoin wait only on storage that
// holds nothing: any record may be a restored copy whose peers hold more of its ops.
TEST(RegionNodeTest, ANewClusterStartsCompleteOnlyOnEmptyStorage) {
  RegionNodeOptions o;
  o.replica.self = 0;
  o.replica.region_count = 3;
  o.replica.incarnation = 7;
  o.strong.self = 0;
  o.strong.region_count = 3;
  o.region_names = {"us", "eu", "ap"};

  MemoryStorage empty;
  auto by_default = RegionNode::Recover(o, empty);
  ASSERT_TRUE(by_default.ok());
  EXPECT_TRUE((*by_default)->replica().rejoining());
  EXPECT_TRUE((*by_default)->strong().rejoining());

  o.new_cluster = true;
  auto born = RegionNode::Recover(o, empty);
  ASSERT_TRUE(born.ok());
  EXPECT_FALSE((*born)->replica().rejoining());
  EXPECT_FALSE((*born)->strong().rejoining());

  MemoryStorage restored;
  RecordBatch some;
  some.Put(std::string(StrongNode::kSyncedMarkerKey), "1");
  ASSERT_TRUE(restored.Write(some).ok());
  auto not_born = RegionNode::Recover(o, restored);
  ASSERT_TRUE(not_born.ok());
  EXPECT_TRUE((*not_born)->replica().rejoining());
}

}  // namespace
}  // namespace meridian

namespace meridian {
namespace {

// Peer input the node checks before the replica sees it (src/replica/peer_input.h): a message
// from no region of the cluster, and a quorum-read answer whose vector names one (it would become
// the client's session token). Refused, counted, and the read still completes with the real
// answer.
TEST(RegionNodeTest, InvalidPeerInputIsRefusedAndCounted) {
  Pair pair(WalSync::kEveryCommit);
  pair.Link(true);
  pair.Settle();
  pb::PeerMessage from_nowhere;
  from_nowhere.set_from(5);
  from_nowhere.mutable_ack();
  NodeOutput ignored;
  pair.at(0).OnPeerMessage(5, from_nowhere, pair.now(), &ignored);
  EXPECT_EQ(pair.at(0).stats().peer_messages_refused, 1u);

  pair.Command(0, 1,
               ReadCommand{{DataClass::kCounter, "likes"}, std::nullopt, Consistency::kQuorum});
  pb::PeerMessage forged;
  forged.set_from(1);
  pb::ReadReply* reply = forged.mutable_read_reply();
  reply->set_id(1);  // the node's first quorum read
  reply->mutable_applied()->add_regions(5);
  reply->mutable_applied()->add_values(9);
  NodeOutput out;
  pair.at(0).OnPeerMessage(1, forged, pair.now(), &out);
  pair.Take(0, std::move(out));
  EXPECT_EQ(pair.at(0).stats().read_replies_refused, 1u);
  EXPECT_EQ(pair.reply(1), nullptr);
  pair.Settle(5);
  ASSERT_NE(pair.reply(1), nullptr);
  const auto* result = std::get_if<ReadResult>(&pair.reply(1)->result);
  ASSERT_NE(result, nullptr);
  EXPECT_EQ(result->applied.Get(5), 0u);
}

}  // namespace
}  // namespace meridian

namespace meridian {
namespace {

// Keys of a scan page, as "class/key".
std::vector<std::string> ScanKeys(const NodeReply* reply) {
  std::vector<std::string> keys;
  if (reply == nullptr) return {"<no reply>"};
  const auto* page = std::get_if<ScanResult>(&reply->result);
  if (page == nullptr) return {"<not a page>"};
  for (const auto& [key, state] : page->entries)
    keys.push_back(std::string(DataClassName(key.data_class)) + "/" + key.key);
  return keys;
}

// Scans: key order, prefix, pages that resume after their cursor, deleted keys left out, every
// class in class order, and a page showing an undurable write held like a read of it.
TEST(RegionNodeScanTest, PagesThroughPresentKeysByPrefixInOrder) {
  Pair pair(WalSync::kEveryCommit);
  pair.Link(true);
  pair.Settle();
  RequestId id = 1;
  for (const char* key : {"user:3", "user:1", "user:2", "other", "user:4"})
    pair.Command(0, id++, WriteCommand{Incr(key)});
  pair.Command(0, id++,
               WriteCommand{ClientWrite{{DataClass::kCounter, "user:2"}, "", KeyDelete{}}});
  pair.Command(0, id++,
               WriteCommand{ClientWrite{{DataClass::kRegister, "user:0"}, "", std::string("v")}});
  pair.Persist(0, /*sync=*/true);

  pair.Command(0, 100, ScanCommand{DataClass::kCounter, "user:", std::nullopt, 2});
  EXPECT_EQ(ScanKeys(pair.reply(100)),
            (std::vector<std::string>{"counter/user:1", "counter/user:3"}));
  const auto& first = std::get<ScanResult>(pair.reply(100)->result);
  ASSERT_TRUE(first.next.has_value());
  pair.Command(0, 101, ScanCommand{DataClass::kCounter, "user:", first.next, 2});
  EXPECT_EQ(ScanKeys(pair.reply(101)), (std::vector<std::string>{"counter/user:4"}));
  EXPECT_FALSE(std::get<ScanResult>(pair.reply(101)->result).next.has_value());

  // Every class, in class order (profile, counter, tags, register), with the prefix.
  pair.Command(0, 102, ScanCommand{std::nullopt, "user:", std::nullopt, 10});
  EXPECT_EQ(ScanKeys(pair.reply(102)),
            (std::vector<std::string>{"counter/user:1", "counter/user:3", "counter/user:4",
                                      "register/user:0"}));
  pair.Command(0, 103, ScanCommand{DataClass::kCounter, "", std::nullopt, 0});
  ASSERT_NE(pair.reply(103), nullptr);
  EXPECT_TRUE(std::holds_alternative<Status>(pair.reply(103)->result)) << "limit 0 is refused";

  // A page showing a write not yet synced waits for the sync, as a read of that key does.
  pair.Command(0, id++, WriteCommand{Incr("user:5")});
  pair.Command(0, 104, ScanCommand{DataClass::kCounter, "user:5", std::nullopt, 10});
  EXPECT_EQ(pair.reply(104), nullptr);
  pair.Persist(0, /*sync=*/true);
  EXPECT_EQ(ScanKeys(pair.reply(104)), (std::vector<std::string>{"counter/user:5"}));
}

}  // namespace
}  // namespace meridian
