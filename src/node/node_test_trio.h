// A three-region harness for region node tests (residency_test.cc, subjects_test.cc): pure, on
// memory disks, with a network the test steps by hand.
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "node/region_node.h"
#include "store/memory_storage.h"

namespace meridian {

constexpr RegionId kUs = 0, kEu = 1, kEu2 = 2;

// Three region nodes us, eu, eu2 on memory disks, with a rule pinning "gdpr:" to eu and eu2,
// joined by a network the test steps by hand (Step: 10 ms of ticks, then every message in
// flight). Cut(r) takes r's links down and drops what is sent to or from it until Heal(r).
class Trio {
 public:
  explicit Trio(std::function<void(RegionNodeOptions&)> configure = nullptr)
      : configure_(std::move(configure)) {
    residency_ = Residency::Make({{"gdpr:", std::nullopt, {kEu, kEu2}}}, 3).value();
    for (RegionId r = 0; r < 3; ++r) {
      disks_.push_back(std::make_unique<MemoryStorage>());
      nodes_.push_back(Start(r));
    }
    for (RegionId r = 0; r < 3; ++r)
      LinksUp(r);
  }

  // Region r's links to every other region come up (on r's side).
  void LinksUp(RegionId r) {
    for (RegionId p = 0; p < 3; ++p) {
      if (p == r) continue;
      NodeOutput out;
      nodes_[r]->OnLinkChanged(p, true, now(), &out);
      nodes_[r]->OnLinkVerified(p, true);
      Take(r, std::move(out));
    }
  }

  std::unique_ptr<RegionNode> Start(RegionId r) {
    RegionNodeOptions o;
    o.replica.self = r;
    o.replica.region_count = 3;
    o.replica.incarnation = 100 + r;
    o.strong.self = r;
    o.strong.region_count = 3;
    o.region_names = {"us", "eu", "eu2"};
    o.residency = residency_;
    o.new_cluster = true;
    if (configure_) configure_(o);
    auto node = RegionNode::Recover(o, *disks_[r]);
    EXPECT_TRUE(node.ok()) << node.status().ToString();
    return std::move(node).value();
  }

  NodeTime now() const { return {1'000'000 + now_ms_, now_ms_}; }

  // Region r's process restarts from its disk, and its links come up again.
  void Restart(RegionId r) {
    nodes_[r] = Start(r);
    LinksUp(r);
  }

  void Take(RegionId r, NodeOutput out) {
    EXPECT_TRUE(disks_[r]->Write(out.records, {.sync = true}).ok());
    NodeOutput synced;
    nodes_[r]->OnSynced(nodes_[r]->last_step(), &synced);
    for (auto& [to, m] : out.messages)
      network_.emplace_back(r, to, std::move(m));
    for (auto& reply : out.replies)
      replies_.push_back(std::move(reply));
    if (!synced.empty()) Take(r, std::move(synced));
  }

  NodeReply Command(RegionId r, NodeCommand command) {
    NodeOutput out;
    nodes_[r]->OnCommand(next_id_, std::move(command), now(), &out);
    Take(r, std::move(out));
    for (int i = 0; i < 300; ++i) {
      for (NodeReply& reply : replies_) {
        if (reply.id == next_id_) {
          ++next_id_;
          return reply;
        }
      }
      Step();
    }
    ADD_FAILURE() << "no reply";
    return {};
  }

  void Step() {
    now_ms_ += 10;
    for (RegionId r = 0; r < 3; ++r) {
      NodeOutput out;
      nodes_[r]->OnTick(now(), &out);
      Take(r, std::move(out));
    }
    std::deque<std::tuple<RegionId, RegionId, pb::PeerMessage>> batch;
    batch.swap(network_);
    std::deque<std::tuple<RegionId, RegionId, pb::PeerMessage>> held;
    for (auto& [from, to, m] : batch) {
      if (cut_.contains(from) || cut_.contains(to) || (drop_ && drop_(m))) continue;
      if (hold_ && hold_(from, to)) {
        held.emplace_back(from, to, std::move(m));
        continue;
      }
      if (to == kUs) seen_by_us_ += m.SerializeAsString();
      NodeOutput out;
      nodes_[to]->OnPeerMessage(from, m, now(), &out);
      Take(to, std::move(out));
    }
    for (auto& message : held)
      network_.push_back(std::move(message));
  }
  void SetLinks(RegionId r, bool up) {
    for (RegionId p = 0; p < 3; ++p) {
      if (p == r) continue;
      for (auto [a, b] : {std::pair{r, p}, std::pair{p, r}}) {
        NodeOutput out;
        nodes_[a]->OnLinkChanged(b, up, now(), &out);
        nodes_[a]->OnLinkVerified(b, up);
        Take(a, std::move(out));
      }
    }
  }
  void Cut(RegionId r) {
    cut_.insert(r);
    SetLinks(r, false);
  }
  void Heal(RegionId r) {
    cut_.erase(r);
    SetLinks(r, true);
  }
  void Settle() {
    for (int i = 0; i < 300; ++i)
      Step();
  }

  std::string StoredBytes(RegionId r) const {
    std::string all;
    EXPECT_TRUE(disks_[r]
                    ->Scan("",
                           [&all](std::string_view k, std::string_view v) {
                             all.append(k).append(v);
                             return Status::Ok();
                           })
                    .ok());
    return all;
  }

  std::function<void(RegionNodeOptions&)> configure_;
  std::function<bool(const pb::PeerMessage&)> drop_;  // messages the network loses
  // Links whose messages the network holds (delivered, in order, once it returns false).
  std::function<bool(RegionId from, RegionId to)> hold_;
  std::set<RegionId> cut_;
  Residency residency_;
  std::vector<std::unique_ptr<MemoryStorage>> disks_;
  std::vector<std::unique_ptr<RegionNode>> nodes_;
  std::deque<std::tuple<RegionId, RegionId, pb::PeerMessage>> network_;
  std::vector<NodeReply> replies_;
  std::string seen_by_us_;
  RequestId next_id_ = 1;
  uint64_t now_ms_ = 0;
};

}  // namespace meridian
