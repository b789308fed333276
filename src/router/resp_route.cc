#include "router/resp_route.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <utility>

#include "base/assert.h"
#include "resp/command_name.h"
#include "resp/resp_reply_framer.h"
#include "strong/handle_name.h"

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
constexpr std::array<std::string_view, 6> kRouterOwn = {
    "HELLO", "CLIENT", "QUIT", "MERIDIAN.REGION", "SELECT", "MERIDIAN.SESSION"};
// The reads of kReads that read data (rule 7).
constexpr std::array<std::string_view, 10> kDataReads = {
    "GET", "MGET", "HGET", "HMGET", "HGETALL", "SMEMBERS", "SISMEMBER", "SCARD", "EXISTS", "TYPE"};
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

// Rule 6: the classes a key named by a command may be of, and which arguments are keys.
struct KeySpec {
  std::span<const DataClass> classes;  // empty: the command names no key
  size_t last = 0;                     // keys are args[1, last), every `step`-th
  size_t step = 1;
};

constexpr DataClass kRegisterOnly[] = {DataClass::kRegister};
constexpr DataClass kCounterOnly[] = {DataClass::kCounter};
constexpr DataClass kProfileOnly[] = {DataClass::kProfile};
constexpr DataClass kTagsOnly[] = {DataClass::kTags};
// GET and MGET answer a string or a counter (server/resp_commands.h).
constexpr DataClass kStringOrCounter[] = {DataClass::kRegister, DataClass::kCounter};

constexpr std::array<std::string_view, 4> kCounterWrites = {"INCR", "INCRBY", "DECR", "DECRBY"};
constexpr std::array<std::string_view, 5> kHashCommands = {"HSET", "HGET", "HMGET", "HGETALL",
                                                           "HDEL"};
constexpr std::array<std::string_view, 5> kSetCommands = {"SADD", "SREM", "SMEMBERS", "SISMEMBER",
                                                          "SCARD"};

KeySpec KeysOf(const std::string& name, size_t argc) {
  const size_t first_only = std::min<size_t>(argc, 2);
  if (name == "SET") return {kRegisterOnly, first_only};
  if (name == "MSET") return {kRegisterOnly, argc, 2};
  if (name == "GET") return {kStringOrCounter, first_only};
  if (name == "MGET") return {kStringOrCounter, argc};
  if (OneOf(name, kCounterWrites)) return {kCounterOnly, first_only};
  if (OneOf(name, kHashCommands)) return {kProfileOnly, first_only};
  if (OneOf(name, kSetCommands)) return {kTagsOnly, first_only};
  if (name == "DEL" || name == "EXISTS") return {kAllDataClasses, argc};
  if (name == "TYPE") return {kAllDataClasses, first_only};
  return {};
}

}  // namespace

Result<std::optional<RegionMask>> RespAllowedRegions(std::span<const std::string_view> args,
                                                     const Residency& residency,
                                                     std::string_view strong_prefix,
                                                     const std::vector<std::string>& region_names) {
  if (residency.empty() || args.empty()) return std::optional<RegionMask>();
  const std::string name = CommandName(args[0]);
  if (name == "MERIDIAN.IDEM") {
    if (args.size() < 3) return std::optional<RegionMask>();
    return RespAllowedRegions(args.subspan(2), residency, strong_prefix, region_names);
  }
  const KeySpec spec = KeysOf(name, args.size());
  const RegionMask every = residency.groups()[0].mask;
  RegionMask allowed = every;
  std::string sets;  // each distinct pinned set, for the error
  for (size_t i = 1; i < spec.last; i += spec.step) {
    const std::string_view key = args[i];
    auto pin = [&](RegionMask mask) {
      const std::string names = "[" + MaskNames(mask, region_names) + "]";
      if (sets.find(names) == std::string::npos) sets += (sets.empty() ? "" : " and ") + names;
      allowed &= mask;
    };
    if (!strong_prefix.empty() && key.starts_with(strong_prefix)) {  // a handle
      // A name that is not canonical is refused by the region, whichever it is.
      const Result<std::string> handle = CanonicalHandleName(key.substr(strong_prefix.size()));
      if (handle.ok() && residency.RuleForHandle(*handle) != nullptr) {
        pin(residency.groups()[residency.GroupOfHandle(*handle)].mask);
      }
      continue;
    }
    for (DataClass data_class : spec.classes) {
      const StateKey state_key{data_class, std::string(key)};
      if (residency.RuleFor(state_key) == nullptr) continue;
      pin(residency.groups()[residency.GroupOf(state_key)].mask);
    }
  }
  if (allowed == every) return std::optional<RegionMask>();
  if (allowed == 0) {
    return FailedPrecondition(
        "the keys of this command (or the classes a key may be of) are "
        "pinned to region sets that share no region: " +
        sets + "; send them in separate commands");
  }
  return std::optional<RegionMask>(allowed);
}

