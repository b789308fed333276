// RegionNode: subjects (contract 7). Values of a subject's keys are sealed on the way in and
// opened on the way out; keyrings travel to the regions that may hold the subject's keys; an
// erasure destroys the keys everywhere and deletes what the subject's keys hold here.
#include <algorithm>
#include <set>
#include <string>
#include <utility>

#include "node/region_node.h"
#include "replica/residency.h"
#include "replica/storage_keys.h"

namespace meridian {
namespace {

// A peer's keyring message carries at most this many subjects (a reconnect's full sync is cut
// into messages of this size).
constexpr size_t kSubjectsPerMessage = 512;

}  // namespace

RegionMask RegionNode::SubjectRegions(std::string_view subject) const {
  return options_.residency.SubjectRegions(vault_.patterns(), subject);
}

Status RegionNode::SealSubjectWrite(WriteCommand* command, const Replica& replica, NodeTime now,
                                    NodeOutput* out) {
  if (!vault_.enabled()) return Status::Ok();
  const std::optional<std::string> subject = vault_.SubjectOf(command->write.target.key);
  if (!subject) return Status::Ok();
  if (const auto* tags = std::get_if<TagsWrite>(&command->write.body);
      tags != nullptr && !tags->remove.empty() && !vault_.erased(*subject)) {
    const std::optional<KeyState> state = replica.Read(command->write.target).state;
    if (state && !vault_.HoldsKeysOf(*subject, *state)) {
      return Unavailable(
          "an element of this key is sealed under a data key that has not reached this region "
          "yet, so a remove could miss it; retry shortly (nothing was written)");
    }
  }
  RecordBatch records;
  bool created = false;
  if (Status sealed = vault_.SealWrite(*subject, &command->write, &records, &created);
      !sealed.ok()) {
    return sealed;
  }
  if (created) {
    TakeRecords(records, out);  // before the write's own step: the key is durable first
    const RegionMask mask = SubjectRegions(*subject);
    for (RegionId peer = 0; peer < options_.replica.region_count; ++peer) {
      if (peer != options_.replica.self && Residency::Holds(mask, peer)) {
        SendSubjectKeys(peer, {*subject}, now, out);
      }
    }
  }
  return Status::Ok();
}

Status RegionNode::OpenForReader(const StateKey& key, std::optional<KeyState>* state) const {
  if (!vault_.enabled()) return Status::Ok();
  const std::optional<std::string> subject = vault_.SubjectOf(key.key);
  if (!subject) return Status::Ok();
  if (!*state) {
    if (vault_.erased(*subject)) return vault_.OpenState(*subject, key, KeyState{}).status();
    return Status::Ok();
  }
  auto opened = vault_.OpenState(*subject, key, **state);
  if (!opened.ok()) return opened.status();
  *state = std::move(opened).value();
  return Status::Ok();
}

void RegionNode::HandleErase(RequestId id, const EraseCommand& command, NodeTime now,
                             NodeOutput* out) {
  if (!vault_.enabled()) {
    out->replies.push_back(
        {id, FailedPrecondition("no subject patterns are configured: nothing names a subject")});
    return;
  }
  if (Status valid = CheckSubjectId(command.subject); !valid.ok()) {
    out->replies.push_back({id, valid});
    return;
  }
  const RegionMask mask = SubjectRegions(command.subject);
  if (!Residency::Holds(mask, options_.replica.self)) {
    ++misdirected_;
    out->replies.push_back(
        {id, Misdirected("this subject's keys are pinned to regions " +
                         MaskNames(mask, options_.region_names) + "; region " +
                         options_.region_names[options_.replica.self] +
                         " does not hold them: send the erasure to one of those")});
    return;
  }
  RecordBatch records;
  if (vault_.Erase(command.subject, &records)) {
    ++subjects_erased_;
    TakeRecords(records, out);
    out->vault_erased = true;
    for (RegionId peer = 0; peer < options_.replica.region_count; ++peer) {
      if (peer != options_.replica.self && Residency::Holds(mask, peer)) {
        SendSubjectKeys(peer, {command.subject}, now, out);
      }
    }
  }
  // Delete what the subject's keys hold here (counters are not sealed; the rest is unreadable
  // already): replicated deletes, like a client's, so the other regions drop them too.
  for (const std::string& prefix : vault_.KeyPrefixes(command.subject)) {
    for (DataClass data_class : kAllDataClasses) {
      if (data_class == DataClass::kStock) continue;  // no delete: a stock holds only a number
      const StateKey start{data_class, prefix};
      const size_t group = options_.residency.GroupOf(start);
      if (group_replica(group) == nullptr) continue;  // this class's keys are not held here
      Replica& replica = *MutableGroupReplica(group);
      std::vector<StateKey> keys;
      for (auto it = replica.states().lower_bound(start);
           it != replica.states().end() && it->first.data_class == data_class &&
           it->first.key.starts_with(prefix);
           ++it) {
        keys.push_back(it->first);
      }
      for (const StateKey& key : keys) {
        Output step;
        ClientWrite del{key, "", KeyDelete{}};
        if (replica.OnClientWrite(del, now.physical_ms, &step).ok()) {
          Absorb(group, std::move(step), out);
        }
      }
    }
  }
  WriteReply reply;
  reply.applied = SlotApplied();
  HoldReply({id, std::move(reply)}, /*needs_sync=*/true, out);
}

void RegionNode::OnSubjectKeys(RegionId from, const pb::SubjectKeys& keys, NodeTime now,
                               NodeOutput* out) {
  std::vector<std::string> answer;
  MergeKeyrings(from, keys, kSubjectsPerMessage, out, &answer);
  if (!answer.empty()) SendSubjectKeys(from, answer, now, out);
}

void RegionNode::MergeKeyrings(RegionId from, const pb::SubjectKeys& keys, size_t max_entries,
                               NodeOutput* out, std::vector<std::string>* answer) {
  if (!vault_.enabled() || keys.entries_size() > static_cast<int>(max_entries)) {
    ++subject_keys_refused_;
    return;
  }
  RecordBatch records;
  for (const pb::SubjectKeyEntry& entry : keys.entries()) {
    if (!CheckSubjectId(entry.subject()).ok()) {
      ++subject_keys_refused_;
      continue;
    }
    // Contract 6 for keyrings: only a region that may hold the subject's keys sends or gets them.
    const RegionMask mask = SubjectRegions(entry.subject());
    if (!Residency::Holds(mask, from) || !Residency::Holds(mask, options_.replica.self)) {
      ++subject_keys_refused_;
      continue;
    }
    bool erased_now = false;
    const Result<bool> merged = vault_.Merge(entry, &records, &erased_now);
    if (!merged.ok()) {
      ++subject_keys_refused_;
      continue;
    }
    if (erased_now) {
      ++subjects_erased_;
      out->vault_erased = true;
    }
    const pb::SubjectKeyEntry mine = vault_.Entry(entry.subject());
    if (mine.erased() != entry.erased() || mine.keys_size() != entry.keys_size()) {
      answer->push_back(entry.subject());
    }
  }
  TakeRecords(records, out);  // a step before the body's: the keys are durable first
}

void RegionNode::AttachKeyrings(RegionId peer, pb::PeerMessage* message) const {
  if (!vault_.enabled() || options_.bugs.subject_keys_unsent) return;
  std::set<std::string> subjects;
  auto note = [&](std::string_view key) {
    if (std::optional<std::string> subject = vault_.SubjectOf(key)) {
      subjects.insert(std::move(*subject));
    }
  };
  auto note_states = [&](const auto& entries) {
    for (const pb::KeyStateEntry& entry : entries) {
      if (auto key = storage_keys::ParseState(entry.storage_key()); key.ok()) note(key->key);
    }
  };
  if (message->has_ops()) {
    for (const pb::Op& op : message->ops().ops())
      note(op.key());
  } else if (message->has_repair()) {
    note_states(message->repair().entries());
  } else if (message->has_snapshot()) {
    note_states(message->snapshot().entries());
  } else if (message->has_scan_reply()) {
    note_states(message->scan_reply().entries());
  }
  // A quorum read's reply names no key: the asker answers Unavailable until the keyring message
  // brings the key (region_node_requests.cc).
  for (const std::string& subject : subjects) {
    if (message->keyrings().entries_size() == static_cast<int>(kKeyringsPerMessage)) break;
    if (!Residency::Holds(SubjectRegions(subject), peer)) continue;
    pb::SubjectKeyEntry entry = vault_.Entry(subject);
    if (entry.keys_size() == 0 && !entry.erased()) continue;  // nothing sealed yet
    *message->mutable_keyrings()->add_entries() = std::move(entry);
  }
}

void RegionNode::SendSubjectKeys(RegionId peer, const std::vector<std::string>& subjects,
                                 NodeTime now, NodeOutput* out) {
  if (options_.bugs.subject_keys_unsent) return;  // seeded bug (self-check)
  const std::vector<std::string> all = subjects.empty() ? vault_.Subjects() : subjects;
  pb::PeerMessage message;
  auto flush = [&] {
    if (message.subject_keys().entries_size() == 0) return;
    message.set_from(options_.replica.self);
    message.set_sent_physical_ms(now.physical_ms);
    HoldMessage(peer, std::move(message), out);  // the keys are durable here before they leave
    message = pb::PeerMessage();
  };
  for (const std::string& subject : all) {
    if (!Residency::Holds(SubjectRegions(subject), peer)) continue;
    *message.mutable_subject_keys()->add_entries() = vault_.Entry(subject);
    if (message.subject_keys().entries_size() == static_cast<int>(kSubjectsPerMessage)) flush();
  }
  flush();
}

}  // namespace meridian
