// Regions that lose their storage, and state transfer: incarnations, the rejoin wait, the
// streamed transfer's window, budget, resumption and consistent snapshot (replica.h, invariants
// 7-9). The simulator checks the same under random faults; these pin each rule down alone.
#include <gtest/gtest.h>

#include <deque>
#include <memory>

#include "clock/clock_codec.h"
#include "replica/op_codec.h"
#include "replica/replica.h"
#include "replica/storage_keys.h"
#include "store/memory_storage.h"

namespace meridian {
namespace {

ClientWrite Incr(const std::string& key, int64_t by) {
  return ClientWrite{{DataClass::kCounter, key}, "", by};
}

int64_t CounterValue(const Replica& r, const std::string& key) {
  auto state = r.Read({DataClass::kCounter, key}).state;
  return state ? *std::get<PnCounter>(*state).Value() : 0;
}

// A few regions with disks and an in-order network that the test drives step by step.
class Cluster {
 public:
  explicit Cluster(RegionId regions, ReplicaOptions base = {}) : base_(base) {
    for (RegionId r = 0; r < regions; ++r)
      nodes_.push_back({std::make_unique<MemoryStorage>(), nullptr});
    for (RegionId r = 0; r < regions; ++r)
      nodes_[r].replica = std::make_unique<Replica>(OptionsFor(r, 1));
  }

  Replica& at(RegionId r) { return *nodes_[r].replica; }
  const MemoryStorage& disk(RegionId r) const { return *nodes_[r].disk; }

  ReplicaOptions OptionsFor(RegionId r, uint64_t incarnation) const {
    ReplicaOptions o = base_;
    o.self = r;
    o.region_count = static_cast<RegionId>(nodes_.size());
    o.incarnation = incarnation;
    return o;
  }

  void Commit(RegionId r, Output& out) {
    ASSERT_TRUE(nodes_[r].disk->Write(out.records).ok());
    for (auto& [to, m] : out.messages) {
      if (cut_ == r || cut_ == to) continue;
      in_flight_.push_back({r, to, std::move(m)});
    }
    out = Output{};
  }

  Result<WriteReply> Write(RegionId r, const ClientWrite& w) {
    Output out;
    auto reply = at(r).OnClientWrite(w, now_, &out);
    Commit(r, out);
    return reply;
  }

  // Delivers what is in flight now (not what that produces), in order.
  size_t DeliverAll() {
    std::deque<Message> batch;
    batch.swap(in_flight_);
    for (auto& [from, to, m] : batch) {
      Output out;
      at(to).OnMessage(from, m, now_, &out);
      Commit(to, out);
    }
    return batch.size();
  }

  void Tick() {
    now_ += 10;
    for (RegionId r = 0; r < nodes_.size(); ++r) {
      Output out;
      at(r).Tick(now_, &out);
      Commit(r, out);
    }
  }

  // Ticks and delivers until `done` holds; false after `max_ticks`.
  template <typename Pred>
  bool RunUntil(Pred done, int max_ticks = 5000) {
    for (int i = 0; i < max_ticks; ++i) {
      if (done()) return true;
      DeliverAll();
      Tick();
    }
    return done();
  }

  // The region restarts on empty storage (a replaced disk) with a new incarnation.
  void Wipe(RegionId r, uint64_t incarnation) {
    std::erase_if(in_flight_, [r](const Message& m) { return m.from == r || m.to == r; });
    nodes_[r].disk = std::make_unique<MemoryStorage>();
    auto recovered = Replica::Recover(OptionsFor(r, incarnation), *nodes_[r].disk);
    ASSERT_TRUE(recovered.ok());
    nodes_[r].replica = std::move(recovered).value();
    Reconnect(r);
  }

  // The region restarts on `contents` (its disk as a crash left it, or as the test edited it),
  // keeping `incarnation` (the one on that disk); its messages in flight are lost.
  void RestartOn(RegionId r, MemoryStorage::Contents contents, uint64_t incarnation) {
    nodes_[r].disk = std::make_unique<MemoryStorage>(std::move(contents));
    auto recovered = Replica::Recover(OptionsFor(r, incarnation), *nodes_[r].disk);
    ASSERT_TRUE(recovered.ok()) << recovered.status().ToString();
    nodes_[r].replica = std::move(recovered).value();
    Reconnect(r);
  }