Result<uint32_t> RespCommandSlice(std::span<const std::string_view> args, const KeySlices& slices) {
  if (!slices.sliced() || args.empty()) return 0u;
  const std::string name = CommandName(args[0]);
  if (name == "MERIDIAN.IDEM") {
    if (args.size() < 3) return 0u;
    return RespCommandSlice(args.subspan(2), slices);
  }
  if (name == "SCAN" || name == "DBSIZE") {
    return FailedPrecondition("ERR " + name +
                              " through the router is not built for sliced regions: each slice "
                              "answers for its own keys; ask every slice (cluster mode)");
  }
  const KeySpec spec = KeysOf(name, args.size());
  std::optional<uint32_t> slot;
  for (size_t i = 1; i < spec.last; i += spec.step) {
    const uint32_t key_slot = KeyHashSlot(args[i]);
    if (slot && *slot != key_slot) {
      return FailedPrecondition("CROSSSLOT Keys in request don't hash to the same slot");
    }
    slot = key_slot;
  }
  return slot ? slices.SliceOfSlot(*slot) : 0u;
}

RespCommandKind ClassifyRespCommand(std::string_view name) {
  const std::string upper = CommandName(name);
  if (OneOf(upper, kWrites)) return RespCommandKind::kWrite;
  if (OneOf(upper, kReads)) return RespCommandKind::kRead;
  if (upper == "MERIDIAN.IDEM") return RespCommandKind::kTagged;
  if (OneOf(upper, kRouterOwn)) return RespCommandKind::kRouter;
  if (upper == "WAIT") return RespCommandKind::kWait;
  return RespCommandKind::kOther;
}

bool RetryAfterTransportFailure(RespCommandKind kind) {
  return kind == RespCommandKind::kRead || kind == RespCommandKind::kWrite ||
         kind == RespCommandKind::kTagged;
}

bool IsRespDataCommand(std::span<const std::string_view> args, bool* write) {
  if (args.empty()) return false;
  const std::string name = CommandName(args[0]);
  if (name == "MERIDIAN.IDEM") return args.size() >= 3 && IsRespDataCommand(args.subspan(2), write);
  const bool writes = OneOf(name, kWrites);
  if (write != nullptr) *write = writes;
  return writes || OneOf(name, kDataReads);
}

std::string EncodeRespRequest(std::span<const std::string_view> args,
                              std::string_view idempotency_key,
                              std::optional<std::string_view> session_token) {
  MERIDIAN_ASSERT(!args.empty());
  const bool tagged = !idempotency_key.empty();
  const std::string_view token =
      !session_token || session_token->empty() ? std::string_view("-") : *session_token;
  size_t bytes = 16;
  for (std::string_view arg : args)
    bytes += arg.size() + 16;
  std::string out;
  out.reserve(bytes + (tagged ? 48 + idempotency_key.size() : 0) +
              (session_token ? 48 + token.size() : 0));
  const size_t count = args.size() + (tagged ? 2 : 0) + (session_token ? 2 : 0);
  out += '*';
  out += std::to_string(count);
  out += "\r\n";
  if (session_token) {
    AppendBulk(out, "MERIDIAN.SESSIONED");
    AppendBulk(out, token);
  }
  if (tagged) {
    AppendBulk(out, "MERIDIAN.IDEM");
    AppendBulk(out, idempotency_key);
  }
  for (std::string_view arg : args)
    AppendBulk(out, arg);
  return out;
}

namespace {

// The bulk string at the start of `frame` ("$len\r\nbytes\r\n"), and the rest after it.
std::optional<std::pair<std::string_view, std::string_view>> TakeBulk(std::string_view frame) {
  if (!frame.starts_with('$')) return std::nullopt;
  const size_t line_end = frame.find("\r\n");
  if (line_end == std::string_view::npos) return std::nullopt;
  size_t length = 0;
  const auto [end, ec] = std::from_chars(frame.data() + 1, frame.data() + line_end, length);
  if (ec != std::errc() || end != frame.data() + line_end) return std::nullopt;
  const size_t start = line_end + 2;
  if (frame.size() < start + length + 2 || frame.substr(start + length, 2) != "\r\n") {
    return std::nullopt;
  }
  return std::make_pair(frame.substr(start, length), frame.substr(start + length + 2));
}

}  // namespace

std::optional<SessionedReply> SplitSessionedReply(std::string_view frame) {
  constexpr std::string_view kHeader = "*3\r\n";
  if (!frame.starts_with(kHeader)) return std::nullopt;
  const std::string_view rest = frame.substr(kHeader.size());
  RespReplyFramer framer;
  if (framer.Next(rest) != RespReplyFramer::Outcome::kFrame) return std::nullopt;
  SessionedReply out;
  out.reply = rest.substr(0, framer.frame_bytes());
  const auto token = TakeBulk(rest.substr(framer.frame_bytes()));
  if (!token) return std::nullopt;
  out.token = token->first;
  const std::string_view last = token->second;
  if (last == "$-1\r\n" || last == "_\r\n") return out;
  const auto write = TakeBulk(last);
  if (!write || !write->second.empty()) return std::nullopt;
  out.write = write->first;
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
