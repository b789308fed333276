#include "sim/checker_residency.h"

#include <algorithm>
#include <utility>

#include "replica/key_state.h"
#include "replica/storage_keys.h"

namespace meridian {
namespace {

std::string KeyName(const StateKey& k) {
  return std::string(DataClassName(k.data_class)) + "/" + k.key;
}

std::string MaskName(RegionMask mask) {
  std::string out;
  for (RegionId r = 0; r < kMaxRegions; ++r) {
    if (!Residency::Holds(mask, r)) continue;
    out += (out.empty() ? "" : "+") + std::to_string(r);
  }
  return "{" + out + "}";
}

// A pinned group's records: "g", its mask in eight hex digits, "/" (src/node/region_node.cc).
std::optional<RegionMask> GroupOfRecord(std::string_view key) {
  if (key.size() < 10 || key[0] != 'g' || key[9] != '/') return std::nullopt;
  RegionMask mask = 0;
  for (size_t i = 1; i < 9; ++i) {
    const char c = key[i];
    const int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (digit < 0) return std::nullopt;
    mask = (mask << 4) | static_cast<RegionMask>(digit);
  }
  return mask;
}

}  // namespace

ResidencyChecker::ResidencyChecker(Residency residency, RegionId regions,
                                   const std::vector<StateKey>& pinned_keys,
                                   std::vector<std::string> pinned_handles)
    : residency_(std::move(residency)),
      regions_(regions),
      pinned_handles_(std::move(pinned_handles)),
      forbidden_(regions) {
  for (const StateKey& key : pinned_keys) {
    for (RegionId r = 0; r < regions_; ++r) {
      if (!Allowed(key, r)) forbidden_[r].push_back(key.key);
    }
  }
  for (const std::string& name : pinned_handles_) {
    const RegionMask mask = residency_.groups()[residency_.GroupOfHandle(name)].mask;
    for (RegionId r = 0; r < regions_; ++r) {
      if (!Residency::Holds(mask, r)) forbidden_[r].push_back(name);
    }
  }
}

bool ResidencyChecker::Allowed(const StateKey& key, RegionId region) const {
  const size_t group = residency_.GroupOf(key);
  return group == 0 || Residency::Holds(residency_.groups()[group].mask, region);
}

void ResidencyChecker::Violation(bool storage, std::string what) {
  size_t& count = storage ? storage_violations_ : message_violations_;
  if (count++ < 10) violations_.push_back(std::move(what));
}

void ResidencyChecker::CheckKey(const StateKey& key, RegionMask mask, RegionId from, RegionId to,
                                const char* carried_in) {
  const size_t group = residency_.GroupOf(key);
  if (group == 0) return;
  const RegionMask pinned = residency_.groups()[group].mask;
  const std::string route = std::to_string(from) + "->" + std::to_string(to);
  if (!Residency::Holds(pinned, to)) {
    Violation(false, "residency: " + std::string(carried_in) + " of pinned key " + KeyName(key) +
                         " (allowed in " + MaskName(pinned) + ") was delivered to region " +
                         std::to_string(to) + " (" + route + ", group " + MaskName(mask) + ")");
  } else if (mask != pinned) {
    Violation(false, "residency: " + std::string(carried_in) + " of pinned key " + KeyName(key) +
                         " travelled in the messages of group " +
                         (mask == 0 ? "every region" : MaskName(mask)) + " instead of its own " +
                         MaskName(pinned) + " (" + route + ")");
  }
}

void ResidencyChecker::CheckStorageKey(std::string_view storage_key, RegionMask mask, RegionId from,
                                       RegionId to, const char* carried_in) {
  auto key = storage_keys::ParseState(storage_key);
  if (key.ok()) CheckKey(*key, mask, from, to, carried_in);
}

void ResidencyChecker::OnDeliver(RegionId from, RegionId to, const pb::PeerMessage& m,
                                 std::string_view bytes) {
  ++messages_checked_;
  const RegionMask mask = m.group();
  if (mask != 0) {
    ++pinned_messages_;
    if (!Residency::Holds(mask, to)) {
      Violation(false, "residency: a message of pinned group " + MaskName(mask) + " (body case " +
                           std::to_string(m.body_case()) + ") was delivered to region " +
                           std::to_string(to) + " from " + std::to_string(from));
    }
  }
  auto check = [&](uint32_t data_class, const std::string& key, const char* what) {
    if (auto c = DataClassFromNumber(data_class)) CheckKey({*c, key}, mask, from, to, what);
  };
  switch (m.body_case()) {
    case pb::PeerMessage::kOps:
      for (const pb::Op& op : m.ops().ops())
        check(op.data_class(), op.key(), "an op");
      break;
    case pb::PeerMessage::kRepair:
      for (const pb::KeyStateEntry& e : m.repair().entries())
        CheckStorageKey(e.storage_key(), mask, from, to, "an anti-entropy repair");
      break;
    case pb::PeerMessage::kSnapshot:
      for (const pb::KeyStateEntry& e : m.snapshot().entries())
        CheckStorageKey(e.storage_key(), mask, from, to, "a state-transfer chunk");
      for (const pb::IdempotencyRecordEntry& e : m.snapshot().idempotency())
        check(e.record().data_class(), e.record().key(), "an idempotency record");
      break;
    case pb::PeerMessage::kReadRequest:
      check(m.read_request().data_class(), m.read_request().key(), "a quorum-read request");
      break;
    case pb::PeerMessage::kStrong: {
      // Every handle message names its handle (or, a sync page, several): a pinned one only in
      // its group's messages.
      const std::string body = m.strong().SerializeAsString();
      for (const std::string& name : pinned_handles_) {
        const size_t group = residency_.GroupOfHandle(name);
        if (body.find(name) != std::string::npos && residency_.groups()[group].mask != mask &&
            group != 0) {
          Violation(false, "residency: pinned handle " + name +
                               " travelled in a message of group " + MaskName(mask) + " " +
                               std::to_string(from) + "->" + std::to_string(to));
        }
      }
      break;
    }
    default:
      // Acks, summaries, snapshot acks and read replies name no key: their group says whose
      // they are (checked above). Handle messages carry no key of the replica.
      break;
  }
  // The backstop: no name of a key the receiver may not hold, anywhere in the bytes.
  for (const std::string& name : forbidden_[to]) {
    if (bytes.find(name) != std::string_view::npos) {
      Violation(false, "residency: the bytes of a message " + std::to_string(from) + "->" +
                           std::to_string(to) + " (group " + MaskName(mask) + ", body case " +
                           std::to_string(m.body_case()) + ") contain pinned key " + name);
      break;
    }
  }
}

void ResidencyChecker::CheckStorage(RegionId region, const MemoryStorage::Contents& contents,
                                    const std::string& what) {
  for (const auto& [key, value] : contents) {
    ++records_checked_;
    if (auto mask = GroupOfRecord(key); mask && !Residency::Holds(*mask, region)) {
      Violation(true, "residency: region " + std::to_string(region) +
                          " holds a record of pinned group " + MaskName(*mask) + " in " + what);
      return;
    }
    for (const std::string& name : forbidden_[region]) {
      if (key.find(name) != std::string::npos || value.find(name) != std::string::npos) {
        Violation(true, "residency: region " + std::to_string(region) + " holds pinned key " +
                            name + " in " + what + " (in a '" + key.substr(0, 1) + "' record)");
        return;
      }
    }
  }
}

std::optional<std::string> ResidencyChecker::GroupDifference(
    const std::vector<const RegionNode*>& nodes) const {
  const auto& groups = residency_.groups();
  for (size_t g = 1; g < groups.size(); ++g) {
    const std::string name = "pinned group " + MaskName(groups[g].mask);
    const Replica* first = nullptr;
    RegionId first_region = 0;
    for (RegionId r = 0; r < nodes.size(); ++r) {
      const Replica* replica = nodes[r]->group_replica(g);
      if (!Residency::Holds(groups[g].mask, r)) {
        if (replica != nullptr) return "region " + std::to_string(r) + " has a replica of " + name;
        continue;
      }
      if (replica == nullptr) return "member " + std::to_string(r) + " has no replica of " + name;
      const std::string who = name + " member " + std::to_string(r);
      if (replica->rejoining()) return who + " is still rejoining";
      if (replica->buffered_ops() > 0) {
        return who + " waits for the dependencies of " + std::to_string(replica->buffered_ops()) +
               " buffered ops";
      }
      if (replica->oplog_size() > 0) {
        return who + " still holds " + std::to_string(replica->oplog_size()) +
               " ops not acknowledged by every member";
      }
      if (first == nullptr) {
        first = replica;
        first_region = r;
        continue;
      }
      const std::string pair =
          name + " members " + std::to_string(first_region) + " and " + std::to_string(r);
      if (!(replica->applied() == first->applied())) {
        return pair + " did not converge: vectors " + first->applied().ToString() + " vs " +
               replica->applied().ToString();
      }
      if (replica->states().size() != first->states().size()) {
        return pair + " did not converge: " + std::to_string(first->states().size()) + " vs " +
               std::to_string(replica->states().size()) + " keys";
      }
      auto a = first->states().begin();
      for (auto b = replica->states().begin(); b != replica->states().end(); ++a, ++b) {
        if (!(a->first == b->first) ||
            ContentBytes(a->second.state) != ContentBytes(b->second.state))
          return pair + " did not converge: key " + KeyName(a->first) + " differs";
      }
    }
  }
  return std::nullopt;
}

}  // namespace meridian
