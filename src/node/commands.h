// The typed command model of a region: what every front end (HTTP/JSON, the Redis protocol)
// translates a client's request into, and what the region node answers. Pure data, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "base/status.h"
#include "clock/version_vector.h"
#include "replica/replica.h"
#include "replica/types.h"
#include "strong/types.h"

namespace meridian {

enum class Consistency : uint8_t {
  kLocal,   // answer from this region's state
  kQuorum,  // answer after a majority of regions confirmed they hold at least this state
  kAll,     // answer after every region did (unavailable while any region is unreachable)
};

// How many regions must hold a write durably before it is answered, this one included (see
// RegionNode's contract 5): `replicas` (1 is the default, ?w=local), or a majority (?w=majority)
// or every one (?w=all) of the regions that may hold the key (its residency set, contract 6).
enum class WriteLevel : uint8_t { kCount, kMajority, kAll };
struct WriteCommand {
  ClientWrite write;
  uint32_t replicas = 1;  // kCount only
  WriteLevel level = WriteLevel::kCount;
};
struct ReadCommand {
  StateKey key;
  std::optional<VersionVector> session;  // wait until this region has applied it
  Consistency consistency = Consistency::kLocal;
};
struct HandleCommand {
  HandleRequest request;
};
// A page of the keys this region shows (KeyPresent), in key order: of one class, or of every
// class in class order (the Redis keyspace); only keys starting with `prefix`; after `after`
// (exclusive) when set. At most `limit` keys, and at most kScanExaminedMax states examined, so a
// page costs bounded work however many deleted keys lie in the range. A key written after a
// page was cut appears in a later page if it sorts after the cursor: pages never repeat or skip
// a key that stays present throughout.
//
// A global scan (ScanScope::kGlobal, RegionNode contract 8) merges the same page of every
// reachable region that holds the keys (CRDT merge per key): each region's page holds the first
// `limit` keys after the cursor it has, so the first `limit` keys of the merged pages are the
// first of the union, and the page ends at the earliest cut among them. Bounded in time
// (quorum_timeout_ms); a region that did not answer is named in missing_regions (a partial page).
inline constexpr size_t kScanLimitMax = 1000;
inline constexpr size_t kScanExaminedMax = 10'000;
enum class ScanScope : uint8_t { kLocal, kGlobal };
struct ScanCommand {
  std::optional<DataClass> data_class;  // nullopt: every class
  std::string prefix;
  std::optional<StateKey> after;
  size_t limit = 100;  // 1..kScanLimitMax
  ScanScope scope = ScanScope::kLocal;
};
struct ScanResult {
  std::vector<std::pair<StateKey, KeyState>> entries;
  std::optional<StateKey> next;  // where the next page starts (exclusive); nullopt at the end
  VersionVector applied;         // what the page reflects, as a read's (this region's part)
  ScanScope scope = ScanScope::kLocal;
  // kGlobal: the regions whose page is not in this one (unreachable, or no answer in time), by
  // name; empty when every region holding the keys answered.
  std::vector<std::string> missing_regions;
};

// Erases a subject (src/node/subject_vault.h): its data keys are destroyed here and, through
// replication, in every region that may hold its keys; its keys are deleted. Answered (a
// WriteReply without a dot) once the erasure is durable here.
struct EraseCommand {
  std::string subject;
};

using NodeCommand =
    std::variant<WriteCommand, ReadCommand, HandleCommand, ScanCommand, EraseCommand>;

// Chosen by the front end, unique among its requests in flight; the node hands it back.
using RequestId = uint64_t;

// The answer to one command: an error (the command changed nothing, or for writes "may or may
// not have taken effect" when the storage failed after it was applied, said in the message), or
// the command's result.
struct NodeReply {
  RequestId id = 0;
  std::variant<Status, WriteReply, ReadResult, HandleReply, ScanResult> result;
};

}  // namespace meridian
