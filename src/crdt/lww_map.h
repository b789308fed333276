// LWW register and LWW map: class A (profiles).
//
// A profile is a map of fields; each field is a last-writer-wins register ordered by WriteStamp
// (HLC time, then origin region). Concurrent edits to *different* fields both survive; concurrent
// edits to the *same* field keep the higher stamp and lose the other (the conceded lost update).
//
// Deletes are timestamped tombstones, never physical removals on arrival:
//  - deleting a field stores a register with no value at the delete's stamp;
//  - clearing the whole map (DELETE of a profile, or a blob-mode PUT that replaces the object)
//    records `cleared_below`: every field whose stamp is below it is gone, including fields that
//    arrive later with an older stamp.
// Deleting the whole profile (issue 19, item 8) is observed-remove: PrepareDeleteAll tombstones
// every field the deleting region shows, at the delete's stamp. A field the delete did not see
// (written concurrently to another field) survives it; a concurrent write to a field it did see
// meets the tombstone under LWW like any other write (the higher stamp wins). Unlike a clear, it
// hides nothing it did not observe. A map with no live field reads as not found.
//
// Tombstones and `cleared_below` may only be dropped by CollectGarbage(stable), when the op that
// made them is causally stable (every region has applied it and everything concurrent with it),
// so a late, older write can never resurrect a deleted value.
//
// A map that collected tombstones also records `collected`: the vector of ops it certainly
// reflects (the holder's applied vector when it collected). That keeps collection safe where
// stability alone cannot: a region that receives this map by state transfer (a new region, one
// that lost its disk, one restored from an old backup) has not applied those ops and may still
// receive one of them, or hold an old register one of them overwrote. So an op `collected` covers
// is already in the map (Apply ignores it), and in Merge a register written by an op the other
// side's `collected` covers, which the other side no longer holds, was overwritten or collected
// there: it is dropped rather than resurrected (the causal-context join of delta CRDTs).
//
// Invariants:
//  1. Merge is commutative, associative and idempotent (property-tested).
//  2. No field with stamp < cleared_below is ever stored.
//  3. Encode is canonical: equal states encode to equal bytes (fields in key order).
//  4. Two registers compare by (stamp, writer, value). Stamps are unique per write, so the stamp
//     decides; the rest only keeps merge commutative if a peer's bug ever reuses a stamp.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/lazy_box.h"
#include "base/status.h"
#include "clock/dot.h"
#include "clock/hlc.h"
#include "clock/version_vector.h"
#include "meridian/crdt.pb.h"

namespace meridian {

struct LwwRegister {
  std::optional<std::string> value;  // nullopt: a tombstone (when stamp is set)
  WriteStamp stamp;                  // the write that produced this register
  Dot writer;                        // that write's op dot; lets the replica see concurrency

  bool IsTombstone() const { return !value.has_value(); }
  bool operator==(const LwwRegister&) const = default;
};

// One LWW-map operation; every part of it carries the op's single stamp and dot.
struct LwwMapOp {
  bool clear = false;  // clear fields stamped below the op's stamp first (delete / blob put)
  std::vector<std::pair<std::string, std::optional<std::string>>> fields;  // nullopt: delete field
  bool operator==(const LwwMapOp&) const = default;
};

// A same-field contest decided during Apply/Merge, reported so that no overwrite is silent.
struct LwwContest {
  std::string field;
  LwwRegister winner;
  LwwRegister loser;
};

class LwwMap {
 public:
  // Applies `op` stamped `stamp` with identity `dot`. Appends to `contests` (if non-null) every
  // field where an existing register and the op's register met, whichever won; a clear reports
  // each stored register it erases, and a field write hidden by the clear mark is reported with
  // the clear mark as winner. Redelivering the same op changes nothing, nor does an op the map's
  // `collected` vector covers.
  // REQUIRES: dot.seq >= 1, dot.origin == stamp.region, field names in `op` unique.
  void Apply(const LwwMapOp& op, WriteStamp stamp, Dot dot, std::vector<LwwContest>* contests);

  void Merge(const LwwMap& other);

  // The op deleting every live field: each one set to a tombstone, in field order; no field
  // when the map shows none. Does not apply it.
  LwwMapOp PrepareDeleteAll() const;

  // Drops tombstones and the clear mark whose writer dot is covered by `stable`; when it drops
  // any, `collected` takes in `reflected`. Returns how many entries were dropped. Never changes
  // Visible(). REQUIRES: the map reflects every op `reflected` covers (the holder's applied
  // vector).
  // REQUIRES: `stable` is causally stable: no op it does not cover that is concurrent with or
  // older than a covered one can still reach this map, by op or by state merge. And stamps follow
  // causality: every write is stamped above everything its writer had seen (see MaxStamp);
  // otherwise a causally later write stamped below a dropped tombstone would win only at the
  // replicas that dropped it.
  size_t CollectGarbage(const VersionVector& stable, const VersionVector& reflected);

  // Live fields only (tombstones hidden).
  std::map<std::string, std::string> Visible() const;
  // True when some field is live (what a read reports as found).
  bool HasLiveField() const;
  // Stored registers, tombstones included (for tests and the checker).
  const std::map<std::string, LwwRegister>& registers() const { return fields_; }
  const std::optional<LwwRegister>& clear_mark() const { return marks_.get().cleared; }
  const VersionVector& collected() const { return marks_.get().collected; }
  bool Empty() const { return fields_.empty() && !clear_mark().has_value(); }
  // The highest stamp this map ever held, also after its tombstones were collected; nullopt for
  // a map that never saw a write. A local write must be stamped above it, so that it beats what
  // its writer saw even when a clamped clock skew left the HLC behind (and so that a collected
  // tombstone's older writes can never be told apart from newer ones).
  std::optional<WriteStamp> MaxStamp() const;
  // Stored field tombstones plus the clear mark: what CollectGarbage could drop at most.
  size_t TombstoneCount() const;

  // `with_collected` false: the content alone, as anti-entropy hashes it.
  void Encode(pb::LwwMap* out, bool with_collected = true) const;
  static Result<LwwMap> Decode(const pb::LwwMap& in);

  bool operator==(const LwwMap&) const = default;

 private:
  // Applies one register to `field` with LWW, honouring the clear mark.
  void Put(const std::string& field, const LwwRegister& incoming,
           std::vector<LwwContest>* contests);
  // Raises the clear mark to `mark` (a tombstone) and erases the fields it hides.
  void RaiseHighWater(const std::optional<WriteStamp>& stamp);
  void ApplyClear(const LwwRegister& mark, std::vector<LwwContest>* contests);

  // What only a map that was cleared or collected holds (most never are): boxed, so that a key's
  // state (replica/key_state.h) is not this large for every key (docs/memory.md).
  struct Marks {
    // The highest clear seen: its stamp bounds live fields from below; value is always nullopt.
    std::optional<LwwRegister> cleared;
    VersionVector collected;  // see the header comment
    bool operator==(const Marks&) const = default;
  };

  std::map<std::string, LwwRegister> fields_;
  // Highest stamp ever applied or merged; survives CollectGarbage (see MaxStamp).
  std::optional<WriteStamp> high_water_;
  LazyBox<Marks> marks_;
};

}  // namespace meridian
