// RespGate: authentication and authorization of one Redis-protocol connection, as a pure step
// before each command, shared by a region's RESP front end and the router's.
//
// Rules (Redis's, with API keys as passwords; docs/resp.md):
//  1. With authentication off (no key store), every command runs; AUTH answers Redis's "no
//     password configured" error and HELLO's AUTH option is accepted and ignored.
//  2. With it on, a connection starts unauthenticated: only AUTH, HELLO, PING and QUIT run, the
//     rest get "-NOAUTH Authentication required.".
//  3. `AUTH key` or `AUTH user key` (the user name is ignored: the key names its holder) and
//     `HELLO n AUTH user key` authenticate with a key of the store, or answer "-WRONGPASS ..."
//     and leave the connection as it was. A HELLO whose AUTH succeeds then runs as HELLO.
//  4. An authenticated command the key's grants do not cover gets "-NOPERM ..." naming the
//     missing permission (resp_access.h), and runs nowhere.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "auth/grant.h"
#include "auth/key_store.h"

namespace meridian::auth {

struct RespAuthState {
  bool authenticated = false;
  std::string key_name;
  std::vector<Grant> grants;
};

struct RespGateDecision {
  enum class Kind { kRun, kReplyOk, kReplyError } kind = Kind::kRun;
  std::string error;  // kReplyError: the RESP error line without '-' and CRLF
};

// `keys` nullptr: authentication off (rule 1). REQUIRES: !args.empty().
RespGateDecision GateRespCommand(const KeyStore* keys, RespAuthState& state,
                                 std::span<const std::string_view> args,
                                 std::string_view strong_prefix);

}  // namespace meridian::auth