  // A new connection between `r` and every other region (messages in flight are lost).
  void Reconnect(RegionId r) {
    std::erase_if(in_flight_, [r](const Message& m) { return m.from == r || m.to == r; });
    for (RegionId p = 0; p < nodes_.size(); ++p) {
      if (p == r) continue;
      for (auto [x, y] : {std::pair{r, p}, std::pair{p, r}}) {
        Output out;
        at(x).OnPeerConnected(y, &out);
        Commit(x, out);
      }
    }
  }

  struct Message {
    RegionId from, to;
    pb::PeerMessage m;
  };
  std::deque<Message>& in_flight() { return in_flight_; }
  // Cuts region `r` off for `ticks` ticks, then reconnects it: the others' logs move on.
  void CutOff(RegionId r, int ticks, const std::function<void()>& meanwhile) {
    cut_ = r;
    std::erase_if(in_flight_, [r](const Message& m) { return m.from == r || m.to == r; });
    meanwhile();
    for (int i = 0; i < ticks; ++i) {
      DeliverAll();
      Tick();
    }
    cut_.reset();
    Reconnect(r);
  }

 private:
  struct Node {
    std::unique_ptr<MemoryStorage> disk;
    std::unique_ptr<Replica> replica;
  };
  ReplicaOptions base_;
  std::vector<Node> nodes_;
  std::deque<Message> in_flight_;
  std::optional<RegionId> cut_;
  uint64_t now_ = 1'000'000;
};

bool Converged(Cluster& c, RegionId regions) {
  for (RegionId r = 1; r < regions; ++r) {
    if (!(c.at(r).applied() == c.at(0).applied())) return false;
  }
  return true;
}

TEST(RejoinTest, WipedRegionRejoinsWithEveryKeyAndNeverReusesItsSequenceNumbers) {
  Cluster c(2);
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(c.Write(0, Incr("a" + std::to_string(i), 1)).ok());
    ASSERT_TRUE(c.Write(1, Incr("b" + std::to_string(i), 2)).ok());
  }
  ASSERT_TRUE(c.RunUntil([&] { return Converged(c, 2) && c.at(0).oplog_size() == 0; }))
      << c.at(0).applied().ToString() << " " << c.at(1).applied().ToString() << " oplog "
      << c.at(0).oplog_size();
  const VersionVector before = c.at(0).applied();

  c.Wipe(1, /*incarnation=*/2);
  EXPECT_TRUE(c.at(1).rejoining());
  EXPECT_FALSE(c.at(1).catch_up().caught_up);
  // Before it holds its own 50 ops again, a write would reuse sequence number 1.
  auto refused = c.Write(1, Incr("b0", 1));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);

  ASSERT_TRUE(c.RunUntil([&] { return !c.at(1).rejoining() && Converged(c, 2); }));
  EXPECT_TRUE(c.at(1).catch_up().caught_up);
  EXPECT_EQ(c.at(1).applied(), before);
  EXPECT_EQ(c.at(0).stats().peer_incarnation_changes, 1u);
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(CounterValue(c.at(1), "a" + std::to_string(i)), 1);
    EXPECT_EQ(CounterValue(c.at(1), "b" + std::to_string(i)), 2);
  }
  auto next = c.Write(1, Incr("b0", 1));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->dot, (Dot{1, 51}));
  ASSERT_TRUE(c.RunUntil([&] { return CounterValue(c.at(0), "b0") == 3; }));
}

TEST(RejoinTest, WithAcksThatNeverGoBackTheWipedRegionStaysEmpty) {
  ReplicaOptions buggy;
  buggy.bugs.acks_never_go_backwards = true;
  Cluster c(2, buggy);
  for (int i = 0; i < 20; ++i)
    ASSERT_TRUE(c.Write(0, Incr("a" + std::to_string(i), 1)).ok());
  ASSERT_TRUE(c.RunUntil([&] { return Converged(c, 2) && c.at(0).oplog_size() == 0; }));
  c.Wipe(1, 2);
  EXPECT_FALSE(c.RunUntil([&] { return Converged(c, 2); }, 1000));
  EXPECT_EQ(CounterValue(c.at(1), "a0"), 0);
}

