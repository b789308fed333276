// The typed command model of a region: what every front end (HTTP/JSON, the Redis protocol)
// translates a client's request into, and what the region node answers. Pure data, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "base/status.h"
#include "clock/version_vector.h"
#include "replica/replica.h"
#include "replica/types.h"
#include "strong/types.h"

namespace meridian {

enum class Consistency : uint8_t {
  kLocal,   // answer from this region's state
  kQuorum,  // answer after a majority of regions confirmed they hold at least this state
  kAll,     // answer after every region did (unavailable while any region is unreachable)
};

struct WriteCommand {
  ClientWrite write;
  // Regions that must hold the write durably before it is answered, this one included: 1 (the
  // default, ?w=local), a majority (?w=majority) or every region (?w=all). See RegionNode's
  // contract 5.
  uint32_t replicas = 1;
};
struct ReadCommand {
  StateKey key;
  std::optional<VersionVector> session;  // wait until this region has applied it
  Consistency consistency = Consistency::kLocal;
};
struct HandleCommand {
  HandleRequest request;
};

using NodeCommand = std::variant<WriteCommand, ReadCommand, HandleCommand>;

// Chosen by the front end, unique among its requests in flight; the node hands it back.
using RequestId = uint64_t;

// The answer to one command: an error (the command changed nothing, or for writes "may or may
// not have taken effect" when the storage failed after it was applied, said in the message), or
// the command's result.
struct NodeReply {
  RequestId id = 0;
  std::variant<Status, WriteReply, ReadResult, HandleReply> result;
};

}  // namespace meridian
