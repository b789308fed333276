// Topology: who replicates with whom. Shared by the replica core (which routes ops by it) and the
// cluster config (which names it), so both speak of one type.
#pragma once

#include <cstdint>

namespace meridian {

enum class Topology : uint8_t {
  kMesh,  // every region sends its own ops straight to every other region
  kHub,   // spokes talk only to the hub, which relays
  kRing,  // each region talks to its two ring neighbours and relays around the ring
};

}  // namespace meridian
