// OR-set (add-wins observed-remove set): class C (tags, followers). Also MvRegister below.
//
// The optimized OR-set of Bieniusa et al. (2012) / the dotted "AWSet" of delta-CRDTs: each live
// element carries the dots of the adds that put it there, and the set keeps a causal context of
// every dot it has seen. A remove deletes exactly the dots it observed; a concurrent add has a dot
// the remove never saw, so it survives (add wins). Removed dots stay covered by the context, so a
// late duplicate of an old add is recognised without keeping a tombstone per removed element.
//
// Dots here are per key: (origin region, that region's count of adds to this key). They are
// numbered consecutively per (key, region) and applied in causal order, so the context is a plain
// version vector.
//
// Invariants:
//  1. Merge is commutative, associative and idempotent; op-based apply in causal order and state
//     merge reach the same state.
//  2. Every stored dot is covered by the context.
//  3. No per-removed-element state is kept: the state is live dots plus one vector.
//  4. Encode is canonical (elements sorted, dots sorted).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/ids.h"
#include "base/status.h"
#include "clock/dot.h"
#include "clock/hlc.h"
#include "clock/version_vector.h"
#include "meridian/crdt.pb.h"

namespace meridian {

// An add (has_dot) or a remove (observed only) of one element.
struct OrSetOp {
  std::string element;
  bool is_add = false;
  Dot dot;                    // the add's new per-key dot; unset for removes
  std::vector<Dot> observed;  // dots of `element` seen at the origin: an add replaces them too
  bool operator==(const OrSetOp&) const = default;
};

class OrSet {
 public:
  // Builds the op for a local add/remove at `origin` (does not apply it). Apply each op before
  // preparing the next one: two adds prepared from the same state would share a dot.
  // `observed` is strictly ascending.
  OrSetOp PrepareAdd(const std::string& element, RegionId origin) const;
  OrSetOp PrepareRemove(const std::string& element) const;
  // A delete of the whole set: one remove per live element, in element order (empty when the set
  // shows nothing). Observed-remove like any remove: an add it did not see survives it.
  std::vector<OrSetOp> PrepareRemoveAll() const;

  // Applies an op. An add whose dot the context already covers is a duplicate and changes
  // nothing. Returns true when the visible state or the context changed.
  // REQUIRES (causal delivery): every observed dot is covered; an add's dot is either covered or
  // the next one of its origin (seq == context().Get(origin) + 1).
  bool Apply(const OrSetOp& op);
  // OK when Apply's preconditions hold for `ops` applied in this order: checked before applying
  // ops from a peer, which is not trusted to keep them (src/replica/peer_input.h).
  Status CheckApplicable(const std::vector<OrSetOp>& ops) const;

  void Merge(const OrSet& other);

  bool Contains(const std::string& element) const { return entries_.count(element) > 0; }
  std::vector<std::string> Elements() const;  // sorted
  const std::map<std::string, std::vector<Dot>>& entries() const { return entries_; }
  const VersionVector& context() const { return context_; }

  void Encode(pb::OrSet* out) const;
  static Result<OrSet> Decode(const pb::OrSet& in);

  bool operator==(const OrSet&) const = default;

 private:
  std::map<std::string, std::vector<Dot>> entries_;  // element -> sorted live dots, never empty
  VersionVector context_;
};

// Multi-value register: a write replaces every value it observed; concurrent writes remain as
// siblings until a later write, which observed them, covers them. Same dot kernel as OrSet.
// A delete removes the siblings it observed and writes nothing, so it needs no dot and leaves no
// tombstone (the context remembers what was removed); a concurrent write survives it.
//
// Each sibling keeps the stamp of the write that made it, so the register also reads as a
// last-writer-wins register: Latest() is the sibling with the highest stamp, the same in every
// replica holding the same siblings (Redis strings read this way; the losers stay visible as
// siblings until the next write replaces them, so no overwrite is silent).
struct MvOp {
  std::string value;          // empty for a delete
  Dot dot;                    // per-key dot of this write; unset for a delete
  std::vector<Dot> observed;  // sibling dots the writer saw (and so replaces)
  bool remove = false;        // a delete of the register
  bool operator==(const MvOp&) const = default;
};

// One sibling: a value and the stamp of the write that made it.
struct MvSibling {
  std::string value;
  WriteStamp stamp;
  auto operator<=>(const MvSibling&) const = default;
};

class MvRegister {
 public:
  // Builds the op for a local write at `origin` (does not apply it); it observes every sibling.
  MvOp PrepareWrite(const std::string& value, RegionId origin) const;
  // As above, observing only the siblings whose dots `seen` covers (a client's context: the
  // register as it read it); nullptr observes every sibling. Siblings written after that read
  // survive the write, as siblings of it.
  // REQUIRES: context() covers `seen` (else the op would observe a dot not yet delivered here,
  // and a later delivery of that dot would resurrect a value the client meant to replace).
  MvOp PrepareWrite(const std::string& value, RegionId origin, const VersionVector* seen) const;
  // The delete of the siblings `seen` covers (every sibling when nullptr; does not apply it).
  MvOp PrepareDelete(const VersionVector* seen = nullptr) const;
  // Returns true when the state changed; a covered dot is a duplicate (a delete applied twice
  // finds nothing left to remove). `stamp` is the write's stamp (the op envelope's); a delete
  // ignores it.
  // REQUIRES (causal delivery): as OrSet::Apply.
  bool Apply(const MvOp& op, WriteStamp stamp);
  // OK when Apply's preconditions hold for `op` (as OrSet::CheckApplicable). A sibling of the
  // op's own origin may survive it: a write made with a context observes what its client saw.
  Status CheckApplicable(const MvOp& op) const;
  void Merge(const MvRegister& other);

  // Siblings in dot order; one value when there is no unresolved concurrency.
  std::vector<std::string> Values() const;
  // The value of the sibling with the highest (stamp, dot); nullopt when there is none.
  std::optional<std::string> Latest() const;
  size_t sibling_count() const { return values_.size(); }
  const VersionVector& context() const { return context_; }

  void Encode(pb::MvRegister* out) const;
  static Result<MvRegister> Decode(const pb::MvRegister& in);

  bool operator==(const MvRegister&) const = default;

 private:
  // The siblings' dots `seen` covers, in dot order (all of them when `seen` is nullptr).
  std::vector<Dot> SiblingsSeenIn(const VersionVector* seen) const;

  // Invariant: every sibling's dot is covered by the context. Several siblings may share an
  // origin: a write made with a client's context (PrepareWrite's `seen`) leaves the siblings
  // that client did not see, its own region's included. The dot kernel's join is correct for any
  // set of covered dots, so nothing else depends on one sibling per origin. Sorted by dot, unique:
  // most registers hold one sibling, which a vector keeps in one allocation where a map spends a
  // tree node (docs/memory.md).
  std::vector<std::pair<Dot, MvSibling>> values_;
  VersionVector context_;
};

}  // namespace meridian
