// RegionNode: global scans (contract 8). A page is asked of every reachable member of every group
// held here, each member answering from that group's replica; the pages are merged per key
// (CRDT merge) with this region's own, so the answer shows what the reachable regions hold
// together. Why the merge is a correct page: each region's page holds its first `limit` present
// keys after the cursor, and a key present after the merge is present in some region's state
// (a merged value, element or increment comes from one of them), so the first `limit` keys of
// the union are among the pages; keys past a page's cut were not examined there, so the merged
// page ends at the earliest cut. Tombstones travel with the pages so that a delete one region
// has seen hides the key the others still show.
#include <algorithm>
#include <string>
#include <utility>

#include "node/region_node.h"
#include "replica/key_state.h"
#include "replica/peer_input.h"
#include "replica/storage_keys.h"

namespace meridian {

namespace {

// Adds one page to a scan's merge: its states, and its cut.
void MergePage(std::vector<std::pair<StateKey, KeyState>>&& entries,
               const std::optional<StateKey>& next, std::map<StateKey, KeyState>& merged,
               std::optional<StateKey>& cut) {
  for (auto& [key, state] : entries) {
    auto it = merged.find(key);
    if (it == merged.end()) {
      merged.emplace(key, std::move(state));
    } else {
      MergeState(it->second, state);
    }
  }
  if (next && (!cut || *next < *cut)) cut = next;
}

// Whether `key` belongs on a page of `command`: its class and prefix, after its cursor.
bool OnPage(const ScanCommand& command, const StateKey& key) {
  if (command.data_class && key.data_class != *command.data_class) return false;
  if (!key.key.starts_with(command.prefix)) return false;
  return !command.after || *command.after < key;
}

}  // namespace

void RegionNode::StartGlobalScan(RequestId id, const ScanCommand& command, NodeTime now,
                                 NodeOutput* out) {
  const uint64_t scan_id = next_scan_id_++;
  GlobalScan scan;
  scan.id = id;
  scan.command = command;
  scan.deadline_ms = now.steady_ms + static_cast<uint64_t>(options_.quorum_timeout_ms);
  pb::ScanRequest request;
  request.set_id(scan_id);
  request.set_data_class(command.data_class ? static_cast<uint32_t>(*command.data_class) : 0);
  request.set_prefix(command.prefix);
  if (command.after) {
    request.set_has_after(true);
    request.set_after_class(static_cast<uint32_t>(command.after->data_class));
    request.set_after_key(command.after->key);
  }
  request.set_limit(static_cast<uint32_t>(command.limit));
  for (auto [group, replica] : replicas()) {
    ScanResult page = ScanGroup(*replica, command, &scan.undurable, /*absent=*/true);
    MergePage(std::move(page.entries), page.next, scan.merged, scan.cut);
    const ReplicationGroupLayout& layout = options_.residency.groups()[group];
    for (RegionId member : layout.members) {
      if (member == options_.replica.self) continue;
      if (!links_verified_[member]) {
        scan.missing.insert(member);
        continue;
      }
      pb::PeerMessage message;
      message.set_from(options_.replica.self);
      message.set_sent_physical_ms(now.physical_ms);
      message.set_group(group == 0 ? 0 : layout.mask);
      *message.mutable_scan_request() = request;
      HoldMessage(member, std::move(message), out);
      scan.awaited.emplace(group, member);
    }
  }
  // A region answering for one group is still missing for another it did not answer for.
  if (scan.awaited.empty()) return FinishGlobalScan(scan, out);
  global_scans_.emplace(scan_id, std::move(scan));
}

void RegionNode::OnScanRequest(size_t group, RegionId from, const pb::ScanRequest& request,
                               NodeTime now, NodeOutput* out) {
  ScanCommand command;
  if (request.data_class() != 0) command.data_class = DataClassFromNumber(request.data_class());
  command.prefix = request.prefix();
  command.limit = request.limit();
  if (request.has_after()) {
    const std::optional<DataClass> after_class = DataClassFromNumber(request.after_class());
    if (after_class) command.after = StateKey{*after_class, request.after_key()};
  }
  // The asker's claims, checked as any peer input (peer_input.h): a bounded page of a class.
  const bool valid = (request.data_class() == 0 || command.data_class) &&
                     request.prefix().size() <= kPeerKeyBytesMax && command.limit >= 1 &&
                     command.limit <= kScanLimitMax &&
                     (!request.has_after() || (command.after && !request.after_key().empty() &&
                                               request.after_key().size() <= kPeerKeyBytesMax));
  if (!valid) {
    ++peer_messages_refused_;
    return;
  }
  bool undurable = false;  // the reply is held until synced, as every message (HoldMessage)
  ScanResult page = ScanGroup(*MutableGroupReplica(group), command, &undurable, /*absent=*/true);
  pb::PeerMessage message;
  message.set_from(options_.replica.self);
  message.set_sent_physical_ms(now.physical_ms);
  message.set_group(group == 0 ? 0 : options_.residency.groups()[group].mask);
  pb::ScanReply* reply = message.mutable_scan_reply();
  reply->set_id(request.id());
  for (const auto& [key, state] : page.entries) {
    pb::KeyStateEntry* entry = reply->add_entries();
    entry->set_storage_key(storage_keys::State(key));
    EncodeState(state, entry->mutable_state());
  }
  if (page.next) {
    reply->set_has_next(true);
    reply->set_next_class(static_cast<uint32_t>(page.next->data_class));
    reply->set_next_key(page.next->key);
  }
  AttachKeyrings(from, &message);  // the keys of the sealed values it carries (contract 7)
  HoldMessage(from, std::move(message), out);
}

void RegionNode::OnScanReply(size_t group, RegionId from, const pb::ScanReply& reply,
                             NodeOutput* out) {
  auto it = global_scans_.find(reply.id());
  if (it == global_scans_.end()) return;  // answered or expired already
  GlobalScan& scan = it->second;
  if (!scan.awaited.contains({group, from})) return;  // not asked of it, or a duplicate
  // Peer input (peer_input.h rule 6): every state decodes, every key is within bounds, belongs
  // to the page asked for and to the group the reply came in. Else the whole page is refused.
  std::vector<std::pair<StateKey, KeyState>> entries;
  bool valid = reply.entries_size() <= static_cast<int>(kScanExaminedMax);
  for (const pb::KeyStateEntry& entry : reply.entries()) {
    if (!valid) break;
    Result<StateKey> key = storage_keys::ParseState(entry.storage_key());
    valid = key.ok() && CheckKeyBounds(*key).ok() && OnPage(scan.command, *key) &&
            options_.residency.GroupOf(*key) == group;
    if (!valid) break;
    Result<KeyState> state = DecodeState(entry.state(), key->data_class);
    valid = state.ok();
    if (valid) entries.emplace_back(std::move(key).value(), std::move(state).value());
  }
  std::optional<StateKey> next;
  if (valid && reply.has_next()) {
    const std::optional<DataClass> next_class = DataClassFromNumber(reply.next_class());
    valid = next_class.has_value();
    if (valid) next = StateKey{*next_class, reply.next_key()};
  }
  if (!valid) {
    ++read_replies_refused_;
    return;  // the page stays awaited: the scan names the region missing if nothing better comes
  }
  MergePage(std::move(entries), next, scan.merged, scan.cut);
  scan.awaited.erase({group, from});
  if (!scan.awaited.empty()) return;
  FinishGlobalScan(scan, out);
  global_scans_.erase(it);
}

void RegionNode::FinishGlobalScan(GlobalScan& scan, NodeOutput* out) {
  for (const auto& [group, region] : scan.awaited)
    scan.missing.insert(region);
  ScanResult result;
  result.scope = ScanScope::kGlobal;
  for (RegionId region : scan.missing)
    result.missing_regions.push_back(options_.region_names[region]);
  for (auto& [key, state] : scan.merged) {
    if (scan.cut && key > *scan.cut) break;
    if (!KeyPresent(state)) continue;  // deleted where some region saw the delete
    if (result.entries.size() == scan.command.limit) {
      result.next = result.entries.back().first;
      break;
    }
    result.entries.emplace_back(key, std::move(state));
  }
  if (!result.next) result.next = scan.cut;
  AnswerScanPage(scan.id, std::move(result), scan.undurable, out);
}

}  // namespace meridian
