// Anti-entropy: compare Merkle-style summaries with a neighbour that has applied exactly the same
// ops; any difference is then real divergence (not ops in flight), and merging the differing
// buckets' states repairs it without exposing anything out of causal order.
#include <set>

#include "clock/clock_codec.h"
#include "replica/replica.h"
#include "replica/storage_keys.h"

namespace meridian {

void Replica::StartAntiEntropy(uint64_t physical_ms, Output* out) {
  ++stats_.anti_entropy_rounds;
  SaveStates(out);  // the summary counts saved states only
  for (RegionId peer : neighbors_) {
    pb::PeerMessage m = NewMessage(physical_ms);
    auto* request = m.mutable_summary_request();
    Encode(applied_, request->mutable_applied());
    for (uint32_t g = 0; g < RangeSummary::kGroups; ++g) {
      request->add_group_hashes(summary_.group_hash(g));
    }
    out->messages.emplace_back(peer, std::move(m));
  }
}

void Replica::HandleSummaryRequest(RegionId from, const pb::SummaryRequest& request,
                                   uint64_t physical_ms, Output* out) {
  auto theirs = Decode(request.applied());
  if (!theirs.ok() || request.group_hashes_size() != static_cast<int>(RangeSummary::kGroups)) {
    Refuse(PeerRefusal::kRepair);
    return;
  }
  if (!(*theirs == applied_)) return;  // ops in flight: differences are expected, not divergence
  SaveStates(out);                     // the summary counts saved states only
  pb::PeerMessage m = NewMessage(physical_ms);
  auto* reply = m.mutable_summary_reply();
  Encode(applied_, reply->mutable_applied());
  for (uint32_t g = 0; g < RangeSummary::kGroups; ++g) {
    if (request.group_hashes(static_cast<int>(g)) == summary_.group_hash(g)) continue;
    auto* group = reply->add_groups();
    group->set_group(g);
    for (uint32_t b = 0; b < RangeSummary::kBucketsPerGroup; ++b) {
      group->add_bucket_hashes(summary_.bucket_hash(g * RangeSummary::kBucketsPerGroup + b));
    }
  }
  if (reply->groups_size() > 0) out->messages.emplace_back(from, std::move(m));
}

void Replica::HandleSummaryReply(RegionId from, const pb::SummaryReply& reply, uint64_t physical_ms,
                                 Output* out) {
  auto theirs = Decode(reply.applied());
  if (!theirs.ok()) {
    Refuse(PeerRefusal::kRepair);
    return;
  }
  if (!(*theirs == applied_)) return;
  SaveStates(out);  // the summary counts saved states only
  std::set<uint32_t> differing;
  for (const auto& group : reply.groups()) {
    if (group.group() >= RangeSummary::kGroups ||
        group.bucket_hashes_size() != static_cast<int>(RangeSummary::kBucketsPerGroup)) {
      Refuse(PeerRefusal::kRepair);
      return;
    }
    for (uint32_t b = 0; b < RangeSummary::kBucketsPerGroup; ++b) {
      const uint32_t bucket = group.group() * RangeSummary::kBucketsPerGroup + b;
      if (group.bucket_hashes(static_cast<int>(b)) != summary_.bucket_hash(bucket)) {
        differing.insert(bucket);
      }
    }
  }
  if (differing.empty()) return;
  pb::PeerMessage m = NewMessage(physical_ms);
  auto* push = m.mutable_repair();
  Encode(applied_, push->mutable_applied());
  push->set_want_reply(true);
  AddBucketEntries(differing, push);
  out->messages.emplace_back(from, std::move(m));
}

void Replica::AddBucketEntries(const std::set<uint32_t>& buckets, pb::RepairPush* push) const {
  for (uint32_t b : buckets)
    push->add_buckets(b);
  for (const auto& [key, stored] : states_) {
    const std::string storage_key = storage_keys::State(key);
    if (buckets.count(RangeSummary::BucketOf(storage_key)) == 0) continue;
    auto* entry = push->add_entries();
    entry->set_storage_key(storage_key);
    EncodeState(stored.state, entry->mutable_state());
  }
}

void Replica::HandleRepair(RegionId from, const pb::RepairPush& push, uint64_t physical_ms,
                           Output* out) {
  auto theirs = Decode(push.applied());
  if (!theirs.ok()) {
    Refuse(PeerRefusal::kRepair);
    return;
  }
  if (!(*theirs == applied_)) return;
  std::set<uint32_t> buckets;
  for (uint32_t b : push.buckets()) {
    if (b < RangeSummary::kBuckets) buckets.insert(b);
  }
  for (const auto& entry : push.entries()) {
    bool changed = false;
    if (!MergeEntry(entry, out, &changed).ok()) {
      Refuse(PeerRefusal::kRepair);
      continue;
    }
    if (changed) ++stats_.anti_entropy_repairs;
  }
  SaveStates(out);  // the repaired states are in no log entry (invariant 10)
  if (!push.want_reply()) return;
  pb::PeerMessage m = NewMessage(physical_ms);
  auto* reply = m.mutable_repair();
  Encode(applied_, reply->mutable_applied());
  reply->set_want_reply(false);
  AddBucketEntries(buckets, reply);
  out->messages.emplace_back(from, std::move(m));
}

Status Replica::MergeEntry(const pb::KeyStateEntry& entry, Output* out, bool* changed) {
  auto key = storage_keys::ParseState(entry.storage_key());
  if (!key.ok()) return key.status();
  MERIDIAN_RETURN_IF_ERROR(CheckKeyBounds(*key));  // rule 6 of peer_input.h
  auto incoming = DecodeState(entry.state(), key->data_class);
  if (!incoming.ok()) return incoming.status();
  MergeKeyState(*key, *incoming, out, changed);
  return Status::Ok();
}

void Replica::MergeKeyState(const StateKey& key, const KeyState& incoming, Output* out,
                            bool* changed) {
  auto it = FindState(key);
  KeyState merged = it == states_.end() ? EmptyState(key.data_class) : it->second.state;
  const std::string before = StateBytes(merged);
  const std::string content_before = ContentBytes(merged, before);
  MergeState(merged, incoming);
  const std::string after = StateBytes(merged);
  // Only content counts as a change (a repair); the collected vector alone is bookkeeping.
  *changed = ContentBytes(merged, after) != content_before;
  // Unchanged, but hashed from bytes of another encoding (recovery.cc): saved again, so the
  // summaries agree once more.
  const bool stale_hash =
      it != states_.end() &&
      it->second.entry_hash != RangeSummary::EntryHash(storage_keys::State(key), content_before);
  if (after != before || it == states_.end() || stale_hash) PutState(key, merged, out);
}

}  // namespace meridian
