// Value types shared by the replica's parts: data classes, client writes, ops, step outputs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "base/ids.h"
#include "base/storage.h"
#include "clock/dot.h"
#include "clock/hlc.h"
#include "clock/version_vector.h"
#include "crdt/bounded_counter.h"
#include "crdt/lww_map.h"
#include "crdt/or_set.h"
#include "crdt/pn_counter.h"
#include "crdt/rga.h"
#include "meridian/replica.pb.h"

namespace meridian {

// The data classes of DESIGN.md section 3 that replicate asynchronously (class D, handles, is the
// strong module's). Numeric values are on the wire and on disk: never renumber.
enum class DataClass : uint8_t {
  kProfile = 1,   // A: LWW map
  kCounter = 2,   // B: PN-counter
  kTags = 3,      // C: OR-set
  kRegister = 4,  // MV-register (siblings)
  kText = 5,      // RGA text (a collaborative text field)
  kStock = 6,     // bounded counter (escrow): never below zero
};
inline constexpr DataClass kAllDataClasses[] = {DataClass::kProfile, DataClass::kCounter,
                                                DataClass::kTags,    DataClass::kRegister,
                                                DataClass::kText,    DataClass::kStock};

// "profile", "counter", "tags", "register", "text", "stock"
std::string_view DataClassName(DataClass c);
std::optional<DataClass> DataClassFromNumber(uint32_t n);

// The key a state lives under: class and user key together (one namespace per class).
struct StateKey {
  DataClass data_class = DataClass::kProfile;
  std::string key;
  auto operator<=>(const StateKey&) const = default;
};

// A write as the client asked for it, already validated at the edge (sizes, UTF-8).
struct TagsWrite {
  std::vector<std::string> add;
  std::vector<std::string> remove;
};
// A delete of the whole key, whatever its class: observed-remove (docs/replication.md section 2).
// It removes what this region shows of the key; a write it did not see survives it.
// A stock write: units added or taken by the client (a lend is the region node's, to a peer
// that asked for rights; src/crdt/bounded_counter.h).
struct StockWrite {
  StockOpKind kind = StockOpKind::kAdd;
  uint64_t amount = 0;  // > 0
  RegionId to = 0;      // kLend only
  bool operator==(const StockWrite&) const = default;
};
struct KeyDelete {
  bool operator==(const KeyDelete&) const = default;
};
struct ClientWrite {
  StateKey target;
  std::string idempotency_key;  // empty: none
  // Profile: fields to set/delete (and clear for blob mode); counter: signed delta; tags: adds
  // and removes; register: the new value; text: edits by position; stock: an add, take or lend;
  // any class but stock: KeyDelete.
  std::variant<LwwMapOp, int64_t, TagsWrite, std::string, KeyDelete, TextWrite, StockWrite> body;
  // The body's values are sealed (a subject's key, src/node/subject_vault.h): regions seal one
  // request differently (each under the keys it holds), so a retry's body is not compared with
  // the original's, only its class and key (CheckIdempotentRetry). Local; never replicated.
  bool body_sealed = false;
  // Register writes and deletes only: the register's context as the client read it (GET's
  // "context"). The write replaces only the siblings it covers; nullopt replaces every sibling
  // this region shows. Not part of the idempotency fingerprint: a retry repeats the request.
  std::optional<VersionVector> observed_context = std::nullopt;
};

struct WriteReply {
  // The op created; for a deduplicated retry, the original's dot. Dot{} (seq 0) when no op was
  // made: a KeyDelete of a key this region shows nothing of has nothing to remove.
  Dot dot;
  VersionVector applied;  // the region's vector after the write: the session token's content
  bool deduplicated = false;
  // Regions known to hold the write durably when it was answered, this one included; 0 when
  // the write asked only for this region (RegionNode fills it in for w=majority / w=all).
  uint32_t replicated_to = 0;
};

// One replicated operation (decoded form of pb::Op).
struct Op {
  Dot dot;
  WriteStamp stamp;
  VersionVector deps;
  StateKey target;
  std::string idempotency_key;
  std::optional<Dot> compensates;
  // Counter: a delta or a delete; the other classes' deletes use their own bodies (KeyDelete).
  std::variant<LwwMapOp, int64_t, std::vector<OrSetOp>, MvOp, PnCounterDelete, RgaOp, StockOp> body;
  // Counter ops: the origin's increment (delta > 0) or decrement total after this op, which
  // makes applying it idempotent (PnCounter::ApplyTotal). 0 in ops logged before it existed.
  PnCounter::Total counter_total = 0;
  // Made by a KeyDelete: the body removes what the origin showed of the key. A profile's or a
  // tag set's body looks like field deletes or removes; this says the request was a delete
  // (its idempotency fingerprint).
  bool key_delete = false;
};

// Facts about one op applied during a step, for metrics (replication lag) and the simulator's
// checkers (causal order, exactly-once).
struct AppliedOp {
  Dot dot;
  VersionVector deps;
  WriteStamp stamp;  // its physical part against local time gives the replication lag
  StateKey target;
  // A counter or stock op that cancels a duplicate idempotent write: that write's dot, and its
  // own delta (the simulator's references need both when a delete covers one and not the other).
  std::optional<Dot> compensates;
  int64_t counter_delta = 0;  // CompensableDelta (src/replica/idempotency.h): counters and stocks
};

// Everything a step of the replica asks the shell to do, in this order: persist `records`
// atomically (synced) -> then send `messages` and reply to the client.
struct Output {
  RecordBatch records;
  std::vector<std::pair<RegionId, pb::PeerMessage>> messages;
  std::vector<AppliedOp> applied;
  // Keys whose state this step changed other than by an applied op (a repair, a transfer, garbage
  // collection): with `applied`'s targets, every key whose visible state the step's records
  // make durable. (A state record alone says nothing: states are saved after their ops.)
  std::vector<StateKey> changed_unlogged;
  // A snapshot merged in this step: every op covered by this vector became visible at once.
  std::optional<VersionVector> merged_snapshot;
  // Peers' answers to this region's quorum reads (Replica::RequestRead), for the shell.
  std::vector<std::pair<RegionId, pb::ReadReply>> read_replies;
};

}  // namespace meridian
