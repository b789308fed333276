// Identifiers shared by every layer.
//
// A RegionId is a small dense integer (0..kMaxRegions-1) fixed by the cluster configuration; the
// configuration maps it to a name ("us", "eu", "ap"). Its numeric order is the LWW tiebreak order,
// so it must be identical in every region's configuration.
#pragma once

#include <cstdint>

namespace meridian {

using RegionId = uint32_t;

// Five regions is the largest cluster the issue asks the simulator for; version vectors and
// per-peer state are sized by it. Raising it costs only memory per key.
inline constexpr RegionId kMaxRegions = 8;

}  // namespace meridian
