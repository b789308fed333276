// RGA (replicated growable array): the sequence CRDT behind class text, a collaborative text
// field (docs/replication.md section 2).
//
// The text is a tree of code points. Each element is made by an insert and named by that
// insert's per-key dot plus its index in the inserted text (RgaId); it hangs after its anchor,
// the element it was typed after (the head for position 0). The elements of one insert form a
// chain: code point i anchors code point i+1. Every insert carries a Lamport timestamp per key
// (`lamport`, one above the highest its origin held for the key; code point i takes lamport+i),
// so an insert sorts above everything its origin had seen. The document order is the tree's
// depth-first order with the children of an element highest (lamport, origin) first; elements
// are stored in that order, and an insert finds its place by the classic RGA rule: right after
// its anchor, past the elements whose (lamport, origin) is above its own. A delete tombstones the
// elements it names; a tombstone keeps its place so that inserts anchored at it still find it.
//
// Invariants:
//  1. Apply in any causal order, and Merge of states, reach the same state (property-tested in
//     rga_test.cc); equal states encode to equal bytes (elements in document order).
//  2. An element's lamport is above its anchor's, so a subtree follows its root contiguously and
//     the insert rule above gives the depth-first order.
//  3. (lamport, origin) is unique per element: an origin's inserts on a key take lamports above
//     everything it held, and max_lamport survives garbage collection.
//  4. Every element's dot is covered by the context; an element absent from a state whose
//     context covers its dot was collected there (and is dropped by Merge).
//
// What it guarantees about interleaving (Kleppmann et al., "Interleaving anomalies in
// collaborative text editors", PaPoC 2019): the code points of one insert are never separated
// by a concurrent insert. Only an element anchored inside the run can come between two of its
// code points, and anchoring there requires having seen the run. Concurrent inserts at the same
// position therefore come out as whole runs, the run with the higher (lamport, origin) first.
// What it does not guarantee: text built by several inserts that each anchor at the same
// element (typing backwards, each character inserted at the same position, or several edits
// of one request at one position) is a set of sibling runs, and two regions doing that
// concurrently at one position interleave their runs by (lamport, origin). Text typed forwards
// (each insert after the previous one) chains and does not interleave.
//
// Garbage: a tombstone is dropped (CollectGarbage) once a delete of it is causally stable and no
// element hangs after it. Why that is safe: the replica's stable vector covers an op only when
// every region has applied it and every op any region made before applying it is applied here
// (docs/replication.md section 3, invariant 5). So every op still to arrive was made by a region
// that showed the element deleted, and ops are made from what a region shows: an insert anchors
// only at a live element, a delete names only live ones. No op to come names the tombstone. A
// tombstone with an element after it stays: removing it would change where later inserts at its
// own anchor sort against that subtree (its lamport decides), so it is kept until its subtree is
// gone. A state merged in (state transfer, anti-entropy) drops what the other side collected: its
// context covers the element and it lacks it.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/ids.h"
#include "base/status.h"
#include "clock/dot.h"
#include "clock/version_vector.h"
#include "meridian/crdt.pb.h"

namespace meridian {

// An element: the per-key dot of its insert and its index (in code points) in that insert's
// text. The default value (dot seq 0) is the head, before the first code point.
struct RgaId {
  Dot dot;
  uint32_t index = 0;
  bool is_head() const { return dot.seq == 0; }
  auto operator<=>(const RgaId&) const = default;
};

// One step of an op. An insert (dot.seq >= 1): `text` after `anchor`, code point i named
// {dot, i} with lamport `lamport + i`. A delete (dot unset): tombstones `removed`.
struct RgaEdit {
  Dot dot;
  uint64_t lamport = 0;
  RgaId anchor;
  std::u32string text;
  std::vector<RgaId> removed;
  bool is_insert() const { return dot.seq != 0; }
  bool operator==(const RgaEdit&) const = default;
};

// What one request makes: its edits in order (a later edit may name an element an earlier one
// inserted). A delete of the whole key is one delete of every live element.
struct RgaOp {
  std::vector<RgaEdit> edits;
  bool operator==(const RgaOp&) const = default;
};

// An edit by position, as a client asks for it. Positions count Unicode code points of the
// text as it is after the request's earlier edits.
struct TextEdit {
  bool insert = true;
  uint64_t pos = 0;
  std::string text;  // an insert: UTF-8, not empty
  uint64_t len = 0;  // a delete: code points to remove, at least 1
  bool operator==(const TextEdit&) const = default;
};
struct TextWrite {
  std::vector<TextEdit> edits;  // at least one
  bool operator==(const TextWrite&) const = default;
};

class Rga {
 public:
  // Elements (tombstones included) a region lets a text grow to with its own inserts: encoded
  // at about 20 bytes each this is ~1.3 MiB, the order of the largest profile value, and the
  // linear passes an op makes over the text stay well under a millisecond. Peers' inserts are
  // never refused (convergence needs them), so concurrent inserts may pass it a little.
  static constexpr size_t kMaxElements = 65536;

