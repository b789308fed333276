// What the `erasure` experiment reads back: which of an erased subject's keys a region answers
// 410 Gone for.
//
// Contract: every read is bounded (LabCall's timeout); a read that fails, or answers anything but
// 410, counts its key as not gone.
#pragma once

#include <string>
#include <vector>

#include "lab/residency_load.h"

namespace meridian {

struct GoneCheck {
  size_t checked = 0;       // keys read
  size_t gone = 0;          // keys answered 410
  std::string first_other;  // the first key that was not, and what it answered
};

// GET /{class}/{key} of every key in `keys` (one per entry) at `address`.
GoneCheck CheckGone(const std::string& address, const std::vector<ResidencyWrite>& keys);

// The subset of `keys` that `address` does not answer 410 for (one GET each): what a poll still
// waits for.
std::vector<ResidencyWrite> NotYetGone(const std::string& address,
                                       const std::vector<ResidencyWrite>& keys);

}  // namespace meridian
