// RespAccess: the permissions a Redis protocol command needs, one pure table shared by a region's
// RESP front end and the router's (which checks a client's grants before forwarding on its own
// authenticated upstream connections). Follows the command mapping of server/resp_commands.h.
//
// Contract:
//  1. Default deny: a command this table does not know needs read and write on every class and
//     every key (only a full-rights key gets as far as the region's "unknown command").
//  2. A command's permissions cover every class it may touch: GET reads a register, a counter
//     (GET answers counters too) or, under the strong prefix, a handle; DEL, EXISTS and TYPE may
//     touch any class, so they need the operation on every class ("*") for their keys.
//  3. Connection commands (PING ECHO HELLO AUTH QUIT SELECT CLIENT COMMAND INFO CONFIG WAIT
//     MERIDIAN.SESSION MERIDIAN.REGION MERIDIAN.WAITFOR) need nothing once authenticated; DBSIZE
//     counts every key and SCAN lists them, so they need read on every class and key.
//  4. MERIDIAN.IDEM idem-key CMD ARGS... and MERIDIAN.SESSIONED token CMD ARGS... need what
//     CMD ARGS... needs.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "auth/grant.h"

namespace meridian::auth {

// The first permission `grants` lack for the command `args` (args[0] its name, any case), as
// DescribeAccess text, or empty when the command is allowed. `strong_prefix` is the handle
// keyspace's prefix (RespOptions::strong_prefix; empty: no handles).
std::string MissingRespPermission(const std::vector<Grant>& grants,
                                  std::span<const std::string_view> args,
                                  std::string_view strong_prefix);

// Commands a client may send before AUTH (Redis's NOAUTH rule): AUTH HELLO PING QUIT.
bool AllowedBeforeAuth(std::string_view name);

}  // namespace meridian::auth