TEST(RejoinTest, RejoinWaitSurvivesARestart) {
  Cluster c(2);
  ASSERT_TRUE(c.Write(1, Incr("b", 1)).ok());
  ASSERT_TRUE(c.RunUntil([&] { return Converged(c, 2); }));
  c.Wipe(1, 2);
  c.Tick();  // the first step persists the new incarnation and the rejoin mark
  // It restarts before hearing from anyone: still rejoining, and still incarnation 2.
  auto recovered = Replica::Recover(c.OptionsFor(1, 3), MemoryStorage(c.disk(1).DurableContents()));
  ASSERT_TRUE(recovered.ok());
  EXPECT_TRUE((*recovered)->rejoining());
  EXPECT_EQ((*recovered)->incarnation(), 2u);
  // Once rejoined, a restart keeps the incarnation and does not wait again.
  ASSERT_TRUE(c.RunUntil([&] { return !c.at(1).rejoining() && Converged(c, 2); }));
  c.Tick();
  auto again = Replica::Recover(c.OptionsFor(1, 4), MemoryStorage(c.disk(1).DurableContents()));
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE((*again)->rejoining());
  EXPECT_EQ((*again)->incarnation(), 2u);
}

TEST(RejoinTest, StateTransferStreamsWithinItsWindowAndBudget) {
  ReplicaOptions o;
  o.oplog_retention_ops = 100;  // the peer falls behind the log: transfer
  o.snapshot_chunk_keys = 50;
  o.snapshot_window_chunks = 3;
  o.snapshot_chunks_per_tick = 2;
  Cluster c(2, o);
  c.CutOff(1, 50, [&] {  // while 0 takes 2 000 writes and truncates its log
    for (int i = 0; i < 2000; ++i)
      ASSERT_TRUE(c.Write(0, Incr("k" + std::to_string(i), 1)).ok());
  });
  size_t max_in_flight = 0;  // chunks sent by 0 and not yet delivered
  bool done = false;
  for (int tick = 0; tick < 3000 && !done; ++tick) {
    size_t chunks = 0;
    for (const auto& m : c.in_flight())
      chunks += m.m.has_snapshot() ? 1 : 0;
    max_in_flight = std::max(max_in_flight, chunks);
    c.DeliverAll();
    c.Tick();
    done = Converged(c, 2);
  }
  ASSERT_TRUE(done);
  EXPECT_GE(c.at(0).stats().snapshot_chunks_sent, 2000u / 50);
  EXPECT_LE(max_in_flight, o.snapshot_window_chunks);
  EXPECT_EQ(c.at(1).stats().snapshots_applied, 1u);
  for (int i = 0; i < 2000; i += 97)
    EXPECT_EQ(CounterValue(c.at(1), "k" + std::to_string(i)), 1);
}

// A peer reported down gets no transfer until it is back: its chunks would be lost, and the
// transfer would keep the old state of every key written meanwhile. Without the report (the
// control) the sender begins one as soon as its log drops what the peer lacks.
TEST(RejoinTest, NoTransferBeginsToAPeerWhoseLinkIsDown) {
  for (const bool reported : {false, true}) {
    ReplicaOptions o;
    o.oplog_retention_ops = 100;
    Cluster c(2, o);
    for (int i = 0; i < 20; ++i) {  // acks both ways: each knows what the other holds
      c.DeliverAll();
      c.Tick();
    }
    uint64_t begun_while_down = 0;
    c.CutOff(1, 0, [&] {
      if (reported) c.at(0).OnPeerDisconnected(1);
      for (int i = 0; i < 500; ++i)
        ASSERT_TRUE(c.Write(0, Incr("k" + std::to_string(i), 1)).ok());
      for (int i = 0; i < 50; ++i) {
        c.DeliverAll();
        c.Tick();
      }
      begun_while_down = c.at(0).stats().snapshots_sent;
    });
    EXPECT_EQ(begun_while_down, reported ? 0u : 1u) << "reported down: " << reported;
    ASSERT_TRUE(c.RunUntil([&] { return Converged(c, 2); }));
    EXPECT_EQ(c.at(1).stats().snapshots_applied, 1u);
    EXPECT_EQ(CounterValue(c.at(1), "k499"), 1);
  }
}

