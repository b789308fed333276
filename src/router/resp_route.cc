#include "router/resp_route.h"

#include <array>
#include <charconv>

#include "base/assert.h"
#include "resp/command_name.h"

namespace meridian::router {

namespace {

template <size_t N>
bool OneOf(const std::string& name, const std::array<std::string_view, N>& names) {
  for (std::string_view candidate : names) {
    if (name == candidate) return true;
  }
  return false;
}

// The writes of src/server/resp_commands.cc, kept in step with its table (resp_route_test checks
// the names the region documents).
constexpr std::array<std::string_view, 11> kWrites = {
    "SET", "MSET", "INCR", "INCRBY", "DECR", "DECRBY", "HSET", "HDEL", "SADD", "SREM", "DEL"};
// Reads and commands that neither change data nor depend on the connection.
constexpr std::array<std::string_view, 16> kReads = {
    "GET",    "MGET", "HGET", "HMGET", "HGETALL", "SMEMBERS", "SISMEMBER", "SCARD",
    "EXISTS", "TYPE", "PING", "ECHO",  "INFO",    "DBSIZE",   "COMMAND",   "CONFIG"};
constexpr std::array<std::string_view, 5> kRouterOwn = {"HELLO", "CLIENT", "QUIT",
                                                        "MERIDIAN.REGION", "SELECT"};
constexpr std::array<std::string_view, 2> kRefused = {"WAIT", "MERIDIAN.SESSION"};
constexpr std::array<std::string_view, 4> kRetryableErrors = {"TRYAGAIN", "LOADING", "CLUSTERDOWN",
                                                              "MASTERDOWN"};

void AppendBulk(std::string& out, std::string_view bytes) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), bytes.size());
  MERIDIAN_ASSERT(ec == std::errc());
  out += '$';
  out.append(digits, end);
  out += "\r\n";
  out += bytes;
  out += "\r\n";
}

}  // namespace

RespCommandKind ClassifyRespCommand(std::string_view name) {
  const std::string upper = CommandName(name);
  if (OneOf(upper, kWrites)) return RespCommandKind::kWrite;
  if (OneOf(upper, kReads)) return RespCommandKind::kRead;
  if (upper == "MERIDIAN.IDEM") return RespCommandKind::kTagged;
  if (OneOf(upper, kRouterOwn)) return RespCommandKind::kRouter;
  if (OneOf(upper, kRefused)) return RespCommandKind::kRefused;
  return RespCommandKind::kOther;
}

bool RetryAfterTransportFailure(RespCommandKind kind) {
  return kind == RespCommandKind::kRead || kind == RespCommandKind::kWrite ||
         kind == RespCommandKind::kTagged;
}

std::string EncodeRespRequest(std::span<const std::string_view> args,
                              std::string_view idempotency_key) {
  MERIDIAN_ASSERT(!args.empty());
  const bool tagged = !idempotency_key.empty();
  size_t bytes = 16;
  for (std::string_view arg : args)
    bytes += arg.size() + 16;
  std::string out;
  out.reserve(bytes + (tagged ? 48 + idempotency_key.size() : 0));
  const size_t count = args.size() + (tagged ? 2 : 0);
  out += '*';
  out += std::to_string(count);
  out += "\r\n";
  if (tagged) {
    AppendBulk(out, "MERIDIAN.IDEM");
    AppendBulk(out, idempotency_key);
  }
  for (std::string_view arg : args)
    AppendBulk(out, arg);
  return out;
}

bool IsRetryableRespReply(std::string_view frame) {
  std::string_view message;
  if (frame.starts_with('-')) {
    message = frame.substr(1);
  } else if (frame.starts_with('!')) {
    // A blob error: "!<len>\r\n<message>\r\n".
    const size_t line_end = frame.find("\r\n");
    if (line_end == std::string_view::npos) return false;
    message = frame.substr(line_end + 2);
  } else {
    return false;
  }
  const size_t code_end = message.find_first_of(" \r");
  const std::string code(message.substr(0, code_end));
  return OneOf(code, kRetryableErrors);
}

}  // namespace meridian::router
