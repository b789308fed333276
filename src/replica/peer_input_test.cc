// One test per rule of peer_input.h: a peer's message that breaks it is refused and counted by
// reason, and changes nothing; correct traffic (relays included) still passes. Each hostile
// message is a real one from a peer replica, edited the way a buggy or malicious peer could.
#include "replica/peer_input.h"

#include <gtest/gtest.h>

#include "clock/clock_codec.h"
#include "replica/key_state.h"
#include "replica/replica.h"
#include "replica/storage_keys.h"

namespace meridian {
namespace {

constexpr uint64_t kNow = 1'000'000;

ReplicaOptions Options(RegionId self, Topology topology = Topology::kMesh) {
  ReplicaOptions o;
  o.self = self;
  o.region_count = 3;
  o.topology = topology;
  return o;
}

uint64_t Refused(const Replica& r, PeerRefusal reason) {
  return r.stats().refused[static_cast<size_t>(reason)];
}

// The op batch region `writer` sends to `to` for one write.
pb::PeerMessage BatchFor(Replica& writer, RegionId to, const ClientWrite& write) {
  Output out;
  EXPECT_TRUE(writer.OnClientWrite(write, kNow, &out).ok());
  for (auto& [dest, m] : out.messages) {
    if (dest == to && m.has_ops()) return m;
  }
  ADD_FAILURE() << "no op batch to region " << to;
  return {};
}

ClientWrite Incr(const std::string& key, int64_t by) {
  return {{DataClass::kCounter, key}, "", by};
}

// Delivers `m` from `from` to `to`; returns how many ops it applied.
size_t Deliver(Replica& to, RegionId from, const pb::PeerMessage& m) {
  Output out;
  to.OnMessage(from, m, kNow, &out);
  return out.applied.size();
}

class PeerInputTest : public ::testing::Test {
 protected:
  Replica self_{Options(0)};
  Replica peer_{Options(1)};
};

TEST_F(PeerInputTest, CorrectTrafficIsApplied) {
  EXPECT_EQ(Deliver(self_, 1, BatchFor(peer_, 0, Incr("c", 2))), 1u);
  EXPECT_EQ(self_.stats().malformed_messages, 0u);
}

TEST_F(PeerInputTest, Rule1EnvelopeMustNameTheAuthenticatedPeer) {
  pb::PeerMessage m = BatchFor(peer_, 0, Incr("c", 2));
  EXPECT_EQ(Deliver(self_, 2, m), 0u);  // says region 1, the transport says 2
  EXPECT_EQ(Refused(self_, PeerRefusal::kEnvelope), 1u);
  // Hub topology: spokes 1 and 2 are not neighbours; a spoke's message to another is refused.
  Replica spoke(Options(2, Topology::kHub));
  pb::PeerMessage direct;
  direct.set_from(1);
  direct.mutable_ops();
  EXPECT_EQ(Deliver(spoke, 1, direct), 0u);
  EXPECT_EQ(Refused(spoke, PeerRefusal::kEnvelope), 1u);
}

TEST_F(PeerInputTest, Rule2VectorsNameOnlyRegionsOfTheCluster) {
  pb::PeerMessage m = BatchFor(peer_, 0, Incr("c", 2));
  pb::VersionVector* deps = m.mutable_ops()->mutable_ops(0)->mutable_deps();
  deps->add_regions(5);  // a region a 3-region cluster does not have
  deps->add_values(1);
  EXPECT_EQ(Deliver(self_, 1, m), 0u);
  EXPECT_EQ(Refused(self_, PeerRefusal::kVector), 1u);
  EXPECT_EQ(self_.applied().Get(5), 0u);

  pb::PeerMessage ack;
  ack.set_from(1);
  ack.mutable_ack()->mutable_applied()->add_regions(7);
  ack.mutable_ack()->mutable_applied()->add_values(3);
  Deliver(self_, 1, ack);
  EXPECT_EQ(Refused(self_, PeerRefusal::kVector), 2u);
}

TEST_F(PeerInputTest, Rule3NoOpUnderOurNameOrNoRegionsName) {
  for (uint32_t origin : {0u, 4u}) {  // ours; a region the cluster does not have
    Replica self(Options(0));
    Replica peer(Options(1));
    pb::PeerMessage m = BatchFor(peer, 0, Incr("c", 2));
    pb::Op* op = m.mutable_ops()->mutable_ops(0);
    op->mutable_dot()->set_origin(origin);
    op->mutable_stamp()->set_region(origin);
    pb::VersionVector deps;  // deps[origin] == seq - 1 == 0: only the origin differs
    *op->mutable_deps() = deps;
    EXPECT_EQ(Deliver(self, 1, m), 0u) << origin;
    EXPECT_EQ(Refused(self, PeerRefusal::kOpOrigin), 1u) << origin;
    EXPECT_EQ(self.applied().Get(0), 0u);
  }
}

TEST_F(PeerInputTest, Rule3CompensationOfAnotherRegionsWriteIsRefused) {
  pb::PeerMessage m = BatchFor(peer_, 0, Incr("c", 2));
  pb::Op* op = m.mutable_ops()->mutable_ops(0);
  op->mutable_compensates()->set_origin(2);  // region 1 cancelling a write of region 2
  op->mutable_compensates()->set_seq(1);
  EXPECT_EQ(Deliver(self_, 1, m), 0u);
  EXPECT_EQ(Refused(self_, PeerRefusal::kOpOrigin), 1u);
}

TEST_F(PeerInputTest, Rule3KeysAndValuesWithinTheApiBounds) {
  pb::PeerMessage m = BatchFor(peer_, 0, Incr("c", 2));
  m.mutable_ops()->mutable_ops(0)->set_key(std::string(kPeerKeyBytesMax + 1, 'k'));
  EXPECT_EQ(Deliver(self_, 1, m), 0u);
  pb::PeerMessage idem = BatchFor(peer_, 0, Incr("d", 2));
  idem.mutable_ops()->mutable_ops(0)->set_idempotency_key(
      std::string(kPeerIdempotencyKeyBytesMax + 1, 'i'));
  EXPECT_EQ(Deliver(self_, 1, idem), 0u);
  pb::PeerMessage value = BatchFor(peer_, 0, {{DataClass::kRegister, "r"}, "", std::string("v")});
  value.mutable_ops()->mutable_ops(0)->mutable_register_()->set_value(
      std::string(kPeerValueBytesMax + 1, 'v'));
  EXPECT_EQ(Deliver(self_, 1, value), 0u);
  EXPECT_EQ(Refused(self_, PeerRefusal::kOp), 3u);
}

// The CRDTs assert their causal-delivery preconditions; a peer's op must not reach them broken.
TEST_F(PeerInputTest, Rule3PerKeyDotsFollowTheOrigin) {
  pb::PeerMessage skip = BatchFor(peer_, 0, {{DataClass::kTags, "t"}, "", TagsWrite{{"a"}, {}}});
  skip.mutable_ops()->mutable_ops(0)->mutable_tags()->mutable_ops(0)->mutable_dot()->set_seq(9);
  EXPECT_EQ(Deliver(self_, 1, skip), 0u);  // skips the key's dots 1..8 of region 1

  Replica peer(Options(1));
  pb::PeerMessage other = BatchFor(peer, 0, {{DataClass::kTags, "t"}, "", TagsWrite{{"a"}, {}}});
  other.mutable_ops()->mutable_ops(0)->mutable_tags()->mutable_ops(0)->mutable_dot()->set_origin(
      2);  // region 1's op adding under region 2's per-key dot
  Replica self(Options(0));
  EXPECT_EQ(Deliver(self, 1, other), 0u);
  EXPECT_EQ(Refused(self, PeerRefusal::kOp), 1u);

  Replica peer2(Options(1));
  pb::PeerMessage observed =
      BatchFor(peer2, 0, {{DataClass::kRegister, "r"}, "", std::string("v")});
  pb::Dot* unseen = observed.mutable_ops()->mutable_ops(0)->mutable_register_()->add_observed();
  unseen->set_origin(2);  // a sibling this region never received
  unseen->set_seq(4);
  Replica self2(Options(0));
  EXPECT_EQ(Deliver(self2, 1, observed), 0u);
  EXPECT_EQ(Refused(self2, PeerRefusal::kOp), 1u);
  EXPECT_EQ(Refused(self_, PeerRefusal::kOp), 1u);
}

TEST_F(PeerInputTest, Rule3CounterTotalsStayInBounds) {
  // An op with a total raises the origin's total to it (here: the bound); an op without one
  // (the old format) adds its delta, which would pass the bound PnCounter::Apply asserts.
  pb::PeerMessage at_bound = BatchFor(peer_, 0, Incr("c", 1));
  pb::Op* first = at_bound.mutable_ops()->mutable_ops(0);
  first->set_counter_total(UINT64_MAX);
  first->set_counter_total_high((uint64_t{1} << 60) - 1);  // 2^124 - 1, PnCounter::kTotalMax
  EXPECT_EQ(Deliver(self_, 1, at_bound), 1u);
  pb::PeerMessage past = BatchFor(peer_, 0, Incr("c", 1));
  past.mutable_ops()->mutable_ops(0)->clear_counter_total();
  EXPECT_EQ(Deliver(self_, 1, past), 0u);
  EXPECT_EQ(Refused(self_, PeerRefusal::kOp), 1u);
}

TEST_F(PeerInputTest, Rule4BatchesWithinTheSendersBound) {
  ReplicaOptions o = Options(1);
  Replica peer(o);
  pb::PeerMessage m;
  m.set_from(1);
  for (size_t i = 0; i <= o.max_batch_ops; ++i) {
    pb::PeerMessage one = BatchFor(peer, 0, Incr("c", 1));
    m.mutable_ops()->add_ops()->CopyFrom(one.ops().ops(0));
  }
  EXPECT_EQ(Deliver(self_, 1, m), 0u);
  EXPECT_EQ(Refused(self_, PeerRefusal::kBatch), 1u);
}

TEST_F(PeerInputTest, Rule5NoClaimOfOurOwnOpsWeNeverMade) {
  pb::PeerMessage ack;
  ack.set_from(1);
  VersionVector claim;
  claim.Set(0, 5);  // five ops of region 0, which has made none
  Encode(claim, ack.mutable_ack()->mutable_applied());
  ack.mutable_ack()->set_your_incarnation(self_.incarnation());
  Deliver(self_, 1, ack);
  EXPECT_EQ(Refused(self_, PeerRefusal::kOwnOpsClaim), 1u);
  EXPECT_EQ(self_.catch_up().target.Get(0), 0u);  // not a catch-up target it could never reach

  pb::PeerMessage chunk;
  chunk.set_from(1);
  chunk.mutable_snapshot()->set_transfer_id(1);
  chunk.mutable_snapshot()->set_last(true);
  Encode(claim, chunk.mutable_snapshot()->mutable_applied());
  Deliver(self_, 1, chunk);
  EXPECT_EQ(Refused(self_, PeerRefusal::kSnapshot), 1u);
  EXPECT_EQ(self_.applied().Get(0), 0u);
}

TEST_F(PeerInputTest, Rule6ChunksWithKeysOutsideTheBoundsAreRefused) {
  pb::PeerMessage chunk;
  chunk.set_from(1);
  chunk.mutable_snapshot()->set_transfer_id(1);
  chunk.mutable_snapshot()->set_last(true);
  auto* entry = chunk.mutable_snapshot()->add_entries();
  const StateKey key{DataClass::kCounter, std::string(kPeerKeyBytesMax + 1, 'k')};
  entry->set_storage_key(storage_keys::State(key));
  EncodeState(EmptyState(DataClass::kCounter), entry->mutable_state());  // a valid state
  Deliver(self_, 1, chunk);
  EXPECT_EQ(Refused(self_, PeerRefusal::kSnapshot), 1u);
  EXPECT_EQ(self_.key_count(), 0u);
}

TEST_F(PeerInputTest, QuorumReadRequestsNameAClassAndABoundedKey) {
  pb::PeerMessage m;
  m.set_from(1);
  m.mutable_read_request()->set_data_class(2);
  m.mutable_read_request()->set_key(std::string(kPeerKeyBytesMax + 1, 'k'));
  Output out;
  self_.OnMessage(1, m, kNow, &out);
  EXPECT_TRUE(out.messages.empty());
  EXPECT_EQ(Refused(self_, PeerRefusal::kReadRequest), 1u);
}

// Relaying is legitimate: a mesh neighbour relays a third region's op, a hub relays every
// spoke's. Neither is refused.
TEST_F(PeerInputTest, RelaysOfThirdOriginsAreAccepted) {
  Replica origin(Options(2));
  pb::PeerMessage m = BatchFor(origin, 0, Incr("c", 2));
  m.set_from(1);  // region 1 relays region 2's op
  EXPECT_EQ(Deliver(self_, 1, m), 1u);
  Replica spoke(Options(2, Topology::kHub));
  Replica other_spoke(Options(1, Topology::kHub));
  pb::PeerMessage via_hub = BatchFor(other_spoke, 0, Incr("c", 3));
  via_hub.set_from(0);  // the hub (region 0) relays spoke 1's op to spoke 2
  EXPECT_EQ(Deliver(spoke, 0, via_hub), 1u);
  EXPECT_EQ(self_.stats().malformed_messages + spoke.stats().malformed_messages, 0u);
}

}  // namespace
}  // namespace meridian
