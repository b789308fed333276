// Layout of the replica's records in the Storage key space. One prefix per kind of record so a
// recovery scan can read each kind in order:
//   s<class byte><user key>     -> pb::KeyState      the CRDT state of a key
//   o<8-byte big-endian index>  -> pb::Op            the oplog, in local apply order
//   i<idempotency key>          -> pb::IdempotencyRecord
//   m:vv                        -> pb::VersionVector applied ops
//   m:hlc                       -> pb::HlcTimestamp  high-water mark of stamped writes
//   m:peer:<region byte>        -> pb::VersionVector what that peer acknowledged
//   m:inc                       -> 8-byte big-endian: this region's incarnation (invariant 7)
//   m:rejoin                    -> empty: a new incarnation still waits for its own ops (inv. 8)
//   m:peerinc:<region byte>     -> 8-byte big-endian: that peer's incarnation as last seen
//   m:xferid                    -> 8-byte big-endian: the next outbound state transfer's id
//   m:states                    -> 8-byte big-endian: the saved states hold every logged op
//                                  below this oplog index (Replica invariant 10)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/ids.h"
#include "base/status.h"
#include "replica/types.h"

namespace meridian::storage_keys {

inline constexpr std::string_view kStatePrefix = "s";
inline constexpr std::string_view kOplogPrefix = "o";
inline constexpr std::string_view kIdempotencyPrefix = "i";
inline constexpr std::string_view kAppliedVector = "m:vv";
inline constexpr std::string_view kHlcHighWater = "m:hlc";
inline constexpr std::string_view kPeerAckedPrefix = "m:peer:";
inline constexpr std::string_view kIncarnation = "m:inc";
inline constexpr std::string_view kRejoinPending = "m:rejoin";
inline constexpr std::string_view kPeerIncarnationPrefix = "m:peerinc:";
// Transfer ids never repeat, also across restarts: a receiver holding chunks of a transfer must
// not take chunks of another one for them.
inline constexpr std::string_view kNextTransferId = "m:xferid";
// The oplog index the saved states reflect every logged op below (Replica invariant 10).
// Absent in a store written before states were saved per tick: its states reflect every op.
inline constexpr std::string_view kStatesThrough = "m:states";

inline std::string EncodeU64(uint64_t v) {
  std::string out;
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>(v >> shift));
  return out;
}

inline Result<uint64_t> DecodeU64(std::string_view bytes) {
  if (bytes.size() != 8) return DataLoss("a 64-bit record is not 8 bytes");
  uint64_t v = 0;
  for (char c : bytes)
    v = (v << 8) | static_cast<uint8_t>(c);
  return v;
}

inline std::string State(const StateKey& k) {
  std::string out(kStatePrefix);
  out.push_back(static_cast<char>(k.data_class));
  out += k.key;
  return out;
}

inline Result<StateKey> ParseState(std::string_view storage_key) {
  if (storage_key.size() < 3 || storage_key.substr(0, 1) != kStatePrefix) {
    return InvalidArgument("not a state record key");
  }
  auto c = DataClassFromNumber(static_cast<uint8_t>(storage_key[1]));
  if (!c) return InvalidArgument("state record key has an unknown class");
  return StateKey{*c, std::string(storage_key.substr(2))};
}

// Big-endian, so the records of indexes [a, b) are exactly the keys in [Oplog(a), Oplog(b)):
// the log is trimmed with one range delete (Replica::TruncateOplog).
inline std::string Oplog(uint64_t index) {
  return std::string(kOplogPrefix) + EncodeU64(index);
}

inline Result<uint64_t> ParseOplog(std::string_view storage_key) {
  if (storage_key.size() != 9 || storage_key[0] != kOplogPrefix[0]) {
    return InvalidArgument("not an oplog record key");
  }
  return DecodeU64(storage_key.substr(1));
}

inline std::string Idempotency(std::string_view key) {
  return std::string(kIdempotencyPrefix) + std::string(key);
}

inline std::string PeerAcked(RegionId peer) {
  return std::string(kPeerAckedPrefix) + static_cast<char>(peer);
}

inline std::string PeerIncarnation(RegionId peer) {
  return std::string(kPeerIncarnationPrefix) + static_cast<char>(peer);
}

}  // namespace meridian::storage_keys
