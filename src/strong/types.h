// Value types of the strong module (class D, handles): ballots, register values, requests,
// replies, and the Output of one step.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/ids.h"
#include "base/status.h"
#include "base/storage.h"
#include "meridian/strong.pb.h"

namespace meridian {

// A Paxos ballot. Ordered by (counter, region); counter 0 is "no ballot". A region only ever
// issues ballots carrying its own id, so two regions never issue the same ballot.
struct Ballot {
  uint64_t counter = 0;
  RegionId region = 0;
  auto operator<=>(const Ballot&) const = default;
  bool IsZero() const { return counter == 0; }
  std::string ToString() const;
};

// Round 1 of a never-written handle has counter 1 and no phase 1. Counter 2 is the proposer's
// own record that its round-1 value was chosen (it accepts it again at (2, self) before telling
// its client). Classic rounds (Prepare, then Accept) use counters from 3. StrongNode invariant 9.
inline constexpr uint64_t kRound1Counter = 1;
inline constexpr uint64_t kRound1ChosenCounter = 2;
inline constexpr uint64_t kFirstClassicCounter = 3;

// Numeric values are on the wire and on disk: never renumber.
enum class HandleOpKind : uint8_t {
  kClaim = 1,
  kRelease = 2,
  kRead = 3,
};

// A request as the HTTP layer hands it over. `name` may be in any case (it is canonicalised);
// `owner` is required for claim and release, ignored for read.
struct HandleRequest {
  HandleOpKind kind = HandleOpKind::kRead;
  std::string name;
  std::string owner;
};

// Numeric values are on the wire: never renumber.
enum class HandleOutcome : uint8_t {
  kClaimed = 1,      // 201: the requester owns the handle (now, or already did)
  kTaken = 2,        // 409: someone else owns it; record.owner says who
  kReleased = 3,     // 200/204: the requester owned it and it is free now
  kForbidden = 4,    // 403: release by someone who is not the owner
  kNotFound = 5,     // 404: read or release of a free handle
  kValue = 6,        // 200: read of an owned handle; record says whose
  kUnavailable = 7,  // 503: no majority (or the owner region) answered in time; the operation
                     // may or may not have taken effect
};
const char* HandleOutcomeName(HandleOutcome o);

struct HandleRecord {
  std::string name;
  std::string owner;  // empty for a free handle
  uint64_t claimed_physical_ms = 0;
  uint64_t version = 0;  // number of claims and releases the handle has seen
};

struct HandleReply {
  uint64_t request_id = 0;
  HandleOutcome outcome = HandleOutcome::kUnavailable;
  HandleRecord record;
  std::string message;  // human-readable, for kUnavailable
};

// Everything one step of a StrongNode asks the shell to do, in this order: persist `records`
// atomically and synced -> then send `messages` and deliver `replies`. A promise or an accepted
// value must be durable before any peer or client hears of it (Paxos' acceptor contract).
struct StrongOutput {
  RecordBatch records;
  std::vector<std::pair<RegionId, pb::StrongMessage>> messages;
  std::vector<HandleReply> replies;
};

// Identifies one request: the ballot of its batch's first round and its place in the batch.
// Unique per handle because ballots are (StrongNode invariant 2).
struct OpId {
  Ballot ballot;
  uint32_t index = 0;
  bool operator==(const OpId&) const = default;
};

// One mutation in a handle's recent history; see StrongNode invariant 5.
struct HandleMutation {
  uint64_t version = 0;
  OpId op_id;
  HandleOpKind kind = HandleOpKind::kClaim;
  bool operator==(const HandleMutation&) const = default;
};

// The value of one handle's register.
struct HandleValue {
  std::string owner;  // empty: free
  uint64_t version = 0;
  uint64_t claimed_physical_ms = 0;
  std::vector<HandleMutation> recent;  // oldest first, consecutive versions ending at `version`
  bool operator==(const HandleValue&) const = default;
};

// What applying one request to a value gives.
struct AppliedRequest {
  HandleValue value;
  HandleOutcome outcome = HandleOutcome::kNotFound;
  bool mutated = false;
};

// The register's semantics (a compare-and-set register per handle):
//   claim(o):   free -> owner o, kClaimed | owned by o -> unchanged, kClaimed | else kTaken
//   release(o): owned by o -> free, kReleased | free -> kNotFound | else kForbidden
//   read:       free -> kNotFound | else kValue
// A mutation bumps the version and appends {version, op_id, kind} to `recent`, keeping at most
// `recent_max` entries. Pure.
AppliedRequest ApplyRequest(const HandleRequest& request, const HandleValue& base, OpId op_id,
                            uint64_t physical_ms, size_t recent_max);

HandleRecord RecordOf(const std::string& name, const HandleValue& value);

// Codecs (the decoders validate what they read).
void Encode(const Ballot& b, pb::Ballot* out);
Ballot Decode(const pb::Ballot& b);
void Encode(const HandleValue& v, pb::HandleValue* out);
Result<HandleValue> Decode(const pb::HandleValue& v);

}  // namespace meridian
