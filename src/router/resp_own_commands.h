// The RESP commands the router answers itself (resp_route.h rule 4): those whose effect is the
// client connection's own state, which cannot travel over upstream connections shared between
// clients. Pure: no I/O.
//
//   HELLO [2|3] [AUTH user pass] [SETNAME name]   the connection's protocol; answered as a region
//                                                 does, with "region" naming the client's location
//   CLIENT SETNAME|GETNAME|ID|SETINFO              the connection's name and id
//   SELECT 0                                       the only database
//   QUIT                                           +OK, then the router closes the connection
//   MERIDIAN.REGION [name]                         with a name: the client's location from now on
//                                                  (which region is nearest); without: an array of
//                                                  the location and the region that served the
//                                                  connection's last forwarded command (or nil)
//   MERIDIAN.SESSION [token]                       the client's session token, which the router
//                                                  keeps (resp_route.h rule 7); with a token
//                                                  (from a region, or another connection): merged
//                                                  in, so the client's reads wait for it too
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/ids.h"
#include "clock/version_vector.h"
#include "resp/resp_writer.h"

namespace meridian::router {

// A client connection's state, as these commands read and change it.
struct RespClientState {
  uint64_t id = 0;
  RespVersion version = RespVersion::kResp2;
  std::string name;
  RegionId location = 0;
  std::optional<RegionId> last_served;
  // Everything the client wrote (and MERIDIAN.SESSION merged), in the regions' slot space: one
  // vector per slice of the regions (resp_route.h rule 9; one when they are not sliced).
  std::vector<VersionVector> tokens = std::vector<VersionVector>(1);
  // The client's last write as the region named it, and that region and slice (resp_route.h
  // rules 8 and 9).
  std::optional<std::string> last_write;
  RegionId last_write_region = 0;
  uint32_t last_write_slice = 0;
  bool quit = false;  // QUIT: close once the reply is sent
};

// The encoded reply to `args`, in the connection's protocol after the command.
// REQUIRES: args is not empty and ClassifyRespCommand(args[0]) is kRouter;
// state.location and state.last_served are valid ids of `region_names`.
std::string AnswerOwnCommand(std::span<const std::string_view> args, RespClientState& state,
                             const std::vector<std::string>& region_names);

}  // namespace meridian::router
