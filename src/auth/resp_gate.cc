// RespGate: AUTH, HELLO ... AUTH, NOAUTH and NOPERM for a RESP connection (resp_gate.h).
#include "auth/resp_gate.h"

#include "auth/resp_access.h"
#include "resp/command_name.h"

namespace meridian::auth {

namespace {

constexpr std::string_view kWrongPass =
    "WRONGPASS invalid username-password pair or user is disabled.";

RespGateDecision Error(std::string text) {
  return {RespGateDecision::Kind::kReplyError, std::move(text)};
}

bool Authenticate(const KeyStore& keys, RespAuthState& state, std::string_view presented) {
  const KeyEntry* entry = keys.Authenticate(presented);
  if (entry == nullptr) return false;
  state = {true, entry->name, entry->grants};
  return true;
}

}  // namespace

RespGateDecision GateRespCommand(const KeyStore* keys, RespAuthState& state,
                                 std::span<const std::string_view> args,
                                 std::string_view strong_prefix) {
  const std::string name = CommandName(args[0]);
  if (name == "AUTH") {
    if (args.size() < 2 || args.size() > 3) {
      return Error("ERR wrong number of arguments for 'auth' command");
    }
    if (keys == nullptr) {
      return Error(
          "ERR AUTH <password> called without any password configured for the default user. "
          "Are you sure your configuration is correct?");
    }
    if (!Authenticate(*keys, state, args.back())) return Error(std::string(kWrongPass));
    return {RespGateDecision::Kind::kReplyOk, {}};
  }
  if (keys == nullptr) return {};
  if (name == "HELLO") {
    for (size_t i = 1; i + 2 < args.size(); ++i) {
      if (CommandName(args[i]) != "AUTH") continue;
      if (!Authenticate(*keys, state, args[i + 2])) return Error(std::string(kWrongPass));
      break;
    }
    return {};
  }
  if (!state.authenticated) {
    if (AllowedBeforeAuth(name)) return {};
    return Error("NOAUTH Authentication required.");
  }
  const std::string missing = MissingRespPermission(state.grants, args, strong_prefix);
  if (missing.empty()) return {};
  return Error("NOPERM key '" + state.key_name + "' has no permission to run the '" + name +
               "' command: it lacks " + missing);
}

}  // namespace meridian::auth
