// Rebuilding a replica from its persisted records after a restart: the single records (vectors,
// incarnation, clock) in Recover, the scans of the state, oplog and idempotency records beside it.
#include "base/assert.h"
#include "clock/clock_codec.h"
#include "replica/op_codec.h"
#include "replica/replica.h"
#include "replica/storage_keys.h"

namespace meridian {
namespace {

template <typename Message>
Result<Message> ParseRecord(std::string_view bytes, std::string_view what) {
  Message m;
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return DataLoss("unreadable " + std::string(what) + " record");
  }
  return m;
}

// A record holding one big-endian uint64 (storage_keys::EncodeU64); nullopt when absent.
Result<std::optional<uint64_t>> ReadU64(const Storage& storage, std::string_view key) {
  auto bytes = storage.Get(key);
  if (!bytes.ok()) return bytes.status();
  if (!bytes->has_value()) return std::optional<uint64_t>();
  auto value = storage_keys::DecodeU64(**bytes);
  if (!value.ok()) return value.status();
  return std::optional<uint64_t>(*value);
}

// A record holding an encoded version vector (a peer's cursor); nullopt when absent.
Result<std::optional<VersionVector>> ReadVector(const Storage& storage, std::string_view key,
                                                std::string_view what) {
  auto bytes = storage.Get(key);
  if (!bytes.ok()) return bytes.status();
  if (!bytes->has_value()) return std::optional<VersionVector>();
  auto encoded = ParseRecord<pb::VersionVector>(**bytes, what);
  if (!encoded.ok()) return encoded.status();
  auto vv = Decode(*encoded);
  if (!vv.ok()) return vv.status();
  return std::optional<VersionVector>(*vv);
}

// The clock's persisted high-water mark; nullopt when absent.
Result<std::optional<HlcTimestamp>> ReadHighWater(const Storage& storage) {
  auto bytes = storage.Get(storage_keys::kHlcHighWater);
  if (!bytes.ok()) return bytes.status();
  if (!bytes->has_value()) return std::optional<HlcTimestamp>();
  auto encoded = ParseRecord<pb::HlcTimestamp>(**bytes, "clock");
  if (!encoded.ok()) return encoded.status();
  auto high_water = Decode(*encoded);
  if (!high_water.ok()) return high_water.status();
  return std::optional<HlcTimestamp>(*high_water);
}

// Every key state record, decoded, to `put` in key order with its storage key and bytes;
// `on_progress` (when set) every kRecoverProgressStates records, with the count so far.
using PutRecovered = std::function<void(std::string_view storage_key, std::string_view bytes,
                                        StateKey&&, KeyState&&)>;
Status ScanStates(const Storage& storage, const PutRecovered& put,
                  const std::function<void(uint64_t states)>& on_progress) {
  return storage.Scan(storage_keys::kStatePrefix,
                      [&put, &on_progress, loaded = uint64_t{0}](
                          std::string_view key, std::string_view value) mutable -> Status {
                        auto state_key = storage_keys::ParseState(key);
                        if (!state_key.ok()) return state_key.status();
                        auto encoded = ParseRecord<pb::KeyState>(value, "state");
                        if (!encoded.ok()) return encoded.status();
                        auto state = DecodeState(*encoded, state_key->data_class);
                        if (!state.ok()) return state.status();
                        put(key, value, std::move(state_key).value(), std::move(state).value());
                        if (on_progress && ++loaded % Replica::kRecoverProgressStates == 0)
                          on_progress(loaded);
                        return Status::Ok();
                      });
}

// Every oplog record, decoded, to `restore` with its index and its encoded bytes, in index
// order.
Status ScanOplog(
    const Storage& storage,
    const std::function<void(uint64_t index, const Op& op, std::string_view encoded)>& restore) {
  return storage.Scan(storage_keys::kOplogPrefix,
                      [&restore](std::string_view key, std::string_view value) -> Status {
                        auto index = storage_keys::ParseOplog(key);
                        if (!index.ok()) return index.status();
                        auto encoded = ParseRecord<pb::Op>(value, "oplog");
                        if (!encoded.ok()) return encoded.status();
                        auto op = DecodeOp(*encoded);
                        if (!op.ok()) return op.status();
                        restore(*index, *op, value);
                        return Status::Ok();
                      });
}

// The oplog's floor: per origin, the highest applied op that is not in the log (truncated, or
// merged from a snapshot without being logged); a peer below it needs a state transfer.
// `logged`: per origin, the seqs in the log, ascending.
VersionVector OplogFloor(const VersionVector& applied,
                         const std::vector<std::vector<uint64_t>>& logged, RegionId region_count) {
  VersionVector floor;
  for (RegionId o = 0; o < region_count; ++o) {
    uint64_t highest_missing = applied.Get(o);
    for (auto it = logged[o].rbegin(); it != logged[o].rend() && *it == highest_missing; ++it) {
      --highest_missing;
    }
    floor.Set(o, highest_missing);
  }
  return floor;
}

// Every idempotency record, into `table`.
Status RestoreIdempotency(const Storage& storage, IdempotencyTable& table) {
  return storage.Scan(storage_keys::kIdempotencyPrefix,
                      [&table](std::string_view key, std::string_view value) -> Status {
                        auto encoded = ParseRecord<pb::IdempotencyRecord>(value, "idempotency");
                        if (!encoded.ok()) return encoded.status();
                        auto record = IdempotencyTable::Decode(*encoded);
                        if (!record.ok()) return record.status();
                        table.Restore(std::string(key.substr(1)), std::move(record).value());
                        return Status::Ok();
                      });
}

}  // namespace