// The receiver merged a whole transfer, its last acknowledgement was lost, and a late duplicate
// of the first chunk arrived: taken for the start of a new transfer, it made the receiver answer
// "only chunk 0" to every resend of the last chunk, so the sender resent it forever and sent no
// op again (the simulator found it). A duplicate of a finished transfer is answered "all applied".
TEST(RejoinTest, ALateDuplicateOfAFinishedTransfersFirstChunkDoesNotStallTheSender) {
  ReplicaOptions o;
  o.oplog_retention_ops = 10;
  o.snapshot_chunk_keys = 10;
  Cluster c(2, o);
  c.CutOff(1, 50, [&] {
    for (int i = 0; i < 50; ++i)
      ASSERT_TRUE(c.Write(0, Incr("k" + std::to_string(i), 1)).ok());
  });
  std::optional<pb::PeerMessage> first_chunk;
  bool last_sent = false;
  for (int tick = 0; tick < 3000 && !last_sent; ++tick) {
    for (const auto& m : c.in_flight()) {
      if (!m.m.has_snapshot()) continue;
      if (m.m.snapshot().index() == 0 && !first_chunk) first_chunk = m.m;
      last_sent = last_sent || m.m.snapshot().last();
    }
    if (!last_sent) {
      c.DeliverAll();
      c.Tick();
    }
  }
  ASSERT_TRUE(first_chunk && last_sent);
  c.DeliverAll();  // the receiver merges the last chunk and acknowledges it...
  std::erase_if(c.in_flight(), [](const auto& m) { return m.m.has_snapshot_ack(); });  // lost
  c.in_flight().push_back({0, 1, *first_chunk});  // ... and a duplicate of chunk 0 arrives
  ASSERT_TRUE(c.Write(0, Incr("late", 1)).ok());
  EXPECT_TRUE(c.RunUntil([&] { return Converged(c, 2) && CounterValue(c.at(1), "late") == 1; }));
  EXPECT_EQ(c.at(1).stats().snapshots_applied, 1u);
}

// A straggler of an older transfer's first chunk arrives in the middle of a newer transfer from
// the same sender, then a duplicate of the newer one's first chunk: taken for new transfers, they
// restarted the newer one at chunk 1, and the receiver answered every later chunk as a gap while
// the sender waited past what it had already been acknowledged (the simulator found it).
TEST(RejoinTest, AStragglerOfAnOlderTransferDoesNotReplaceTheNewerOne) {
  ReplicaOptions o;
  o.oplog_retention_ops = 10;
  o.snapshot_chunk_keys = 10;
  Cluster c(2, o);
  c.CutOff(1, 50, [&] {
    for (int i = 0; i < 200; ++i)
      ASSERT_TRUE(c.Write(0, Incr("k" + std::to_string(i), 1)).ok());
  });
  std::optional<pb::PeerMessage> old_first_chunk;
  ASSERT_TRUE(c.RunUntil([&] {
    for (const auto& m : c.in_flight()) {
      if (m.m.has_snapshot() && m.m.snapshot().index() == 0) old_first_chunk = m.m;
    }
    return old_first_chunk.has_value();
  }));
  c.Wipe(1, 2);  // its new incarnation gets a new transfer
  std::optional<pb::PeerMessage> new_first_chunk;
  ASSERT_TRUE(c.RunUntil([&] {
    for (const auto& m : c.in_flight()) {
      if (m.m.has_snapshot() && m.m.snapshot().index() == 0 &&
          m.m.snapshot().transfer_id() > old_first_chunk->snapshot().transfer_id()) {
        new_first_chunk = m.m;
      }
    }
    auto in = c.at(1).catch_up().inbound;
    return new_first_chunk && in && in->keys_done >= 30;
  }));
  c.in_flight().push_back({0, 1, *old_first_chunk});
  c.in_flight().push_back({0, 1, *new_first_chunk});
  EXPECT_TRUE(c.RunUntil([&] { return Converged(c, 2) && CounterValue(c.at(1), "k199") == 1; }));
}

