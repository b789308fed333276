// The dot kernel shared by OrSet and MvRegister (internal to src/crdt): a store of dotted entries
// plus a causal context, as in the delta-CRDT papers (Almeida, Shoker, Baquero 2018).
//
// A dot the context covers but the store lacks was removed; a dot the context does not cover was
// never seen. Everything below follows from that reading:
//  - joining two stores keeps a dot when both hold it, or when the side lacking it never saw it;
//  - an op's `observed` dots are removed, and its new dot (if any) is added and covered;
//  - a dot already covered is a duplicate.
// Stores are ranges of entries in ascending dot order (a sorted vector of dots, or a map keyed by
// dot); `dot_of` projects an entry onto its dot.
#pragma once

#include <algorithm>
#include <string_view>
#include <vector>

#include <google/protobuf/repeated_ptr_field.h>

#include "base/assert.h"
#include "base/status.h"
#include "clock/dot.h"
#include "clock/version_vector.h"
#include "meridian/clock.pb.h"

namespace meridian::dot_kernel {

// The dot a new local event at `origin` takes: the next one after everything the context covers.
inline Dot NextDot(const VersionVector& context, RegionId origin) {
  MERIDIAN_ASSERT(origin < kMaxRegions);
  return Dot{origin, context.Get(origin) + 1};
}

inline bool StrictlyAscending(const std::vector<Dot>& dots) {
  return std::adjacent_find(dots.begin(), dots.end(), [](Dot a, Dot b) { return a >= b; }) ==
         dots.end();
}

inline bool AllCovered(const std::vector<Dot>& dots, const VersionVector& context) {
  return std::all_of(dots.begin(), dots.end(), [&](Dot d) { return context.Covers(d); });
}

// The causal join of stores `a` (context `context_a`) and `b`; calls `keep(entry)` for every
// surviving entry, in ascending dot order. Both stores must be in ascending dot order.
template <typename Store, typename DotOf, typename Keep>
void Join(const Store& a, const VersionVector& context_a, const Store& b,
          const VersionVector& context_b, DotOf dot_of, Keep keep) {
  auto ia = a.begin();
  auto ib = b.begin();
  while (ia != a.end() || ib != b.end()) {
    if (ib == b.end() || (ia != a.end() && dot_of(*ia) < dot_of(*ib))) {
      if (!context_b.Covers(dot_of(*ia))) keep(*ia);
      ++ia;
    } else if (ia == a.end() || dot_of(*ib) < dot_of(*ia)) {
      if (!context_a.Covers(dot_of(*ib))) keep(*ib);
      ++ib;
    } else {
      // One dot names one write, so both sides hold the same entry. If a peer's bug broke that,
      // keeping the larger entry still makes the join commutative, so replicas converge anyway.
      keep(*ib < *ia ? *ia : *ib);
      ++ia;
      ++ib;
    }
  }
}

// Removes from `store` the entries whose dot is in `observed`; returns how many it removed.
template <typename Store, typename DotOf>
size_t EraseObserved(Store& store, const std::vector<Dot>& observed, DotOf dot_of) {
  return std::erase_if(store, [&](const auto& entry) {
    return std::find(observed.begin(), observed.end(), dot_of(entry)) != observed.end();
  });
}

// --- Codec helpers (decoding is a trust boundary: validate, never assert) ----------------------

void EncodeDots(const std::vector<Dot>& dots, google::protobuf::RepeatedPtrField<pb::Dot>* out);

// Decodes a strictly ascending list of valid dots; `what` names the list in error messages.
Result<std::vector<Dot>> DecodeDots(const google::protobuf::RepeatedPtrField<pb::Dot>& in,
                                    std::string_view what);

// An op's observed dots are older than its own dot: none equals it, none from its origin is newer.
Status CheckObservedPrecede(Dot dot, const std::vector<Dot>& observed, std::string_view what);

// Decodes a required causal context.
Result<VersionVector> DecodeContext(bool present, const pb::VersionVector& in,
                                    std::string_view what);

}  // namespace meridian::dot_kernel