Result<std::unique_ptr<Replica>> Replica::Recover(
    ReplicaOptions options, const Storage& storage,
    const std::function<void(uint64_t states)>& on_progress) {
  auto replica = std::make_unique<Replica>(options);
  Replica& r = *replica;

  auto vv_bytes = storage.Get(storage_keys::kAppliedVector);
  if (!vv_bytes.ok()) return vv_bytes.status();
  if (vv_bytes->has_value() && !options.bugs.forget_vv_on_restart) {
    auto encoded = ParseRecord<pb::VersionVector>(**vv_bytes, "applied vector");
    if (!encoded.ok()) return encoded.status();
    auto vv = Decode(*encoded);
    if (!vv.ok()) return vv.status();
    r.applied_ = *vv;
  }
  // No incarnation on disk: the storage is new, or a restored copy whose incarnation the restore
  // removed. Either way peers may hold more of our own ops than we do (invariant 8).
  auto incarnation = ReadU64(storage, storage_keys::kIncarnation);
  if (!incarnation.ok()) return incarnation.status();
  if (incarnation->has_value()) {
    r.incarnation_ = **incarnation;
    r.incarnation_unwritten_ = false;
    auto rejoin = storage.Get(storage_keys::kRejoinPending);
    if (!rejoin.ok()) return rejoin.status();
    r.rejoining_ = rejoin->has_value();
  } else {
    r.incarnation_unwritten_ = true;
    r.rejoining_ = true;
  }

  auto transfer_id = ReadU64(storage, storage_keys::kNextTransferId);
  if (!transfer_id.ok()) return transfer_id.status();
  if (transfer_id->has_value()) r.next_transfer_id_ = **transfer_id;

  auto high_water = ReadHighWater(storage);
  if (!high_water.ok()) return high_water.status();
  if (high_water->has_value()) r.clock_.Restore(**high_water);

  // Absent: a new storage, or one whose states reflect every logged op (written before states
  // were saved per tick); either way nothing to replay, and the first step writes it.
  auto states_through = ReadU64(storage, storage_keys::kStatesThrough);
  if (!states_through.ok()) return states_through.status();
  r.states_through_unwritten_ = !states_through->has_value();

  MERIDIAN_RETURN_IF_ERROR(ScanStates(
      storage,
      // SaveStates' bookkeeping without its costs: nothing to write back, the decoded state moved
      // in, not copied, and the keys coming in storage order, which is the maps' order (one
      // hinted insert each). Restart time is mostly this loop.
      [&r](std::string_view storage_key, std::string_view bytes, StateKey&& key, KeyState&& state) {
        // The saved bytes are StateBytes(state) (the codec is canonical: crdt.proto), so their
        // hash is the one SaveStates computes, without encoding every state again. A key saved
        // by an older encoding keeps a hash no region computes now until saved again; its first
        // anti-entropy repair does that (MergeKeyState).
        const uint64_t hash = RangeSummary::EntryHash(
            storage_key, HasBookkeeping(state) ? ContentBytes(state, std::string(bytes)) : bytes);
        r.summary_.Update(storage_key, 0, hash);
        if (HasCollectableGarbage(state)) r.garbage_keys_.insert(r.garbage_keys_.end(), key);
        const size_t keys_before = r.states_.size();
        r.states_.emplace_hint(r.states_.end(), std::move(key),
                               StoredState{std::move(state), hash, {}, false});
        MERIDIAN_ASSERT(r.states_.size() == keys_before + 1);  // each key is stored once
      },
      on_progress));
  // Indexed in one pass at its final size (no growth on the way), before the replay below
  // looks states up through it.
  r.index_.Reserve(r.states_.size());
  for (auto it = r.states_.begin(); it != r.states_.end(); ++it)
    r.index_.Insert(it);

  std::vector<std::vector<uint64_t>> logged(kMaxRegions);  // per origin, ascending seqs in the log
  const uint64_t replay_from =
      options.bugs.recover_without_replay ? UINT64_MAX : states_through->value_or(UINT64_MAX);
  MERIDIAN_RETURN_IF_ERROR(ScanOplog(
      storage, [&r, &logged, replay_from](uint64_t index, const Op& op, std::string_view encoded) {
        logged[op.dot.origin].push_back(op.dot.seq);
        // The log's tail beyond the last checkpoint of the marks (CheckpointMarks).
        r.applied_.Set(op.dot.origin, std::max(r.applied_.Get(op.dot.origin), op.dot.seq));
        r.clock_.Restore(op.stamp.time);
        r.oplog_.Restore(index, op.dot, std::string(encoded));
        if (index >= replay_from) r.Replay(op);
      }));
  if (states_through->has_value()) r.oplog_.ResumeAt(**states_through);
  r.oplog_.RaiseFloor(OplogFloor(r.applied_, logged, options.region_count));
  // Postcondition: the floor names only applied ops (nothing beyond the vector is "dropped").
  for (RegionId o = 0; o < options.region_count; ++o) {
    MERIDIAN_ASSERT(r.oplog_.floor().Get(o) <= r.applied_.Get(o));
  }
  MERIDIAN_RETURN_IF_ERROR(RestoreIdempotency(storage, r.idempotency_));

  for (auto& [peer, link] : r.peers_) {
    auto acked = ReadVector(storage, storage_keys::PeerAcked(peer), "peer cursor");
    if (!acked.ok()) return acked.status();
    if (!acked->has_value()) continue;
    link.acked = **acked;
    link.persisted_acked = **acked;
  }
  for (auto& [peer, link] : r.peers_) {
    auto peer_incarnation = ReadU64(storage, storage_keys::PeerIncarnation(peer));
    if (!peer_incarnation.ok()) return peer_incarnation.status();
    if (peer_incarnation->has_value()) link.incarnation = **peer_incarnation;
  }

  r.stability_.OnApplied(r.applied_);
  return replica;
}

}  // namespace meridian
