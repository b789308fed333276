// ResidencyChecker: the simulator's residency checks (docs/residency.md, RegionNode contract 6:
// each set of allowed regions is a replication group of its own).
//
//  R1. Every message the simulated network delivers (as the receiver parses it off the wire):
//      a message of a pinned group (PeerMessage.group) reaches only the group's members; no op of
//      an op batch, state of a repair or a state-transfer chunk, idempotency record or quorum-read
//      request names a key pinned to a set without the receiver; and a pinned key (a pinned
//      handle's name, in a handle message) travels only in its own group's messages (a pinned key
//      in every region's group is a leak waiting for a receiver). Decoded field by field; then, as
//      a backstop for fields added later, the raw bytes are searched for the name of every key the
//      receiver may not hold.
//  R2. Storage: no record of a region (its disk as the process sees it, and each backup taken of
//      it) lies under the storage prefix of a group the region is not in, or holds the name of a
//      key pinned to a set without it, in its key or its value.
//  R3. After healing and quiet, the members of each pinned group converged: equal vectors and
//      states, no op buffered for a missing dependency, no oplog left, none still rejoining; and
//      a region outside the group has no replica of it.
// The clients' side (Misdirected answers outside the set, nothing applied there, every wait
// answered) is checked by the simulation as the answers arrive.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "node/region_node.h"
#include "replica/residency.h"
#include "store/memory_storage.h"

namespace meridian {

class ResidencyChecker {
 public:
  // `pinned_keys`: every pinned key the workload may write or read; `pinned_handles`: every
  // pinned handle name (canonical) it may claim, release or read.
  ResidencyChecker(Residency residency, RegionId regions, const std::vector<StateKey>& pinned_keys,
                   std::vector<std::string> pinned_handles = {});

  // R1. `bytes`: the message as it was on the wire.
  void OnDeliver(RegionId from, RegionId to, const pb::PeerMessage& message,
                 std::string_view bytes);
  // R2. `what` names the contents for the message ("its disk", "its backup").
  void CheckStorage(RegionId region, const MemoryStorage::Contents& contents,
                    const std::string& what);
  // R3: the first difference found among the members of a pinned group, or nullopt. `nodes`:
  // every region's node (none null).
  std::optional<std::string> GroupDifference(const std::vector<const RegionNode*>& nodes) const;

  // Whether region `region` may hold `key`.
  bool Allowed(const StateKey& key, RegionId region) const;
  const Residency& residency() const { return residency_; }

  uint64_t messages_checked() const { return messages_checked_; }
  uint64_t pinned_messages() const { return pinned_messages_; }  // of pinned groups
  uint64_t records_checked() const { return records_checked_; }
  const std::vector<std::string>& violations() const { return violations_; }

 private:
  // At most a few per kind (messages, storage), so that a flood of one cannot hide the other.
  void Violation(bool storage, std::string what);
  // R1 for one key named in a message of group `mask` delivered to `to`.
  void CheckKey(const StateKey& key, RegionMask mask, RegionId from, RegionId to,
                const char* carried_in);
  void CheckStorageKey(std::string_view storage_key, RegionMask mask, RegionId from, RegionId to,
                       const char* carried_in);

  Residency residency_;
  RegionId regions_;
  std::vector<std::string> pinned_handles_;
  std::vector<std::vector<std::string>> forbidden_;  // per region: names of keys it may not hold
  uint64_t messages_checked_ = 0;
  uint64_t pinned_messages_ = 0;
  uint64_t records_checked_ = 0;
  size_t message_violations_ = 0;
  size_t storage_violations_ = 0;
  std::vector<std::string> violations_;
};

}  // namespace meridian
