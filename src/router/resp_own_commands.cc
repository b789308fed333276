#include "router/resp_own_commands.h"

#include <algorithm>

#include "api/session_token.h"
#include "base/assert.h"
#include "resp/command_name.h"

namespace meridian::router {

namespace {

// Client text in an error: one line, cut short.
std::string Shown(std::string_view text) {
  std::string out(text.substr(0, 128));
  std::replace_if(
      out.begin(), out.end(), [](char c) { return c == '\r' || c == '\n'; }, ' ');
  return out;
}

std::string Reply(RespVersion version, const auto& write) {
  std::string out;
  RespWriter writer(&out, version);
  write(writer);
  return out;
}

std::string Error(RespVersion version, std::string_view message) {
  return Reply(version, [&](RespWriter& out) { out.WriteError(message); });
}

std::string WrongArity(RespVersion version, std::string_view name) {
  return Error(version, "ERR wrong number of arguments for '" + CommandName(name) + "' command");
}

std::string Hello(std::span<const std::string_view> args, RespClientState& state,
                  const std::vector<std::string>& names) {
  size_t i = 1;
  RespVersion version = state.version;
  if (args.size() > 1) {
    if (args[1] != "2" && args[1] != "3") {
      return Error(state.version, "NOPROTO unsupported protocol version");
    }
    version = args[1] == "3" ? RespVersion::kResp3 : RespVersion::kResp2;
    i = 2;
  }
  std::optional<std::string> name;
  for (; i < args.size(); ++i) {
    const std::string option = CommandName(args[i]);
    if (option == "SETNAME" && i + 1 < args.size()) {
      name = std::string(args[++i]);
    } else if (option == "AUTH" && i + 2 < args.size()) {
      i += 2;  // no authentication configured: any credentials are accepted, as Redis does
    } else {
      return Error(state.version, "ERR syntax error in HELLO option '" + Shown(args[i]) + "'");
    }
  }
  state.version = version;
  if (name) state.name = *name;
  return Reply(version, [&](RespWriter& out) {
    out.WriteMapHeader(7);
    out.WriteBulk("server");
    out.WriteBulk("meridian-router");
    out.WriteBulk("version");
    out.WriteBulk("7.0.0");
    out.WriteBulk("proto");
    out.WriteInteger(version == RespVersion::kResp3 ? 3 : 2);
    out.WriteBulk("id");
    out.WriteInteger(static_cast<int64_t>(state.id));
    out.WriteBulk("mode");
    out.WriteBulk("standalone");
    out.WriteBulk("role");
    out.WriteBulk("master");
    out.WriteBulk("region");
    out.WriteBulk(names[state.location]);
  });
}

std::string Client(std::span<const std::string_view> args, RespClientState& state) {
  const RespVersion v = state.version;
  if (args.size() < 2) return WrongArity(v, args[0]);
  const std::string sub = CommandName(args[1]);
  if (sub == "SETNAME" && args.size() == 3) {
    state.name = std::string(args[2]);
    return Reply(v, [](RespWriter& out) { out.WriteSimpleString("OK"); });
  }
  if (sub == "GETNAME" && args.size() == 2) {
    return Reply(v, [&](RespWriter& out) {
      state.name.empty() ? out.WriteNull() : out.WriteBulk(state.name);
    });
  }
  if (sub == "ID" && args.size() == 2) {
    return Reply(v, [&](RespWriter& out) { out.WriteInteger(static_cast<int64_t>(state.id)); });
  }
  if (sub == "SETINFO") return Reply(v, [](RespWriter& out) { out.WriteSimpleString("OK"); });
  return Error(v, "ERR unknown subcommand '" + Shown(args[1]) + "' for 'CLIENT'");
}

std::string Region(std::span<const std::string_view> args, RespClientState& state,
                   const std::vector<std::string>& names) {
  const RespVersion v = state.version;
  if (args.size() > 2) return WrongArity(v, args[0]);
  if (args.size() == 2) {
    const auto it = std::find(names.begin(), names.end(), args[1]);
    if (it == names.end()) {
      std::string known;
      for (const std::string& name : names)
        known += (known.empty() ? "" : ", ") + name;
      return Error(v, "ERR unknown region '" + Shown(args[1]) + "' (regions: " + known + ")");
    }
    state.location = static_cast<RegionId>(it - names.begin());
    return Reply(v, [](RespWriter& out) { out.WriteSimpleString("OK"); });
  }
  return Reply(v, [&](RespWriter& out) {
    out.WriteArrayHeader(2);
    out.WriteBulk(names[state.location]);
    state.last_served ? out.WriteBulk(names[*state.last_served]) : out.WriteNull();
  });
}

// As a region's MERIDIAN.SESSION (server/resp_commands.cc), on the router's token.
std::string Session(std::span<const std::string_view> args, RespClientState& state) {
  const RespVersion v = state.version;
  if (args.size() > 2) return WrongArity(v, args[0]);
  if (args.size() == 2) {
    const Result<std::vector<VersionVector>> token =
        DecodeSlicedSessionToken(args[1], static_cast<uint32_t>(state.tokens.size()));
    if (!token.ok()) return Error(v, "ERR invalid session token: " + token.status().message());
    for (size_t slice = 0; slice < state.tokens.size(); ++slice)
      state.tokens[slice].Merge((*token)[slice]);
  }
  return Reply(v, [&](RespWriter& out) { out.WriteBulk(EncodeSlicedSessionToken(state.tokens)); });
}

}  // namespace

std::string AnswerOwnCommand(std::span<const std::string_view> args, RespClientState& state,
                             const std::vector<std::string>& region_names) {
  MERIDIAN_ASSERT(!args.empty() && state.location < region_names.size());
  const std::string name = CommandName(args[0]);
  const RespVersion v = state.version;
  if (name == "HELLO") return Hello(args, state, region_names);
  if (name == "CLIENT") return Client(args, state);
  if (name == "MERIDIAN.REGION") return Region(args, state, region_names);
  if (name == "SELECT") {
    if (args.size() != 2) return WrongArity(v, args[0]);
    if (args[1] != "0") return Error(v, "ERR DB index is out of range");
    return Reply(v, [](RespWriter& out) { out.WriteSimpleString("OK"); });
  }
  if (name == "QUIT") {
    state.quit = true;
    return Reply(v, [](RespWriter& out) { out.WriteSimpleString("OK"); });
  }
  MERIDIAN_ASSERT(name == "MERIDIAN.SESSION");
  return Session(args, state);
}

}  // namespace meridian::router
