// Dot: the identity of one operation, (origin region, per-origin sequence number).
//
// Invariants:
//  1. seq starts at 1; seq 0 means "no operation" and never names a real op.
//  2. An origin assigns consecutive seqs to its ops, so a version vector entry n says that ops
//     1..n of that origin are covered.
#pragma once

#include <compare>
#include <cstdint>
#include <string>

#include "base/ids.h"

namespace meridian {

struct Dot {
  RegionId origin = 0;
  uint64_t seq = 0;

  auto operator<=>(const Dot&) const = default;
  std::string ToString() const {
    return "(" + std::to_string(origin) + "," + std::to_string(seq) + ")";
  }
};

}  // namespace meridian
