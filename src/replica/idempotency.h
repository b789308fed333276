// IdempotencyTable: what this region knows of writes that carried an idempotency key.
//
// A client (or the router) that retries a write sends the same idempotency key. Two cases:
//  - the retry reaches a region that already knows the key: the write is not made again; the
//    region answers as for the original (Lookup finds it);
//  - the retry reaches a region that did not know the key yet (a failover while the original was
//    in flight): both writes exist, with different dots. Every region that learns both picks the
//    same winner (the lowest WriteStamp); for counters the origin of each losing write cancels it
//    once with a compensation op, so the increment counts once after merge. (LWW writes and tag
//    adds are idempotent in effect: the duplicate re-asserts the same value / member.)
//
// A key names one request: a reuse of the key with another request (another class, key or body)
// is refused (CheckIdempotentRetry), never deduplicated, since answering it as a retry would
// tell the client that something it never sent was done. Each write of a record carries the
// fingerprint of its request, computed from the ClientWrite where it was taken and from the op
// everywhere it replicates to, so the refusal holds in every region the record has reached.
//
// Invariants:
//  1. A record lists every dot known with its key, ascending, with stamps, deltas and request
//     fingerprints alongside.
//  2. A losing dot is compensated at most once, by its origin, and the record says so durably,
//     naming the compensation op. Every region that applies that op records it, and a dot counts
//     as compensated only where the compensation op is applied: a region that lost its disk with
//     a compensation op nobody else had yet makes it again, and one whose compensation op
//     survived elsewhere does not make a second.
//  3. Records are dropped only when all their dots are causally stable (every concurrent duplicate
//     has then been seen here) and the table is over its soft bound; never by a timer.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "clock/dot.h"
#include "clock/hlc.h"
#include "clock/version_vector.h"
#include "meridian/replica.pb.h"
#include "replica/types.h"

namespace meridian {

struct IdempotencyRecord {
  StateKey target;
  struct Write {
    Dot dot;
    WriteStamp stamp;
    int64_t delta = 0;                  // CompensableDelta of its op
    std::optional<Dot> compensated_by;  // the op that cancelled it (a losing own write)
    // RequestFingerprint of the request that made this write; 0 for a record persisted before
    // fingerprints existed (nothing to compare then).
    uint64_t fingerprint = 0;
    bool operator==(const Write&) const = default;
  };
  std::vector<Write> writes;  // ascending by dot

  const Write& Winner() const;
  bool operator==(const IdempotencyRecord&) const = default;
};

// The identity of a request, as a StableHash of a canonical form of its class, key and body
// (profile fields and tag elements in sorted order, as their order carries no meaning); never 0.
// The idempotency key itself is not part of it. The Op overload gives the fingerprint of the
// request that made `op` at its origin: equal to the ClientWrite's for every op BuildOp makes.
uint64_t RequestFingerprint(const ClientWrite& write);
uint64_t RequestFingerprint(const Op& op);

// What a duplicate of `op` (a retry applied in a second region) adds to a value and must be
// cancelled: a counter's delta; a stock add's units (+) or take's (-); 0 for every other op.
int64_t CompensableDelta(const Op& op);

// OK when `write` may be answered as a retry of the request recorded under `idempotency_key`
// (the same class, key and body as the record's winning write, or a legacy record without a
// fingerprint); otherwise FAILED_PRECONDITION naming the idempotency key.
Status CheckIdempotentRetry(const std::string& idempotency_key, const IdempotencyRecord& record,
                            const ClientWrite& write);

class IdempotencyTable {
 public:
  const IdempotencyRecord* Lookup(const std::string& key) const;

  // Records that op `op` (which carries an idempotency key) was applied. Returns the record.
  const IdempotencyRecord& Record(const Op& op);
  // Records that op `by` compensated `dot` of record `key` (a record already dropped is left so).
  void MarkCompensated(const std::string& key, Dot dot, Dot by);
  // Merges a record received in a snapshot.
  const IdempotencyRecord& MergeRecord(const std::string& key, const IdempotencyRecord& record);

  // Own losing counter writes in `record` that still need a compensation op: none applied here
  // (`applied` is the region's vector; invariant 2).
  static std::vector<IdempotencyRecord::Write> PendingCompensations(const IdempotencyRecord& record,
                                                                    RegionId self,
                                                                    const VersionVector& applied);

  // Drops records whose dots are all covered by `stable`, oldest key first, until at most
  // `keep` remain. Returns the dropped keys (the caller deletes their storage records).
  std::vector<std::string> Collect(const VersionVector& stable, size_t keep, RegionId self,
                                   const VersionVector& applied);

  size_t size() const { return records_.size(); }
  const std::map<std::string, IdempotencyRecord>& records() const { return records_; }
  void Restore(const std::string& key, IdempotencyRecord record);

  static void Encode(const IdempotencyRecord& record, pb::IdempotencyRecord* out);
  static Result<IdempotencyRecord> Decode(const pb::IdempotencyRecord& in);

 private:
  std::map<std::string, IdempotencyRecord> records_;
};

}  // namespace meridian
