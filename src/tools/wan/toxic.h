// Toxic: one impairment on one direction of a WAN proxy, shaped like toxiproxy's toxics.
//
// Directions follow toxiproxy: "upstream" is client -> server (the dialer's bytes towards the
// region it dials), "downstream" is server -> client. Toxics on one stream compose: latencies add
// up, the smallest bandwidth wins, and any timeout toxic stops the stream.
//
//  latency    each chunk is held `latency_ms` + a uniform draw in [-jitter_ms, +jitter_ms]
//             (never below 0), and never released before the chunk read before it: no reordering.
//  bandwidth  at most `rate_kbps` KB/s (1 KB = 1000 bytes, as toxiproxy); 0 means unlimited.
//  timeout    drops every byte of the stream; `timeout_ms` after the toxic appears (or after a
//             connection opens while it exists) the connection is closed. 0 = never close.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace meridian::wan {

enum class ToxicType { kLatency, kBandwidth, kTimeout };
enum class ToxicStream { kUpstream, kDownstream };

struct Toxic {
  std::string name;
  ToxicType type = ToxicType::kLatency;
  ToxicStream stream = ToxicStream::kDownstream;
  int64_t latency_ms = 0;
  int64_t jitter_ms = 0;
  int64_t rate_kbps = 0;
  int64_t timeout_ms = 0;

  bool operator==(const Toxic&) const = default;
};

// Toxics larger than this are typos; a minute is longer than any WAN stall worth emulating
// without a partition (use enabled=false for those).
inline constexpr int64_t kToxicMillisMax = 600'000;
inline constexpr int64_t kToxicRateKbpsMax = 10'000'000;

std::string_view ToxicTypeName(ToxicType type);
std::string_view ToxicStreamName(ToxicStream stream);

// {"name", "type", "stream", "toxicity": 1.0, "attributes": {...}} as toxiproxy prints it.
nlohmann::json ToxicToJson(const Toxic& toxic);

// Parses a toxiproxy toxic body. A missing name becomes "<type>_<stream>"; a missing stream is
// downstream. Unknown types, streams, attributes or keys, out-of-range values and toxicity other
// than 1 are InvalidArgument with a message naming the field.
Result<Toxic> ToxicFromJson(const nlohmann::json& body);

// Applies {"attributes": {...}} (toxiproxy's toxic update) to `toxic`. Name, type and stream
// cannot change.
Status UpdateToxicFromJson(const nlohmann::json& body, Toxic& toxic);

}  // namespace meridian::wan
