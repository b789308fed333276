// Test-only: regions on an in-order network a test drives (delete_test.cc, text_test.cc). A
// cut region sends and receives nothing; Settle steps until every region applied the same ops.
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "replica/replica.h"

namespace meridian::testing_net {

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

}  // namespace meridian::testing_net
