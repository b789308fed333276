// The simulated shell around each region's node, with the same rules as src/server's event loop:
// the records of every event of a pass accumulate in one batch, written unsynced at the end of
// the pass (then OnWritten); an fsync is asked for whenever the node wants one (and in any case
// every sync_interval_ms), one at a time, and reports OnSynced for every step written before it
// began. A failed Write or fsync is reported (OnStorageFailed) and the region is restarted by the
// operator later, from what the disk holds durably. Crashes come in two kinds: a process crash
// loses the pass not yet written; a power loss also loses the unsynced tail.
#include <algorithm>

#include "replica/storage_keys.h"
#include "sim/simulation_impl.h"

namespace meridian::sim_internal {

namespace {

// A disk loss waits while any handle node of any region is rebuilding its acceptor records.
bool AnyHandleNodeRejoining(const RegionNode& node) {
  for (auto [group, strong] : node.strong_nodes()) {
    if (strong->rejoining()) return true;
  }
  return false;
}

}  // namespace

void Simulation::Process(RegionId r, NodeOutput& out, uint64_t snapshots_before) {
  Region& region = regions_[r];
  if (!out.records.empty()) {
    region.pass.Append(std::move(out.records));
    if (!region.write_scheduled) {
      region.write_scheduled = true;
      Schedule(now_ + 1 + shell_random_.Uniform(kWriteDelayMaxMs), WriteEvent{r, region.process});
    }
  }
  CheckRejoined(r);
  const Replica& replica = region.node->replica();
  std::optional<VersionVector> merged;
  if (replica.stats().snapshots_applied != snapshots_before) {
    // A state transfer was merged. The node's output does not carry its vector; the ops applied
    // after it (buffered ones that became ready) start right above it, per origin.
    std::vector<uint64_t> base(o_.regions);
    for (RegionId origin = 0; origin < o_.regions; ++origin)
      base[origin] = replica.applied().Get(origin);
    for (const AppliedOp& op : out.applied)
      base[op.dot.origin] = std::min(base[op.dot.origin], op.dot.seq - 1);
    merged.emplace();
    for (RegionId origin = 0; origin < o_.regions; ++origin)
      merged->Set(origin, base[origin]);
  }
  AttributeServedStockTakes(r, out.applied);
  checker_.OnStep(r, out.applied, merged, replica.applied());
  if (merged || std::any_of(out.applied.begin(), out.applied.end(), [](const AppliedOp& op) {
        return op.target.data_class == DataClass::kStock;
      })) {
    checker_.CheckStocks(r, replica);
  }
  for (const AppliedOp& op : out.applied) {
    if (op.compensates && op.dot.origin == r) checker_.OnCompensation(op, region.disks);
    holders_[op.dot].insert(r);
  }
  if (merged) checker_.CheckReflectsVector(replica, Writes());
  result_.ops += out.applied.size();
  for (const auto& [to, message] : out.messages) {
    if (region.storage_failed) {
      checker_.Violation(
          "region " + std::to_string(r) +
          " sent a message after its storage failed: " + message.ShortDebugString().substr(0, 120));
    }
    Send(r, to, message);
  }
  for (NodeReply& reply : out.replies)
    OnReply(r, std::move(reply));
  if (region.node && !region.write_scheduled && region.node->wants_sync()) RequestSync(r);
}

void Simulation::CheckRejoined(RegionId r) {
  Region& region = regions_[r];
  if (!region.own_ops_had || region.node->replica().rejoining()) return;
  // Rejoined after losing its disk: it then held every op of its own any region holds (and
  // every region had dropped the old incarnation's held-back ops), so the ops above are gone.
  const uint64_t kept = *region.node->replica().catch_up().own_ops_at_rejoin;
  Trace("rejoined " + std::to_string(r) + " holding " + std::to_string(kept) + " of the " +
        std::to_string(*region.own_ops_had) + " ops of its own it had before the disk loss");
  if (*region.own_ops_had > kept) checker_.OnOpsLost(r, kept + 1, *region.own_ops_had, Writes());
  // Those dots go to new ops now: who held the old ones says nothing about them.
  holders_.erase(holders_.upper_bound(Dot{r, kept}), holders_.lower_bound(Dot{r + 1, 0}));
  region.own_ops_had.reset();
}

void Simulation::Handle(const WriteEvent& e) {
  Region& region = regions_[e.region];
  if (e.process != region.process || !region.node) return;
  region.write_scheduled = false;
  if (region.pass.empty()) return;
  RegionNode& node = *region.node;
  const uint64_t snapshots = node.replica().stats().snapshots_applied;
  const Status written = region.disk->Write(region.pass, WriteOptions{.sync = false});
  region.pass = {};
  NodeOutput out;
  if (written.ok()) {
    region.written = node.replica().applied();
    region.writes_unsynced.emplace_back(node.last_step(), region.written);
    node.OnWritten(node.last_step(), &out);
  } else {
    OnStorageFailure(e.region, written, &out);
  }
  Process(e.region, out, snapshots);
  if (region.node && region.node->wants_sync()) RequestSync(e.region);
}

void Simulation::RequestSync(RegionId r) {
  Region& region = regions_[r];
  if (!region.node || region.storage_failed) return;
  const uint64_t step = region.node->written_step();
  region.last_sync_request_ms = now_;
  if (step <= region.sync_requested) return;  // an fsync asked for already covers it
  region.sync_requested = step;
  if (!region.sync_in_flight) StartSync(r);
}

void Simulation::StartSync(RegionId r) {
  Region& region = regions_[r];
  region.sync_in_flight = true;
  uint64_t latency_ms = 1 + shell_random_.Uniform(o_.sync_ms_max);
  if (shell_random_.Chance(o_.slow_syncs)) {
    latency_ms = static_cast<uint64_t>(shell_random_.Range(kSlowSyncMinMs, kSlowSyncMaxMs));
  }
  Schedule(now_ + latency_ms, SyncDoneEvent{r, region.process, region.sync_requested});
}

void Simulation::Handle(const SyncDoneEvent& e) {
  Region& region = regions_[e.region];
  if (e.process != region.process || !region.node) return;
  region.sync_in_flight = false;
  if (region.storage_failed) return;
  RegionNode& node = *region.node;
  const uint64_t snapshots = node.replica().stats().snapshots_applied;
  const Status synced = region.disk->Sync();
  NodeOutput out;
  if (synced.ok()) {
    while (!region.writes_unsynced.empty() && region.writes_unsynced.front().first <= e.step) {
      region.synced = std::move(region.writes_unsynced.front().second);
      region.writes_unsynced.pop_front();
    }
    node.OnSynced(e.step, &out);
  } else {
    OnStorageFailure(e.region, synced, &out);
  }
  Process(e.region, out, snapshots);
  if (!region.node || region.storage_failed) return;
  if (region.sync_requested > e.step) StartSync(e.region);
  if (region.node->wants_sync()) RequestSync(e.region);
}

void Simulation::OnStorageFailure(RegionId r, const Status& error, NodeOutput* out) {
  Region& region = regions_[r];
  Trace("storage of " + std::to_string(r) + " failed: " + error.ToString());
  ++result_.storage_failures;
  region.storage_failed = true;
  region.node->OnStorageFailed(error, out);
  // The operator notices (health "failed") and restarts the region on what its disk holds.
  const CrashEvent restart{r, static_cast<uint32_t>(shell_random_.Range(50, 300)),
                           /*power_loss=*/true, region.process};
  Schedule(now_ + static_cast<uint64_t>(
                      shell_random_.Range(kOperatorRestartMinMs, kOperatorRestartMaxMs)),
           restart);
}

void Simulation::Handle(const StorageFaultEvent& e) {
  Region& region = regions_[e.region];
  if (!region.node || healed_) return;
  Trace(std::string("the disk of ") + std::to_string(e.region) + " will fail its next " +
        (e.sync ? "fsync" : "write"));
  if (e.sync) {
    region.disk->FailNextSyncs(1);
  } else {
    region.disk->FailNextWrites(1);
  }
}

void Simulation::Handle(const ArmWriteCrashEvent& e) {
  if (healed_) return;
  ++regions_[e.region].armed_write_crashes;
}

void Simulation::Handle(const CrashEvent& e) {
  Region& region = regions_[e.region];
  if (!region.node) return;
  if (e.process) {
    // The operator's restart of a failed region (also after healing): only that process.
    if (*e.process != region.process) return;
  } else if (healed_) {
    return;
  }
  ++(e.power_loss ? result_.power_losses : result_.process_crashes);
  Down(e.region, e.down_ms, e.power_loss);
}

void Simulation::Down(RegionId r, uint32_t down_ms, bool power_loss) {
  Region& region = regions_[r];
  Trace((power_loss ? "power loss " : "crash ") + std::to_string(r) +
        (region.storage_failed ? " (its storage failed)" : ""));
  CheckStorage(r, "when it went down");  // before a disk loss replaces it
  if (power_loss) region.disk->SimulateCrash();
  region.tail_lost = power_loss;
  region.applied_at_crash = region.node->replica().applied();
  for (auto [group, strong] : region.node->strong_nodes())
    AddStrongStats(*strong);
  region.node.reset();  // its requests in flight are never answered: outcome unknown
  region.pass = {};
  region.write_scheduled = false;
  region.sync_in_flight = false;
  region.sync_requested = 0;
  region.writes_unsynced.clear();
  ++region.process;
  std::erase_if(stock_takes_waiting_, [r](const auto& entry) { return entry.second.region == r; });
  for (auto& [id, request] : requests_) {
    if (request.region == r) request.orphaned = true;
  }
  for (RegionId peer = 0; peer < o_.regions; ++peer) {
    if (peer == r || !regions_[peer].node) continue;
    Drive(peer,
          [&](RegionNode& node, NodeOutput* out) { node.OnLinkChanged(r, false, Now(peer), out); });
  }
  Schedule(now_ + down_ms, RestartEvent{r});
}

void Simulation::Handle(const BackupEvent& e) {
  Region& region = regions_[e.region];
  if (!region.node) return;
  Trace("backup " + std::to_string(e.region));
  region.backup = region.disk->DurableContents();
}

void Simulation::Handle(const DiskLossEvent& e) {
  Region& region = regions_[e.region];
  if (!region.node || healed_) return;
  for (const Region& other : regions_) {
    // One lost disk at a time (the failure model of docs/strong.md): a second region losing its
    // records before the first has rebuilt its handles could lose a majority's votes.
    if (other.own_ops_had || (other.node && AnyHandleNodeRejoining(*other.node))) {
      Trace("disk loss of " + std::to_string(e.region) + " skipped: another region is rejoining");
      return;
    }
  }
  Trace(std::string(e.restore && region.backup ? "restore " : "disk loss ") +
        std::to_string(e.region));
  NoteErasuresLostWithDisk(e.region);
  // A second loss before it rejoined: what the first one lost is still to be accounted for.
  region.own_ops_had =
      std::max(region.own_ops_had.value_or(0), region.node->replica().applied().Get(e.region));
  Down(e.region, e.down_ms, /*power_loss=*/true);
  MemoryStorage::Contents contents;
  if (e.restore && region.backup) {
    contents = *region.backup;
    // As the restore procedure does: the copy is a new incarnation, and its handle records may
    // be behind promises the region made since.
    contents.erase(std::string(storage_keys::kIncarnation));
    // Each pinned group's replica too ("g<mask>/m:inc"): each is a replica incarnation of its own.
    std::erase_if(contents, [](const auto& record) {
      const std::string& key = record.first;
      return key.size() > 10 && key[0] == 'g' && key[9] == '/' &&
             key.compare(10, std::string::npos, storage_keys::kIncarnation) == 0;
    });
    contents.erase(std::string(StrongNode::kSyncedMarkerKey));
  }
  region.disk = std::make_unique<MemoryStorage>(std::move(contents));
  ++region.disks;
  region.disk_replaced = true;
  region.written = region.synced = VersionVector();
  checker_.OnStorageReplaced(e.region);
  checker_.ForgetShown(e.region);
}

void Simulation::Handle(const RestartEvent& e) {
  Region& region = regions_[e.region];
  if (region.node) return;
  Trace("restart " + std::to_string(e.region));
  // A fault armed on the disk is gone with the process that would have met it.
  region.disk->FailNextWrites(0);
  region.disk->FailNextSyncs(0);
  // The node takes what it recovers for durable; RocksDB's recovery makes it so (it flushes
  // what it replays from its log), and so does the simulated disk.
  MERIDIAN_ASSERT(region.disk->Sync().ok());
  ++region.incarnation;
  auto recovered = RegionNode::Recover(NodeFor(e.region), *region.disk);
  MERIDIAN_ASSERT_MSG(recovered.ok(), "recovery from the simulated disk failed");
  region.node = std::move(recovered).value();
  const Replica& replica = region.node->replica();
  const VersionVector& applied = replica.applied();
  if (!region.disk_replaced) {
    // Its own ops the crash took: nobody else had them (messages wait for the fsync).
    std::vector<LogicalWrite*> writes;
    for (auto& p : history_)
      writes.push_back(&p.write);
    checker_.OnCrashLostOps(e.region, region.disks, applied.Get(e.region) + 1,
                            region.applied_at_crash.Get(e.region), region.tail_lost, writes);
    checker_.CheckShownSurvived(replica, region.tail_lost);
  }
  checker_.OnRestart(e.region, applied,
                     region.disk_replaced ? VersionVector()
                     : region.tail_lost   ? region.synced
                                          : region.written);
  region.written = region.synced = applied;
  region.storage_failed = region.tail_lost = region.disk_replaced = false;
  for (RegionId peer = 0; peer < o_.regions; ++peer) {
    if (peer == e.region || !regions_[peer].node) continue;
    if (cuts_[std::make_pair(std::min(peer, e.region), std::max(peer, e.region))] > 0) continue;
    SetLink(e.region, peer, true);  // handles talk to every region, not only neighbours
  }
}

}  // namespace meridian::sim_internal