TEST(RejoinTest, TransferResumesFromTheLastAcknowledgedChunkAfterAReconnect) {
  ReplicaOptions o;
  o.oplog_retention_ops = 10;
  o.snapshot_chunk_keys = 10;
  Cluster c(2, o);
  c.CutOff(1, 50, [&] {
    for (int i = 0; i < 500; ++i)
      ASSERT_TRUE(c.Write(0, Incr("k" + std::to_string(i), 1)).ok());
  });
  // Run until half the keys arrived, then cut the link (everything in flight is lost).
  ASSERT_TRUE(c.RunUntil([&] {
    auto in = c.at(1).catch_up().inbound;
    return in && in->keys_done >= 250;
  }));
  c.Reconnect(1);
  ASSERT_TRUE(c.RunUntil([&] { return Converged(c, 2); }));
  EXPECT_EQ(c.at(0).stats().snapshots_sent, 1u);  // resumed, not started over
  EXPECT_EQ(c.at(1).stats().snapshots_applied, 1u);
  EXPECT_LT(c.at(0).stats().snapshot_chunks_sent, 500u / 10 + 10);
  EXPECT_EQ(CounterValue(c.at(1), "k499"), 1);
}

TEST(RejoinTest, ATransferShowsTheStateAtItsBaseAndLaterOpsFollowIt) {
  ReplicaOptions o;
  o.oplog_retention_ops = 10;
  o.snapshot_chunk_keys = 10;
  o.snapshot_chunks_per_tick = 1;
  Cluster c(2, o);
  c.CutOff(1, 50, [&] {
    for (int i = 0; i < 100; ++i)
      ASSERT_TRUE(c.Write(0, Incr("k" + std::to_string(i), 1)).ok());
  });
  // Start the transfer, then change a key it has not reached yet.
  ASSERT_TRUE(c.RunUntil([&] { return c.at(0).catch_up().outbound.size() == 1; }));
  ASSERT_TRUE(c.Write(0, Incr("k99", 100)).ok());
  bool saw_base_state = false;
  ASSERT_TRUE(c.RunUntil([&] {
    // Once the transfer is merged, k99 shows the base's 1 until the op itself arrives.
    if (c.at(1).stats().snapshots_applied == 1 && CounterValue(c.at(1), "k99") == 1 &&
        !c.at(1).applied().Covers(Dot{0, 101})) {
      saw_base_state = true;
    }
    return Converged(c, 2);
  }));
  EXPECT_EQ(CounterValue(c.at(1), "k99"), 101);
  EXPECT_TRUE(c.at(1).applied().Covers(Dot{0, 101}));
  EXPECT_TRUE(saw_base_state);
}

TEST(RejoinTest, ARegionTakesOneTransferAtATimeAndDeclinesTheOthers) {
  ReplicaOptions o;
  o.oplog_retention_ops = 10;
  o.snapshot_chunk_keys = 5;  // long transfers, so that the two peers' offers overlap
  Cluster c(3, o);
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(c.Write(0, Incr("a" + std::to_string(i), 1)).ok());
    ASSERT_TRUE(c.Write(1, Incr("b" + std::to_string(i), 1)).ok());
  }
  ASSERT_TRUE(c.RunUntil([&] { return Converged(c, 3) && c.at(0).oplog_size() == 0; }));
  c.Wipe(2, 2);
  ASSERT_TRUE(c.RunUntil([&] { return !c.at(2).rejoining() && Converged(c, 3); }));
  // Both peers offer a transfer (each holds ops the other's log no longer has); the second waits.
  EXPECT_GE(c.at(2).stats().snapshot_declined, 1u);
  EXPECT_GE(c.at(2).stats().snapshots_applied, 1u);
  EXPECT_EQ(CounterValue(c.at(2), "a199") + CounterValue(c.at(2), "b199"), 2);
}

TEST(RejoinTest, MalformedChunksAreCountedAndChangeNothing) {
  Replica r([] {
    ReplicaOptions o;
    o.self = 1;
    o.region_count = 2;
    return o;
  }());
  pb::PeerMessage m;
  m.set_from(0);
  auto* chunk = m.mutable_snapshot();
  chunk->set_transfer_id(1);
  chunk->set_last(true);
  chunk->add_entries()->set_storage_key("not a state key");
  Output out;
  r.OnMessage(0, m, 1000, &out);
  EXPECT_EQ(r.stats().malformed_messages, 1u);
  EXPECT_EQ(r.key_count(), 0u);
  EXPECT_TRUE(r.applied().IsZero());
}

}  // namespace
}  // namespace meridian

