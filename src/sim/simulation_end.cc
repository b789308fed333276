// The end of a run (Simulation, simulation_impl.h): healing every fault, waiting for the cluster
// to settle, and judging the run: the checkers' verdicts on what the regions hold, what the
// clients were told and what is still waiting, in the order they are reported.
#include <algorithm>

#include "sim/simulation_impl.h"
#include "strong/handle_name.h"

namespace meridian::sim_internal {

void Simulation::HealEverything() {
  healed_ = true;
  o_.loss = 0;
  o_.duplication = 0;
  for (auto& [pair, depth] : cuts_) {
    if (depth == 0) continue;
    depth = 0;
    SetLink(pair.first, pair.second, true);
  }
  for (RegionId r = 0; r < o_.regions; ++r) {
    Region& region = regions_[r];
    region.armed_write_crashes = 0;
    // A region whose disk failed is restarted now rather than when the operator gets to it.
    if (region.node && region.storage_failed) Down(r, 0, /*power_loss=*/true);
    Handle(RestartEvent{r});
  }
  ScheduleFinalReads();
}

void Simulation::ScheduleFinalReads() {
  for (uint32_t i = 0; i < o_.handle_names; ++i) {
    const uint64_t id = NewHandleOp({HandleOpKind::kRead, "h" + std::to_string(i), ""},
                                    static_cast<RegionId>(i % o_.regions));
    final_reads_.insert(id);
    Schedule(now_ + kFinalReadsAfterHealMs + i * kFinalReadSpacingMs, HandleClientEvent{id});
  }
}

// Every final read (and its retries) answered, and no region has a handle request in flight.
bool Simulation::HandlesSettled() const {
  for (uint64_t id : final_reads_) {
    if (!handle_ops_[id].complete_ms) return false;
  }
  for (const Region& region : regions_) {
    for (auto [group, strong] : region.node->strong_nodes()) {
      if (strong->pending_requests() > 0) return false;
    }
  }
  return true;
}

// Every request still in flight is one whose region crashed, and no node holds anything.
bool Simulation::RequestsSettled() const {
  for (const auto& [id, request] : requests_) {
    if (!request.orphaned) return false;
  }
  for (const Region& region : regions_) {
    const NodeStats stats = region.node->stats();
    if (stats.held_replies + stats.held_messages + stats.session_waits + stats.quorum_reads +
            stats.replication_waits >
        0)
      return false;
  }
  return true;
}

void Simulation::CheckHandles() {
  std::map<std::string, std::vector<HandleOperation>> by_name;
  for (const HandleOperation& op : handle_ops_) {
    if (!op.complete_ms) ++result_.handle_unanswered;
    if (op.complete_ms && op.outcome == HandleOutcome::kUnavailable) ++result_.handle_unavailable;
    // One history per handle: "H0" and "h0" name the same one (handle_name.h).
    by_name[CanonicalHandleName(op.request.name).value()].push_back(op);
  }
  result_.handle_requests = handle_ops_.size();
  for (const HandleOperation& op : handle_ops_) {
    if (!op.known()) continue;
    ++result_.handle_answered;
    result_.handle_latency_ms += *op.complete_ms - op.invoke_ms;
  }
  for (const Region& region : regions_) {
    for (auto [group, strong] : region.node->strong_nodes())
      AddStrongStats(*strong);
  }
  for (const auto& [name, ops] : by_name) {
    LinearizabilityResult r = CheckHandleHistory(ops, kMaxCheckerStates);
    result_.checker_states += r.states;
    if (r.verdict == LinearizabilityVerdict::kNotLinearizable) {
      handle_violations_.push_back("handle " + name + ": history of " + std::to_string(ops.size()) +
                                   " operations is not linearizable:" + r.explanation);
    } else if (r.verdict == LinearizabilityVerdict::kInconclusive) {
      ++result_.handle_inconclusive;
    }
  }
  std::set<std::string> served;
  for (uint64_t id : final_reads_) {
    if (handle_ops_[id].known()) served.insert(handle_ops_[id].request.name);
  }
  for (uint32_t i = 0; i < o_.handle_names; ++i) {
    const std::string name = "h" + std::to_string(i);
    if (served.count(name) == 0) {
      handle_violations_.push_back("handle " + name + " could not be read after healing");
    }
  }
}

bool Simulation::Quiescent() const {
  const Replica& first = regions_[0].node->replica();
  for (const Region& region : regions_) {
    const Replica& r = region.node->replica();
    if (!(r.applied() == first.applied()) || r.oplog_size() > 0 || r.buffered_ops() > 0) {
      return false;
    }
    if (r.states().size() != first.states().size()) return false;
    auto a = first.states().begin();
    for (auto b = r.states().begin(); b != r.states().end(); ++a, ++b) {
      if (!(a->first == b->first) || ContentBytes(a->second.state) != ContentBytes(b->second.state))
        return false;
    }
  }
  if (residency_.residency().groups().size() > 1) {
    std::vector<const RegionNode*> nodes;
    for (const Region& region : regions_)
      nodes.push_back(region.node.get());
    if (residency_.GroupDifference(nodes)) return false;
  }
  return ErasuresSettled();
}

std::vector<LogicalWrite> Simulation::TallyWrites() {
  for (const auto& p : history_) {
    if (p.write.acknowledged) ++result_.acknowledged;
    if (p.write.write.target.data_class == DataClass::kText) {
      ++result_.text_writes;
      if (p.write.acknowledged) ++result_.text_acknowledged;
    }
    if (p.write.write.target.data_class == DataClass::kStock) {
      ++result_.stock_writes;
      if (p.write.acknowledged) ++result_.stock_acknowledged;
    }
  }
  for (const Region& region : regions_)
    result_.rights_lent += region.node->stats().rights_lent;
  return Writes();
}

void Simulation::TraceFinalState(const std::vector<const Replica*>& replicas) {
  for (const Replica* r : replicas) {
    const ReplicaStats& st = r->stats();
    std::string peers;
    for (const auto& p : r->Peers()) {
      peers += " peer " + std::to_string(p.region) + " acked " + p.acked.ToString() + " backlog " +
               std::to_string(p.backlog_ops);
    }
    Trace("region " + std::to_string(r->self()) + " applied " + r->applied().ToString() +
          " buffered " + std::to_string(r->buffered_ops()) + " oplog " +
          std::to_string(r->oplog_size()) + " snapshots sent/applied " +
          std::to_string(st.snapshots_sent) + "/" + std::to_string(st.snapshots_applied) +
          " chunks sent/applied " + std::to_string(st.snapshot_chunks_sent) + "/" +
          std::to_string(st.snapshot_chunks_applied) + " declined " +
          std::to_string(st.snapshot_declined) + " resends " + std::to_string(st.resends) +
          " malformed " + std::to_string(st.malformed_messages) + peers);
  }
  for (RegionId r = 0; r < o_.regions && trace_; ++r) {
    for (const auto& [group, replica] : regions_[r].node->replicas()) {
      if (group == 0) continue;
      std::string peers;
      for (const auto& p : replica->Peers()) {
        peers += " peer " + std::to_string(p.region) + " acked " + p.acked.ToString() +
                 " backlog " + std::to_string(p.backlog_ops);
      }
      Trace("region " + std::to_string(r) + " group " + std::to_string(group) + " applied " +
            replica->applied().ToString() + " buffered " + std::to_string(replica->buffered_ops()) +
            " oplog " + std::to_string(replica->oplog_size()) + " rejoining " +
            std::to_string(replica->rejoining()) + " refused " +
            std::to_string(regions_[r].node->stats().peer_messages_refused) + peers);
    }
  }
}

void Simulation::Judge(const std::vector<const Replica*>& replicas,
                       const std::vector<LogicalWrite>& writes, const RunEnd& end) {
  // Residency leaks first (R1, R2: only a residency bug makes them), then the rest in order.
  CheckResidency();
  for (const auto& v : residency_.violations())
    result_.violations.push_back(v);
  checker_.CheckQuiescent(replicas, writes);
  CheckErasures();
  CheckNothingWaits();  // after every region's group: a bug there is named by its own check first
  for (const Replica* r : replicas) {
    if (r->rejoining()) {
      result_.violations.push_back("region " + std::to_string(r->self()) +
                                   " never finished rejoining after losing its disk");
    }
  }
  for (const auto& v : checker_.violations())
    result_.violations.push_back(v);
  if (!end.quiet) {
    result_.violations.push_back(
        std::string(end.converged ? "handle requests or client reads did not settle"
                                  : "did not quiesce") +
        " within " + std::to_string(o_.quiesce_deadline_ms) + " ms after healing");
  }
  CheckHandles();
  for (auto& v : handle_violations_) {
    if (result_.violations.size() < 20) result_.violations.push_back(std::move(v));
  }
  // The simulated network drops, delays and duplicates but never corrupts: a peer message
  // refused as invalid (src/replica/peer_input.h, src/strong/peer_checks.h) is a check that
  // refuses correct traffic. Last, so a seeded bug is still reported by its own check first.
  for (const Region& region : regions_) {
    uint64_t refused = region.node->replica().stats().malformed_messages;
    for (auto [group, strong] : region.node->strong_nodes())
      refused += strong->stats().malformed_messages;
    if (refused > 0) {
      result_.violations.push_back("region " + std::to_string(region.node->replica().self()) +
                                   " refused " + std::to_string(refused) +
                                   " messages of correct peers as invalid");
    }
  }
}

void Simulation::CheckStorage(RegionId r, const std::string& when) {
  if (residency_.residency().empty()) return;
  MemoryStorage::Contents contents;
  const Status scanned = regions_[r].disk->Scan("", [&](std::string_view key, std::string_view v) {
    contents.emplace(std::string(key), std::string(v));
    return Status::Ok();
  });
  MERIDIAN_ASSERT(scanned.ok());
  residency_.CheckStorage(r, contents, "its disk " + when);
}

void Simulation::CheckResidency() {
  if (residency_.residency().empty()) return;
  for (RegionId r = 0; r < o_.regions; ++r) {
    CheckStorage(r, "at the end");
    if (regions_[r].backup) residency_.CheckStorage(r, *regions_[r].backup, "its backup");
  }
  for (uint64_t i = 0; i < history_.size(); ++i) {
    const LogicalWrite& w = history_[i].write;
    if (Pinned(w.write.target) && w.acknowledged) ++result_.pinned_acknowledged;
  }
  result_.residency_messages = residency_.messages_checked();
  result_.pinned_group_messages = residency_.pinned_messages();
  result_.residency_records = residency_.records_checked();
  Trace("residency: pinned writes " + std::to_string(result_.pinned_writes) + " (acknowledged " +
        std::to_string(result_.pinned_acknowledged) + "), misdirected answers " +
        std::to_string(result_.misdirected) + ", delivered messages inspected " +
        std::to_string(result_.residency_messages) + " (of pinned groups " +
        std::to_string(result_.pinned_group_messages) + "), stored records scanned " +
        std::to_string(result_.residency_records));
}

void Simulation::CheckNothingWaits() {
  std::vector<const RegionNode*> nodes;
  for (RegionId r = 0; r < o_.regions; ++r) {
    const Region& region = regions_[r];
    nodes.push_back(region.node.get());
    // Nothing waits forever (for an op of a group it is not in, or of a member it cannot reach
    // once healed): every session wait, quorum read and replication wait was answered.
    const NodeStats stats = region.node->stats();
    if (stats.session_waits + stats.quorum_reads + stats.replication_waits > 0) {
      checker_.Violation("region " + std::to_string(r) + " still waits at the end: " +
                         std::to_string(stats.session_waits) + " session reads, " +
                         std::to_string(stats.quorum_reads) + " quorum reads, " +
                         std::to_string(stats.replication_waits) + " w=majority writes");
    }
  }
  if (auto difference = residency_.GroupDifference(nodes))
    checker_.Violation("residency: " + *difference);
  for (const auto& [id, request] : requests_) {
    if (request.orphaned || request.kind != Request::Kind::kRead) continue;
    const SimRead& read = reads_[request.index];
    if (Pinned(read.key)) {
      checker_.Violation("a read of pinned key " + read.key.key + " at region " +
                         std::to_string(request.region) + " was never answered");
    }
  }
}

void Simulation::TallyTotals(const std::vector<const Replica*>& replicas) {
  for (const Replica* r : replicas) {
    result_.conflicts += r->conflicts().total();
    result_.clamped += r->clock().clamped_total();
    result_.repairs += r->stats().anti_entropy_repairs;
  }
  result_.acked_lost_allowed = checker_.acked_lost_allowed();
}

}  // namespace meridian::sim_internal