  // Translates `write`'s edits, one after another on this state's view, into an op of `origin`
  // (not applied). INVALID_ARGUMENT: no edit, an empty insert or delete, text that is not
  // UTF-8, a position (or pos + len) past the text's length at that edit (HTTP 400: the request
  // does not fit the text); OUT_OF_RANGE: the text would pass kMaxElements.
  Result<RgaOp> Prepare(const TextWrite& write, RegionId origin) const;
  // One delete of every live element; no edit when there is none.
  RgaOp PrepareDeleteAll() const;

  // OK when Apply's preconditions hold for a peer's op from `origin` (a hostile peer must not
  // trip the asserts): insert dots of `origin` that follow the context, anchors and removed
  // elements delivered here, lamports above their anchors'.
  Status CheckApplicable(const RgaOp& op, RegionId origin) const;
  // Applies the op; `op_dot` is the replica's dot of the op (recorded on what it deletes, for
  // garbage collection). An insert whose dot the context covers is a duplicate and ignored;
  // deleting an element twice changes nothing. Returns true when the state changed.
  // REQUIRES: CheckApplicable(op, op's origin) is OK (causal delivery gives it).
  bool Apply(const RgaOp& op, Dot op_dot);
  void Merge(const Rga& other);

  // Drops the tombstones that a causally stable delete made and that no element hangs after
  // (header comment). `reflected` is unused (the signature is the other collectors'). Returns
  // how many it dropped.
  size_t CollectGarbage(const VersionVector& stable, const VersionVector& reflected);

  std::string Text() const;  // the live code points, UTF-8
  size_t Length() const;     // live code points
  size_t TombstoneCount() const;
  // Whether some tombstone has no live element after it (in its subtree): what CollectGarbage
  // may drop once the deletes are stable. A tombstone that a live element hangs after waits for
  // a later delete, which changes the state anyway.
  bool HasCollectableTombstones() const;
  size_t ElementCount() const { return elements_.size(); }
  const VersionVector& context() const { return context_; }
  uint64_t max_lamport() const { return max_lamport_; }

  void Encode(pb::Rga* out) const;
  static Result<Rga> Decode(const pb::Rga& in);

  bool operator==(const Rga&) const = default;

 private:
  struct Element {
    RgaId id;
    RgaId anchor;
    uint64_t lamport = 0;
    char32_t code_point = 0;
    std::optional<Dot> deleted_by;  // the lowest op dot that deleted it, here
    bool operator==(const Element&) const = default;
  };
  // Where `id` is in elements_, or elements_.size().
  size_t Find(RgaId id) const;
  void ApplyInsert(const RgaEdit& edit);
  bool ApplyDelete(const RgaEdit& edit, Dot op_dot);
  // The elements in document order (depth-first, children highest key first); false when some
  // element's anchor is missing.
  static bool Linearize(std::vector<Element>& elements);

  std::vector<Element> elements_;  // document order
  VersionVector context_;
  uint64_t max_lamport_ = 0;
};

// UTF-8 <-> code points. DecodeUtf8 rejects what IsValidUtf8 (base/utf8.h) rejects.
std::optional<std::u32string> DecodeUtf8(std::string_view text);
std::string EncodeUtf8(std::u32string_view code_points);

void Encode(const RgaOp& in, pb::RgaOp* out);
Result<RgaOp> Decode(const pb::RgaOp& in);

}  // namespace meridian