namespace meridian {
namespace {

pb::PeerMessage AckFrom(RegionId from, uint64_t incarnation, const VersionVector& applied,
                        bool rejoining) {
  pb::PeerMessage m;
  m.set_from(from);
  m.set_incarnation(incarnation);
  Encode(applied, m.mutable_ack()->mutable_applied());
  m.mutable_ack()->set_rejoining(rejoining);
  return m;
}

TEST(RejoinTest, ARejoiningPeersAcksDoNotMakeTombstonesStable) {
  // A region that lost its disk reports a vector below ops of its own that may still exist
  // elsewhere (a causal buffer): a tombstone collected on its word could let one of them, older
  // and concurrent, resurrect a deleted field. The simulator found it.
  ReplicaOptions o;
  o.self = 0;
  o.region_count = 3;
  Replica r0(o);
  Output out;
  const StateKey key{DataClass::kProfile, "p"};
  ASSERT_TRUE(r0.OnClientWrite({key, "", LwwMapOp{false, {{"email", "a"}}}}, 1'000'000, &out).ok());
  ASSERT_TRUE(
      r0.OnClientWrite({key, "", LwwMapOp{false, {{"email", std::nullopt}}}}, 1'000'001, &out)
          .ok());
  const VersionVector all = r0.applied();
  auto tick = [&](int n) {
    for (int i = 0; i < n; ++i) {
      Output step;
      r0.Tick(1'000'100 + i, &step);
    }
  };
  r0.OnMessage(1, AckFrom(1, 11, all, /*rejoining=*/true), 1'000'010, &out);
  r0.OnMessage(2, AckFrom(2, 12, all, /*rejoining=*/false), 1'000'010, &out);
  tick(50);
  EXPECT_EQ(r0.stats().garbage_collected, 0u) << "collected on a rejoining peer's word";
  r0.OnMessage(1, AckFrom(1, 11, all, /*rejoining=*/false), 1'000'200, &out);
  tick(50);
  EXPECT_EQ(r0.stats().garbage_collected, 1u) << "once it rejoined, the tombstone is stable";
}

// Scripted (it was the simulator's seed 1541): a state transfer was sent to a peer that crashed
// before taking it; the transfer was lost with the connection, and the sender never sent it (nor
// its ops) again, so the peer stayed behind. A restarted peer must be served again.
TEST(RejoinTest, ATransferLostToAPeerThatCrashedIsSentAgainAfterItsRestart) {
  Cluster c(2);
  for (int i = 0; i < 30; ++i)
    ASSERT_TRUE(c.Write(0, Incr("a" + std::to_string(i), 1)).ok());
  ASSERT_TRUE(c.RunUntil([&] { return Converged(c, 2) && c.at(0).oplog_size() == 0; }));
  const VersionVector before = c.at(0).applied();

  c.Wipe(1, /*incarnation=*/2);
  c.Tick();  // region 1 persists its new incarnation and asks to be served
  ASSERT_TRUE(c.RunUntil([&] { return c.at(0).stats().snapshot_chunks_sent > 0; }, 100));
  // Region 1 crashes with the transfer on its way: everything in flight to it is lost.
  std::erase_if(c.in_flight(), [](const Cluster::Message& m) { return m.to == 1; });
  c.RestartOn(1, c.disk(1).DurableContents(), 2);
  ASSERT_TRUE(c.RunUntil([&] { return !c.at(1).rejoining() && Converged(c, 2); }, 3000))
      << "region 1 applied " << c.at(1).applied().ToString();
  EXPECT_EQ(c.at(1).applied(), before);
  for (int i = 0; i < 30; ++i)
    EXPECT_EQ(CounterValue(c.at(1), "a" + std::to_string(i)), 1);
}

// Scripted (it was the simulator's seeds 116 and 150): a region met a peer's new incarnation and
// persisted it, but forgot the old incarnation's acknowledged cursor only in memory; it crashed
// before the next housekeeping and came back pairing the new incarnation with the old cursor, so
// it sent the rejoining peer nothing it believed that peer had: the peer never caught up.
TEST(RejoinTest, ARestartRightAfterMeetingANewIncarnationDoesNotResumeTheOldCursor) {
  Cluster c(2);
  for (int i = 0; i < 20; ++i)
    ASSERT_TRUE(c.Write(0, Incr("a" + std::to_string(i), 1)).ok());
  ASSERT_TRUE(c.RunUntil([&] { return Converged(c, 2) && c.at(0).oplog_size() == 0; }));
  for (int i = 0; i < 50; ++i) {  // housekeeping persists region 0's cursor for region 1
    c.DeliverAll();
    c.Tick();
  }
  const VersionVector before = c.at(0).applied();

  c.Wipe(1, /*incarnation=*/2);
  // Region 0 hears of incarnation 2 in a delivery step, then crashes before its next tick.
  for (int i = 0; i < 10 && c.at(0).stats().peer_incarnation_changes == 0; ++i) {
    c.Tick();
    c.DeliverAll();
  }
  ASSERT_EQ(c.at(0).stats().peer_incarnation_changes, 1u);
  c.RestartOn(0, c.disk(0).DurableContents(), 1);
  ASSERT_TRUE(c.RunUntil([&] { return !c.at(1).rejoining() && Converged(c, 2); }, 3000))
      << "region 1 applied " << c.at(1).applied().ToString();
  EXPECT_EQ(c.at(1).applied(), before);
}

// Scripted (it was the simulator's seed 962, hub topology): the hub held some of a spoke's ops
// only through a snapshot it merged, never in its log, and logged that spoke's later ops. After
// a restart it took its oplog floor from the first logged op, so it streamed the later ops to
// the other spoke, whose missing predecessors it no longer had: that spoke waited forever. The
// floor must be the highest applied op that is not in the log, so the other spoke gets a state
// transfer and converges.
TEST(RejoinTest, AHubRestartedWithAGapInItsLogServesTheGapByStateTransfer) {
  ReplicaOptions hub;
  hub.topology = Topology::kHub;  // region 0 relays between spokes 1 and 2
  Cluster c(3, hub);
  constexpr int kWrites = 7;
  c.CutOff(2, 20, [&] {
    for (int i = 0; i < kWrites; ++i)
      ASSERT_TRUE(c.Write(1, Incr("s" + std::to_string(i), 1)).ok());
    ASSERT_TRUE(c.RunUntil([&] { return c.at(0).applied().Get(1) == kWrites; }));
    c.Tick();  // the hub's states saved, with every op in them (Replica invariant 10)
    // The hub holds spoke 1's ops 1..7 in its log, for spoke 2. Its disk as if ops 3..5 had come
    // in a snapshot: applied and in its states, but never logged (the log's indexes stay
    // contiguous: the later ops were logged right after op 2, and the saved states reflect all
    // of them).
    MemoryStorage::Contents contents = c.disk(0).DurableContents();
    const std::string prefix(storage_keys::kOplogPrefix);
    std::vector<std::string> kept;
    uint64_t first_index = 0;
    for (auto it = contents.lower_bound(prefix);
         it != contents.end() && it->first.starts_with(prefix);) {
      auto index = storage_keys::ParseOplog(it->first);
      ASSERT_TRUE(index.ok());
      if (first_index == 0) first_index = *index;
      pb::Op encoded;
      ASSERT_TRUE(encoded.ParseFromString(it->second));
      auto op = DecodeOp(encoded);
      ASSERT_TRUE(op.ok());
      if (op->dot.origin != 1 || op->dot.seq < 3 || op->dot.seq > 5) kept.push_back(it->second);
      it = contents.erase(it);
    }
    ASSERT_EQ(kept.size(), static_cast<size_t>(kWrites - 3));
    for (size_t i = 0; i < kept.size(); ++i) {
      contents[storage_keys::Oplog(first_index + i)] = kept[i];
    }
    contents[std::string(storage_keys::kStatesThrough)] =
        storage_keys::EncodeU64(first_index + kept.size());
    c.RestartOn(0, std::move(contents), 1);
  });
  ASSERT_TRUE(c.RunUntil([&] { return Converged(c, 3); }, 3000))
      << "spoke 2 applied " << c.at(2).applied().ToString() << ", hub "
      << c.at(0).applied().ToString();
  for (int i = 0; i < kWrites; ++i)
    EXPECT_EQ(CounterValue(c.at(2), "s" + std::to_string(i)), 1);
}

}  // namespace
}  // namespace meridian
