// RespAccess: the table of what each RESP command reads and writes (resp_access.h).
#include "auth/resp_access.h"

#include <array>

#include "resp/command_name.h"

namespace meridian::auth {

namespace {

constexpr std::array<std::string_view, 13> kConnection = {
    "PING",    "ECHO", "HELLO",  "AUTH", "QUIT",  "SELECT",          "CLIENT",
    "COMMAND", "INFO", "CONFIG", "WAIT", "RESET", "MERIDIAN.SESSION"};

bool IsConnection(std::string_view name) {
  for (std::string_view c : kConnection) {
    if (name == c) return true;
  }
  // MERIDIAN.WAITFOR answers only how many regions hold a write, as WAIT does.
  return name == "MERIDIAN.REGION" || name == "MERIDIAN.WAITFOR";
}

struct Needs {
  std::vector<Access> all;  // every one must be allowed
};

void AddKeys(Needs& needs, std::span<const std::string_view> keys, size_t step,
             std::string_view data_class, Op op) {
  for (size_t i = 0; i < keys.size(); i += step)
    needs.all.push_back({data_class, op, keys[i]});
}

// REQUIRES: !args.empty(). Contract 1 for what it does not know.
Needs NeedsOf(std::span<const std::string_view> args, std::string_view strong_prefix) {
  const std::string name = CommandName(args[0]);
  const auto rest = args.subspan(1);
  Needs needs;
  auto handle = [&](std::string_view key) {
    return !strong_prefix.empty() && key.starts_with(strong_prefix);
  };
  if (IsConnection(name)) return needs;
  // Both run the command they wrap, which needs what it needs alone.
  if ((name == "MERIDIAN.IDEM" || name == "MERIDIAN.SESSIONED") && args.size() >= 3) {
    return NeedsOf(args.subspan(2), strong_prefix);
  }
  if (name == "GET" && rest.size() == 1) {
    if (handle(rest[0])) return {{{"handle", Op::kRead, rest[0]}}};
    return {{{"register", Op::kRead, rest[0]}, {"counter", Op::kRead, rest[0]}}};
  }
  if (name == "SET" && !rest.empty()) {
    if (handle(rest[0])) return {{{"handle", Op::kWrite, rest[0]}}};
    return {{{"register", Op::kWrite, rest[0]}}};
  }
  if (name == "MGET") {
    AddKeys(needs, rest, 1, "register", Op::kRead);
    AddKeys(needs, rest, 1, "counter", Op::kRead);
  } else if (name == "MSET") {
    AddKeys(needs, rest, 2, "register", Op::kWrite);
  } else if ((name == "INCR" || name == "DECR" || name == "INCRBY" || name == "DECRBY") &&
             !rest.empty()) {
    needs.all.push_back({"counter", Op::kWrite, rest[0]});
  } else if ((name == "HSET" || name == "HDEL") && !rest.empty()) {
    needs.all.push_back({"profile", Op::kWrite, rest[0]});
  } else if ((name == "HGET" || name == "HMGET" || name == "HGETALL") && !rest.empty()) {
    needs.all.push_back({"profile", Op::kRead, rest[0]});
  } else if ((name == "SADD" || name == "SREM") && !rest.empty()) {
    needs.all.push_back({"tags", Op::kWrite, rest[0]});
  } else if ((name == "SMEMBERS" || name == "SISMEMBER" || name == "SCARD") && !rest.empty()) {
    needs.all.push_back({"tags", Op::kRead, rest[0]});
  } else if (name == "DEL") {
    AddKeys(needs, rest, 1, "*", Op::kWrite);
  } else if (name == "EXISTS" || name == "TYPE") {
    AddKeys(needs, rest, 1, "*", Op::kRead);
  } else if (name == "DBSIZE" || name == "SCAN") {
    needs.all.push_back({"*", Op::kRead, "", true});
  } else {
    needs.all.push_back({"*", Op::kRead, "", true});
    needs.all.push_back({"*", Op::kWrite, "", true});
  }
  return needs;
}

}  // namespace

std::string MissingRespPermission(const std::vector<Grant>& grants,
                                  std::span<const std::string_view> args,
                                  std::string_view strong_prefix) {
  if (args.empty()) return {};
  for (const Access& access : NeedsOf(args, strong_prefix).all) {
    if (!Allows(grants, access)) return DescribeAccess(access);
  }
  return {};
}

bool AllowedBeforeAuth(std::string_view name) {
  const std::string upper = CommandName(name);
  return upper == "AUTH" || upper == "HELLO" || upper == "PING" || upper == "QUIT";
}

}  // namespace meridian::auth
