#include "server/resp_commands.h"

#include <fnmatch.h>
#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <limits>
#include <map>
#include <set>
#include <utility>

#include "api/http_api_validation.h"
#include "api/session_token.h"
#include "base/hash_slot.h"
#include "base/utf8.h"
#include "resp/command_name.h"
#include "strong/handle_name.h"

namespace meridian {
namespace {

enum class KeyType { kNone, kString, kCounter, kHash, kSet };

constexpr std::string_view kWrongType =
    "WRONGTYPE Operation against a key holding the wrong kind of value";

// One line: RESP simple strings and errors end at the first CR or LF.
std::string OneLine(std::string_view message) {
  std::string out(message);
  std::replace_if(
      out.begin(), out.end(), [](char c) { return c == '\r' || c == '\n'; }, ' ');
  return out;
}

std::optional<int64_t> ParseInt(std::string_view s) {
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return value;
}

// The type of `key` here: the first class, in a fixed order, that holds a live state for it.
KeyType TypeOf(const Replica& replica, const std::string& key) {
  constexpr std::pair<DataClass, KeyType> kOrder[] = {{DataClass::kRegister, KeyType::kString},
                                                      {DataClass::kCounter, KeyType::kCounter},
                                                      {DataClass::kProfile, KeyType::kHash},
                                                      {DataClass::kTags, KeyType::kSet}};
  for (const auto& [data_class, type] : kOrder) {
    const KeyState* s = replica.Find(data_class, key);
    if (s != nullptr && KeyPresent(*s)) return type;
  }
  return KeyType::kNone;
}

// The class a key of `type` is read from (strings, and keys of no type, from the register).
DataClass ClassOf(KeyType type) {
  switch (type) {
    case KeyType::kCounter:
      return DataClass::kCounter;
    case KeyType::kHash:
      return DataClass::kProfile;
    case KeyType::kSet:
      return DataClass::kTags;
    case KeyType::kString:
    case KeyType::kNone:
      break;
  }
  return DataClass::kRegister;
}

const char* TypeName(KeyType type) {
  switch (type) {
    case KeyType::kString:
    case KeyType::kCounter:
      return "string";
    case KeyType::kHash:
      return "hash";
    case KeyType::kSet:
      return "set";
    case KeyType::kNone:
      break;
  }
  return "none";
}

RespPlan Immediate(RespVersion version, const std::function<void(RespWriter&)>& write) {
  RespPlan plan;
  RespWriter out(&plan.reply, version);
  write(out);
  return plan;
}

RespPlan Error(RespVersion version, std::string_view message) {
  return Immediate(version, [&](RespWriter& out) { out.WriteError(OneLine(message)); });
}

RespPlan WrongArity(RespVersion version, std::string_view name) {
  return Error(version, "ERR wrong number of arguments for '" + CommandName(name) + "' command");
}

// The first failed reply among `replies`, or null.
const Status* FirstError(std::span<const NodeReply> replies) {
  for (const NodeReply& r : replies) {
    if (const auto* s = std::get_if<Status>(&r.result)) return s;
  }
  return nullptr;
}

// The state a read answered with, or null when it shows nothing (never written, or deleted).
const KeyState* StateOf(const NodeReply& reply) {
  const auto* read = std::get_if<ReadResult>(&reply.result);
  return read && read->state && KeyPresent(*read->state) ? &*read->state : nullptr;
}

// The string answer of a register or counter state; nullopt for nil.
std::optional<std::string> StringValue(const KeyState* state) {
  if (state == nullptr) return std::nullopt;
  // A string is last-writer-wins: the sibling of the highest stamp, the same in every region.
  if (const auto* reg = std::get_if<MvRegister>(state)) return reg->Latest();
  if (const auto* counter = std::get_if<PnCounter>(state)) {
    auto value = counter->Value();
    return value.ok() ? std::to_string(*value) : std::string("ERR-out-of-range");
  }
  return std::nullopt;
}

class Planner {
 public:
  // `idempotency_key`: the key of MERIDIAN.IDEM around this command; empty for none.
  Planner(std::span<const std::string_view> args, RespSession& session, const RespContext& c,
          std::string idempotency_key = "")
      : args_(args),
        session_(session),
        context_(c),
        replica_(c.node.replica()),
        version_(session.version),
        idempotency_key_(std::move(idempotency_key)) {}

  RespPlan Plan() {
    if (args_.empty()) return Error(version_, "ERR empty command");
    const std::string name = CommandName(args_[0]);
    auto it = Table().find(name);
    if (it == Table().end()) {
      std::string shown(args_[0].substr(0, 128));
      return Error(version_, "ERR unknown command '" + shown + "'");
    }
    const auto& [arity, method] = it->second;
    const int argc = static_cast<int>(args_.size());
    if ((arity >= 0 && argc != arity) || (arity < 0 && argc < -arity)) {
      return WrongArity(version_, args_[0]);
    }
    if (auto bad = CheckData(name)) return Error(version_, *bad);
    if (auto moved = CheckSlots(name)) return Error(version_, *moved);
    return (this->*method)();
  }

  // Keys, field names and members must be what the HTTP API can name too (1..512 bytes of UTF-8,
  // keys without '/'), and values valid UTF-8 of at most 1 MiB: HTTP and RESP see the same data,
  // and HTTP shows it as JSON. Connection commands carry no data.
  static std::vector<std::string> KnownNames() {
    std::vector<std::string> names;
    for (const auto& [name, entry] : Table())
      names.push_back(name);
    return names;
  }

  static bool IsDataCommand(const std::string& name) {
    static const std::set<std::string> kData = {
        "GET",    "SET",      "MGET",      "MSET",  "INCR",    "DECR",   "INCRBY",
        "DECRBY", "HSET",     "HGET",      "HMGET", "HGETALL", "HDEL",   "SADD",
        "SREM",   "SMEMBERS", "SISMEMBER", "SCARD", "DEL",     "EXISTS", "TYPE"};
    return kData.contains(name);
  }
  // Which arguments of data command `name` are keys.
  static bool IsKeyArg(const std::string& name, size_t i) {
    const bool all_keys = name == "MGET" || name == "DEL" || name == "EXISTS";
    return i == 1 || all_keys || (name == "MSET" && i % 2 == 1);
  }
  std::optional<std::string> CheckData(const std::string& name) const {
    if (!IsDataCommand(name)) return std::nullopt;
    const bool names = name.starts_with('H') || (name.starts_with('S') && name != "SET");
    for (size_t i = 1; i < args_.size(); ++i) {
      const bool key = IsKeyArg(name, i);
      const bool hset_value = name == "HSET" && i % 2 == 1;
      if (key) {
        if (auto e = api_internal::CheckKey(args_[i])) return "ERR " + e->message;
      } else if (names && !hset_value) {
        if (auto e = api_internal::CheckName(args_[i],
                                             name.starts_with('H') ? "field name" : "set member")) {
          return "ERR " + e->message;
        }
      } else {
        if (auto e = api_internal::CheckValue(args_[i], "value")) return "ERR " + e->message;
        if (!IsValidUtf8(args_[i])) {
          return std::string("ERR values must be valid UTF-8 (the HTTP API shows them as JSON)");
        }
      }
    }
    return std::nullopt;
  }

  // RegionNode contract 10 as Redis Cluster words it: a sliced region's data command names keys
  // of one hash slot (else CROSSSLOT), held by this slice (else MOVED to the slice's listener).
  // A handle's slot is its key's as sent, so in a sliced region only its canonical (lower-case)
  // spelling is accepted: "handle:Bob" and "handle:bob" must not reach two slices.
  std::optional<std::string> CheckSlots(const std::string& name) const {
    const KeySlices& slices = context_.node.options().slices;
    if (!slices.sliced() || !IsDataCommand(name)) return std::nullopt;
    std::optional<uint32_t> slot;
    for (size_t i = 1; i < args_.size(); ++i) {
      if (!IsKeyArg(name, i)) continue;
      if (IsHandle(args_[i])) {
        const std::string_view handle = args_[i].substr(context_.options.strong_prefix.size());
        const Result<std::string> canonical = CanonicalHandleName(handle);
        if (canonical.ok() && *canonical != handle) {
          return "ERR handle names are lower case in a sliced region (a key's hash slot is of "
                 "the key as sent): use '" +
                 context_.options.strong_prefix + *canonical + "'";
        }
      }
      const uint32_t key_slot = KeyHashSlot(args_[i]);
      if (slot && *slot != key_slot) {
        return std::string("CROSSSLOT Keys in request don't hash to the same slot");
      }
      slot = key_slot;
    }
    if (!slot) return std::nullopt;
    const uint32_t owner = slices.SliceOfSlot(*slot);
    if (owner == slices.index) return std::nullopt;
    const auto& listeners = context_.options.slice_listeners;
    if (owner >= listeners.size()) {
      return "ERR hash slot " + std::to_string(*slot) + " is held by slice " +
             std::to_string(owner) + ", whose listener is not known here";
    }
    return "MOVED " + std::to_string(*slot) + " " + listeners[owner].first + ":" +
           std::to_string(listeners[owner].second);
  }

 private:
  using Method = RespPlan (Planner::*)();
  // Redis' arity convention: N exactly, -N at least N (the command name included).
  static const std::map<std::string, std::pair<int, Method>>& Table() {
    static const std::map<std::string, std::pair<int, Method>> table = {
        {"PING", {-1, &Planner::Ping}},
        {"ECHO", {2, &Planner::Echo}},
        {"HELLO", {-1, &Planner::Hello}},
        {"SELECT", {2, &Planner::Select}},
        {"CLIENT", {-2, &Planner::Client}},
        {"COMMAND", {-1, &Planner::Command}},
        {"INFO", {-1, &Planner::Info}},
        {"DBSIZE", {1, &Planner::DbSize}},
        {"QUIT", {1, &Planner::Quit}},
        {"CONFIG", {-2, &Planner::Config}},
        {"WAIT", {3, &Planner::Wait}},
        {"MERIDIAN.SESSION", {-1, &Planner::Session}},
        {"GET", {2, &Planner::Get}},
        {"SET", {-3, &Planner::Set}},
        {"MGET", {-2, &Planner::MGet}},
        {"MSET", {-3, &Planner::MSet}},
        {"INCR", {2, &Planner::Incr}},
        {"DECR", {2, &Planner::Incr}},
        {"INCRBY", {3, &Planner::Incr}},
        {"DECRBY", {3, &Planner::Incr}},
        {"HSET", {-4, &Planner::HSet}},
        {"HGET", {3, &Planner::HGet}},
        {"HMGET", {-3, &Planner::HGet}},
        {"HGETALL", {2, &Planner::HGetAll}},
        {"HDEL", {-3, &Planner::HDel}},
        {"SADD", {-3, &Planner::SetWrite}},
        {"SREM", {-3, &Planner::SetWrite}},
        {"SMEMBERS", {2, &Planner::SetRead}},
        {"SISMEMBER", {3, &Planner::SetRead}},
        {"SCARD", {2, &Planner::SetRead}},
        {"DEL", {-2, &Planner::Del}},
        {"EXISTS", {-2, &Planner::Exists}},
        {"TYPE", {2, &Planner::Type}},
        {"MERIDIAN.IDEM", {-3, &Planner::Idem}},
        {"MERIDIAN.SESSIONED", {-3, &Planner::Sessioned}},
        {"MERIDIAN.WAITFOR", {4, &Planner::WaitFor}},
        {"SCAN", {-2, &Planner::Scan}},
        {"CLUSTER", {-2, &Planner::Cluster}},
    };
    return table;
  }

  std::string Arg(size_t i) const { return std::string(args_[i]); }
  std::string Name() const { return CommandName(args_[0]); }
  bool IsHandle(std::string_view key) const {
    return !context_.options.strong_prefix.empty() &&
           key.starts_with(context_.options.strong_prefix) &&
           key.size() > context_.options.strong_prefix.size();
  }

  std::optional<VersionVector> Token() const {
    if (session_.token.IsZero()) return std::nullopt;
    return session_.token;
  }
  ReadCommand ReadOf(DataClass c, const std::string& key) const {
    return ReadCommand{{c, key}, Token(), Consistency::kLocal};
  }
  // A key of `wanted` type may be written when it is of that type or of none.
  bool Clashes(const std::string& key, std::initializer_list<KeyType> allowed) const {
    const KeyType type = TypeOf(replica_, key);
    if (type == KeyType::kNone) return false;
    return std::find(allowed.begin(), allowed.end(), type) == allowed.end();
  }

  // A plan of writes answered with `on_ok` once every write succeeded; `on_ok` learns whether
  // every write was a deduplicated retry (MERIDIAN.IDEM), i.e. changed nothing now.
  RespPlan Writes(std::vector<NodeCommand> commands,
                  std::function<void(RespWriter&, bool deduplicated)> on_ok) {
    RespPlan plan;
    plan.commands = std::move(commands);
    StampIdempotencyKeys(plan.commands);
    plan.compose = [on_ok = std::move(on_ok)](std::span<const NodeReply> replies,
                                              RespSession& session, RespWriter& out) {
      bool deduplicated = true;
      for (const NodeReply& r : replies) {
        if (const auto* w = std::get_if<WriteReply>(&r.result)) {
          session.token.Merge(w->applied);
          session.last_write = w->dot;
          deduplicated = deduplicated && w->deduplicated;
        }
      }
      if (const Status* error = FirstError(replies)) return WriteStatusError(*error, out);
      on_ok(out, deduplicated);
    };
    return plan;
  }
  RespPlan Writes(std::vector<NodeCommand> commands, std::function<void(RespWriter&)> on_ok) {
    return Writes(std::move(commands),
                  [on_ok = std::move(on_ok)](RespWriter& out, bool) { on_ok(out); });
  }
  // MERIDIAN.IDEM: the command's first write carries the key itself, a further one (MSET, DEL of
  // several keys) the key, U+00B7 and its index ("k·1"). The region dedupes and fingerprints each
  // write on its own, so a retry of the whole command is answered write by write as HTTP
  // retries are; keys are printable ASCII, so no client key collides with a derived one.
  void StampIdempotencyKeys(std::vector<NodeCommand>& commands) const {
    if (idempotency_key_.empty()) return;
    size_t index = 0;
    for (NodeCommand& command : commands) {
      auto* write = std::get_if<WriteCommand>(&command);
      if (write == nullptr) continue;
      write->write.idempotency_key =
          index == 0 ? idempotency_key_ : idempotency_key_ + "\xc2\xb7" + std::to_string(index);
      ++index;
    }
  }

  // --- connection ---
  RespPlan Ping() {
    if (args_.size() > 2) return WrongArity(version_, args_[0]);
    if (args_.size() == 2) {
      return Immediate(version_, [&](RespWriter& out) { out.WriteBulk(args_[1]); });
    }
    return Immediate(version_, [](RespWriter& out) { out.WriteSimpleString("PONG"); });
  }
  RespPlan Echo() {
    return Immediate(version_, [&](RespWriter& out) { out.WriteBulk(args_[1]); });
  }
  RespPlan Hello() {
    size_t i = 1;
    if (args_.size() > 1) {
      auto v = ParseInt(args_[1]);
      if (!v || (*v != 2 && *v != 3)) {
        return Error(version_, "NOPROTO unsupported protocol version");
      }
      session_.version = *v == 3 ? RespVersion::kResp3 : RespVersion::kResp2;
      i = 2;
    }
    for (; i < args_.size(); ++i) {
      const std::string option = CommandName(args_[i]);
      if (option == "SETNAME" && i + 1 < args_.size()) {
        session_.name = Arg(++i);
      } else if (option == "AUTH" && i + 2 < args_.size()) {
        i += 2;  // checked before planning, by the connection's auth gate (auth/resp_gate.h)
      } else {
        return Error(session_.version, "ERR syntax error in HELLO option '" + Arg(i) + "'");
      }
    }
    const std::string& region =
        context_.node.options().region_names[context_.node.options().replica.self];
    return Immediate(session_.version, [&](RespWriter& out) {
      out.WriteMapHeader(7);
      out.WriteBulk("server");
      out.WriteBulk("meridian");
      out.WriteBulk("version");
      out.WriteBulk("7.0.0");
      out.WriteBulk("proto");
      out.WriteInteger(session_.version == RespVersion::kResp3 ? 3 : 2);
      out.WriteBulk("id");
      out.WriteInteger(static_cast<int64_t>(session_.client_id));
      out.WriteBulk("mode");
      out.WriteBulk(context_.node.options().slices.sliced() ? "cluster" : "standalone");
      out.WriteBulk("role");
      out.WriteBulk("master");
      out.WriteBulk("region");
      out.WriteBulk(region);
    });
  }
  RespPlan Select() {
    if (args_[1] != "0") return Error(version_, "ERR DB index is out of range");
    return Immediate(version_, [](RespWriter& out) { out.WriteSimpleString("OK"); });
  }
  RespPlan Client() {
    const std::string sub = CommandName(args_[1]);
    if (sub == "SETNAME" && args_.size() == 3) {
      session_.name = Arg(2);
      return Immediate(version_, [](RespWriter& out) { out.WriteSimpleString("OK"); });
    }
    if (sub == "GETNAME" && args_.size() == 2) {
      return Immediate(version_, [&](RespWriter& out) {
        session_.name.empty() ? out.WriteNull() : out.WriteBulk(session_.name);
      });
    }
    if (sub == "ID" && args_.size() == 2) {
      return Immediate(version_, [&](RespWriter& out) {
        out.WriteInteger(static_cast<int64_t>(session_.client_id));
      });
    }
    if (sub == "SETINFO") {
      return Immediate(version_, [](RespWriter& out) { out.WriteSimpleString("OK"); });
    }
    return Error(version_, "ERR unknown subcommand '" + Arg(1) + "' for 'CLIENT'");
  }
  // COMMAND [INFO name...]: each command's name, arity, flags and key positions (first, last,
  // step) in Redis 6's six-element form, which cluster clients read to find a command's keys;
  // COUNT the table's size; DOCS answers empty.
  RespPlan Command() {
    const std::string sub = args_.size() >= 2 ? CommandName(args_[1]) : "";
    if (sub == "COUNT") {
      return Immediate(version_, [](RespWriter& out) {
        out.WriteInteger(static_cast<int64_t>(Table().size()));
      });
    }
    if (sub == "DOCS") {
      return Immediate(version_, [](RespWriter& out) { out.WriteMapHeader(0); });
    }
    if (!sub.empty() && sub != "INFO") {
      return Error(version_, "ERR unknown subcommand '" + Arg(1).substr(0, 64) + "' for 'COMMAND'");
    }
    return Immediate(version_, [&](RespWriter& out) {
      if (sub.empty()) {
        out.WriteArrayHeader(Table().size());
        for (const auto& [name, entry] : Table())
          WriteCommandInfo(name, entry.first, out);
        return;
      }
      out.WriteArrayHeader(args_.size() - 2);
      for (size_t i = 2; i < args_.size(); ++i) {
        const auto it = Table().find(CommandName(args_[i]));
        it == Table().end() ? out.WriteNull() : WriteCommandInfo(it->first, it->second.first, out);
      }
    });
  }
  static void WriteCommandInfo(const std::string& name, int arity, RespWriter& out) {
    int first = 0, last = 0, step = 0;
    if (IsDataCommand(name)) {
      const bool many = name == "MGET" || name == "MSET" || name == "DEL" || name == "EXISTS";
      first = 1;
      last = many ? -1 : 1;
      step = name == "MSET" ? 2 : 1;
    }
    static const std::set<std::string> kReads = {"GET",     "MGET",     "HGET",  "HMGET",
                                                 "HGETALL", "SMEMBERS", "SCARD", "SISMEMBER",
                                                 "EXISTS",  "TYPE",     "SCAN",  "DBSIZE"};
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    out.WriteArrayHeader(6);
    out.WriteBulk(lower);
    out.WriteInteger(arity);
    const bool data = IsDataCommand(name) || name == "SCAN" || name == "DBSIZE";
    out.WriteArrayHeader(1);
    out.WriteSimpleString(!data ? "fast" : kReads.contains(name) ? "readonly" : "write");
    out.WriteInteger(first);
    out.WriteInteger(last);
    out.WriteInteger(step);
  }

  // --- a sliced region as a Redis Cluster: each slice a master of one slot range ---
  std::string NodeId(uint32_t slice) const {
    // 40 hex digits, as Redis' node ids: the region's index, then the slice's.
    char head[17];
    std::snprintf(head, sizeof(head), "%08x%08x",
                  static_cast<unsigned>(context_.node.options().replica.self) & 0xffffu,
                  slice & 0xffffu);
    return std::string(head) + std::string(24, '0');
  }
  RespPlan Cluster() {
    const std::string sub = CommandName(args_[1]);
    if (sub == "KEYSLOT" && args_.size() == 3) {
      return Immediate(version_, [&](RespWriter& out) { out.WriteInteger(KeyHashSlot(args_[2])); });
    }
    const KeySlices& slices = context_.node.options().slices;
    const auto& listeners = context_.options.slice_listeners;
    if (!slices.sliced() || listeners.size() != slices.count) {
      return Error(version_, "ERR This instance has cluster support disabled");
    }
    if (sub == "MYID" && args_.size() == 2) {
      return Immediate(version_, [&](RespWriter& out) { out.WriteBulk(NodeId(slices.index)); });
    }
    if (sub == "SLOTS" && args_.size() == 2) {
      return Immediate(version_, [&](RespWriter& out) {
        out.WriteArrayHeader(slices.count);
        for (uint32_t i = 0; i < slices.count; ++i) {
          out.WriteArrayHeader(3);
          out.WriteInteger(slices.FirstSlot(i));
          out.WriteInteger(slices.FirstSlot(i + 1) - 1);
          out.WriteArrayHeader(3);
          out.WriteBulk(listeners[i].first);
          out.WriteInteger(listeners[i].second);
          out.WriteBulk(NodeId(i));
        }
      });
    }
    if (sub == "SHARDS" && args_.size() == 2) {
      return Immediate(version_, [&](RespWriter& out) {
        out.WriteArrayHeader(slices.count);
        for (uint32_t i = 0; i < slices.count; ++i) {
          out.WriteMapHeader(2);
          out.WriteBulk("slots");
          out.WriteArrayHeader(2);
          out.WriteInteger(slices.FirstSlot(i));
          out.WriteInteger(slices.FirstSlot(i + 1) - 1);
          out.WriteBulk("nodes");
          out.WriteArrayHeader(1);
          out.WriteMapHeader(6);
          out.WriteBulk("id");
          out.WriteBulk(NodeId(i));
          out.WriteBulk("port");
          out.WriteInteger(listeners[i].second);
          out.WriteBulk("ip");
          out.WriteBulk(listeners[i].first);
          out.WriteBulk("role");
          out.WriteBulk("master");
          out.WriteBulk("replication-offset");
          out.WriteInteger(0);
          out.WriteBulk("health");
          out.WriteBulk("online");
        }
      });
    }
    if (sub == "NODES" && args_.size() == 2) {
      std::string text;
      for (uint32_t i = 0; i < slices.count; ++i) {
        text += NodeId(i) + " " + listeners[i].first + ":" + std::to_string(listeners[i].second) +
                "@0 " + (i == slices.index ? "myself,master" : "master") + " - 0 0 " +
                std::to_string(i + 1) + " connected " + std::to_string(slices.FirstSlot(i)) + "-" +
                std::to_string(slices.FirstSlot(i + 1) - 1) + "\n";
      }
      return Immediate(version_, [&](RespWriter& out) { out.WriteBulk(text); });
    }
    if (sub == "INFO" && args_.size() == 2) {
      const std::string n = std::to_string(slices.count);
      const std::string text =
          "cluster_state:ok\r\ncluster_slots_assigned:16384\r\ncluster_slots_ok:16384\r\n"
          "cluster_slots_pfail:0\r\ncluster_slots_fail:0\r\ncluster_known_nodes:" +
          n + "\r\ncluster_size:" + n + "\r\ncluster_current_epoch:" + n +
          "\r\ncluster_my_epoch:" + std::to_string(slices.index + 1) + "\r\n";
      return Immediate(version_, [&](RespWriter& out) { out.WriteVerbatim("txt", text); });
    }
    return Error(version_, "ERR unknown subcommand or wrong number of arguments for '" +
                               Arg(1).substr(0, 64) + "'. Try CLUSTER HELP.");
  }
  RespPlan Info() {
    const RegionNode& node = context_.node;
    const auto& names = node.options().region_names;
    std::string text =
        "# Server\r\nredis_version:7.0.0\r\nmeridian_region:" + names[node.options().replica.self] +
        "\r\n\r\n# Replication\r\nrole:master\r\nmeridian_health:" +
        std::string(RegionHealthName(node.health())) +
        "\r\nmeridian_applied:" + node.replica().applied().ToString() +
        "\r\nconnected_peers:" + std::to_string([&] {
          size_t n = 0;
          for (RegionId r = 0; r < names.size(); ++r)
            n += node.link_up(r) ? 1 : 0;
          return n;
        }()) +
        "\r\n";
    size_t i = 0;
    for (const PeerStatus& peer : node.replica().Peers()) {
      text += "peer" + std::to_string(i++) + ":region=" + names[peer.region] +
              ",connected=" + (node.link_up(peer.region) ? "1" : "0") +
              ",backlog_ops=" + std::to_string(peer.backlog_ops) +
              ",acked=" + peer.acked.ToString() + "\r\n";
    }
    text += std::string("\r\n# Cluster\r\ncluster_enabled:") +
            (node.options().slices.sliced() ? "1" : "0") + "\r\n";
    text += "\r\n# Keyspace\r\ndb0:keys=" + std::to_string(node.replica().key_count()) + "\r\n";
    return Immediate(version_, [&](RespWriter& out) { out.WriteVerbatim("txt", text); });
  }
  RespPlan DbSize() {
    return Immediate(version_, [&](RespWriter& out) {
      out.WriteInteger(static_cast<int64_t>(context_.node.replica().key_count()));
    });
  }
  RespPlan Quit() {
    session_.quit = true;
    return Immediate(version_, [](RespWriter& out) { out.WriteSimpleString("OK"); });
  }
  RespPlan Config() {
    // Clients and redis-benchmark ask (CONFIG GET save / appendonly); nothing is settable.
    if (CommandName(args_[1]) == "GET") {
      return Immediate(version_, [](RespWriter& out) { out.WriteMapHeader(0); });
    }
    return Error(version_, "ERR CONFIG " + Arg(1) + " is not supported");
  }
  RespPlan Wait() { return WaitOn(session_.last_write, std::nullopt); }
  // MERIDIAN.WAITFOR write n timeout: WAIT for a write MERIDIAN.SESSIONED named, whichever
  // connection made it (the router's, shared between clients).
  RespPlan WaitFor() {
    const std::optional<Dot> write = DecodeRespWrite(args_[1]);
    if (!write) return Error(version_, "ERR invalid write (MERIDIAN.SESSIONED names it)");
    return WaitOn(write, write);
  }
  // WAIT on `write` (none: answer 0 at once); `named`: the write the plan waits on, unset for
  // the connection's last write when the wait is checked.
  RespPlan WaitOn(std::optional<Dot> write, std::optional<Dot> named) {
    const size_t at = args_.size() - 2;  // n and timeout are the last two arguments
    auto regions = ParseInt(args_[at]);
    auto timeout = ParseInt(args_[at + 1]);
    if (!regions || !timeout || *regions < 0 || *timeout < 0) {
      return Error(version_, "ERR value is not an integer or out of range");
    }
    if (!write || *regions == 0) {
      const uint64_t held = write ? context_.node.PeersHolding(*write) : 0;
      return Immediate(version_,
                       [&](RespWriter& out) { out.WriteInteger(static_cast<int64_t>(held)); });
    }
    RespPlan plan;
    plan.wait_regions = static_cast<uint64_t>(*regions);
    plan.wait_write = named;
    const uint64_t cap = context_.options.max_wait_ms;
    const uint64_t wait = *timeout == 0 ? cap : std::min<uint64_t>(*timeout, cap);
    plan.wait_deadline_ms = context_.now_steady_ms + wait;
    return plan;
  }
  RespPlan Idem() {
    if (!idempotency_key_.empty()) return Error(version_, "ERR MERIDIAN.IDEM cannot be nested");
    if (api_internal::CheckIdempotencyKey(args_[1])) {
      return Error(version_, "ERR MERIDIAN.IDEM key must be 1 to " +
                                 std::to_string(kIdempotencyKeyBytesMax) +
                                 " printable ASCII characters");
    }
    return Planner(args_.subspan(2), session_, context_, Arg(1)).Plan();
  }
  // api/session_token.h contract 4: a sliced region's tokens name their slice.
  std::string SliceTag() const {
    const KeySlices& slices = context_.node.options().slices;
    return SliceTokenTag(slices.index, slices.count);
  }
  std::string EncodeToken(const VersionVector& token) const {
    return EncodeSessionToken(token, SliceTag());
  }
  Result<VersionVector> DecodeToken(std::string_view token) const {
    return DecodeSessionToken(token, SliceTag());
  }
  RespPlan Session() {
    if (args_.size() > 2) return WrongArity(version_, args_[0]);
    if (args_.size() == 2) {
      auto token = DecodeToken(args_[1]);
      if (!token.ok())
        return Error(version_, "ERR invalid session token: " + token.status().message());
      session_.token.Merge(*token);
    }
    return Immediate(version_,
                     [&](RespWriter& out) { out.WriteBulk(EncodeToken(session_.token)); });
  }

  // MERIDIAN.SESSIONED token command...: the command as on a connection whose session is
  // `token` alone ("-": none), leaving this connection's own session untouched (the router's
  // connections are shared); answered [reply, token after it, its last write or nil].
  RespPlan Sessioned() {
    auto scoped = std::make_shared<RespSession>();
    if (args_[1] != "-") {
      auto token = DecodeToken(args_[1]);
      if (!token.ok()) {
        return Error(version_, "ERR invalid session token: " + token.status().message());
      }
      scoped->token = *token;
    }
    // Only commands that read or write data: the others are the connection's own state.
    std::span<const std::string_view> inner = args_.subspan(2);
    if (CommandName(inner[0]) == "MERIDIAN.IDEM" && inner.size() >= 3) inner = inner.subspan(2);
    if (!IsDataCommand(CommandName(inner[0]))) {
      return Error(version_, "ERR MERIDIAN.SESSIONED runs data commands only, not '" +
                                 CommandName(inner[0]).substr(0, 64) + "'");
    }
    scoped->version = version_;
    scoped->client_id = session_.client_id;
    RespPlan plan = Planner(args_.subspan(2), *scoped, context_).Plan();
    auto wrap = [scoped, tag = SliceTag()](std::string_view reply, RespWriter& out) {
      out.WriteArrayHeader(3);
      out.out().append(reply);
      out.WriteBulk(tag + EncodeSessionToken(scoped->token));
      scoped->last_write ? out.WriteBulk(EncodeRespWrite(*scoped->last_write)) : out.WriteNull();
    };
    if (plan.commands.empty()) {
      const std::string reply = std::move(plan.reply);
      plan.reply.clear();
      RespWriter out(&plan.reply, version_);
      wrap(reply, out);
      return plan;
    }
    plan.compose = [inner_compose = std::move(plan.compose), scoped, wrap](
                       std::span<const NodeReply> replies, RespSession& session, RespWriter& out) {
      std::string reply;
      RespWriter inner_out(&reply, session.version);
      inner_compose(replies, *scoped, inner_out);
      wrap(reply, out);
    };
    return plan;
  }

  // --- strings, counters, handles ---
  RespPlan Get() {
    const std::string key = Arg(1);
    if (IsHandle(key)) return HandleRead(key);
    const KeyType type = TypeOf(replica_, key);
    if (type == KeyType::kHash || type == KeyType::kSet) return Error(version_, kWrongType);
    RespPlan plan;
    plan.commands.push_back(ReadOf(ClassOf(type), key));
    plan.compose = [](std::span<const NodeReply> replies, RespSession&, RespWriter& out) {
      if (const Status* error = FirstError(replies)) return WriteStatusError(*error, out);
      auto value = StringValue(StateOf(replies[0]));
      value ? out.WriteBulk(*value) : out.WriteNull();
    };
    return plan;
  }
  RespPlan Set() {
    const std::string key = Arg(1);
    bool nx = false;
    for (size_t i = 3; i < args_.size(); ++i) {
      if (CommandName(args_[i]) == "NX") {
        nx = true;
      } else {
        return Error(version_, "ERR SET option '" + Arg(i) +
                                   "' is not supported (only NX, on the handle keyspace)");
      }
    }
    if (IsHandle(key)) {
      if (!nx) return Error(version_, "ERR a handle is claimed with SET name owner NX");
      HandleRequest request{HandleOpKind::kClaim, key.substr(context_.options.strong_prefix.size()),
                            Arg(2)};
      RespPlan plan;
      plan.commands.push_back(HandleCommand{std::move(request)});
      plan.compose = [](std::span<const NodeReply> replies, RespSession&, RespWriter& out) {
        if (const Status* error = FirstError(replies)) return WriteStatusError(*error, out);
        const auto& reply = std::get<HandleReply>(replies[0].result);
        if (reply.outcome == HandleOutcome::kClaimed) return out.WriteSimpleString("OK");
        if (reply.outcome == HandleOutcome::kTaken) return out.WriteNull();
        out.WriteError("TRYAGAIN " +
                       OneLine(reply.message.empty() ? "handle unavailable" : reply.message));
      };
      return plan;
    }
    if (nx) return Error(version_, "ERR SET NX is linearizable only on the handle keyspace");
    if (Clashes(key, {KeyType::kString})) return Error(version_, kWrongType);
    std::vector<NodeCommand> writes;
    writes.push_back(WriteCommand{{{DataClass::kRegister, key}, "", Arg(2)}});
    return Writes(std::move(writes), [](RespWriter& out) { out.WriteSimpleString("OK"); });
  }
  RespPlan HandleRead(const std::string& key) {
    HandleRequest request{HandleOpKind::kRead, key.substr(context_.options.strong_prefix.size()),
                          ""};
    RespPlan plan;
    plan.commands.push_back(HandleCommand{std::move(request)});
    plan.compose = [](std::span<const NodeReply> replies, RespSession&, RespWriter& out) {
      if (const Status* error = FirstError(replies)) return WriteStatusError(*error, out);
      const auto& reply = std::get<HandleReply>(replies[0].result);
      if (reply.outcome == HandleOutcome::kValue) return out.WriteBulk(reply.record.owner);
      if (reply.outcome == HandleOutcome::kNotFound) return out.WriteNull();
      out.WriteError("TRYAGAIN " + OneLine(reply.message));
    };
    return plan;
  }
  RespPlan MGet() {
    RespPlan plan;
    std::vector<bool> strings;
    for (size_t i = 1; i < args_.size(); ++i) {
      const std::string key = Arg(i);
      const KeyType type = TypeOf(replica_, key);
      // Redis answers nil for a key of another type in MGET.
      const bool string = type != KeyType::kHash && type != KeyType::kSet;
      strings.push_back(string);
      plan.commands.push_back(ReadOf(string ? ClassOf(type) : DataClass::kRegister, key));
    }
    plan.compose = [strings](std::span<const NodeReply> replies, RespSession&, RespWriter& out) {
      if (const Status* error = FirstError(replies)) return WriteStatusError(*error, out);
      out.WriteArrayHeader(replies.size());
      for (size_t i = 0; i < replies.size(); ++i) {
        auto value = strings[i] ? StringValue(StateOf(replies[i])) : std::nullopt;
        value ? out.WriteBulk(*value) : out.WriteNull();
      }
    };
    return plan;
  }
  RespPlan MSet() {
    if (args_.size() % 2 != 1) return WrongArity(version_, args_[0]);
    std::vector<NodeCommand> writes;
    for (size_t i = 1; i + 1 < args_.size(); i += 2) {
      const std::string key = Arg(i);
      if (IsHandle(key)) return Error(version_, "ERR MSET cannot claim handles");
      if (Clashes(key, {KeyType::kString})) return Error(version_, kWrongType);
      writes.push_back(WriteCommand{{{DataClass::kRegister, key}, "", Arg(i + 1)}});
    }
    return Writes(std::move(writes), [](RespWriter& out) { out.WriteSimpleString("OK"); });
  }
  RespPlan Incr() {
    const std::string name = Name();
    int64_t delta = 1;
    if (name == "INCRBY" || name == "DECRBY") {
      auto by = ParseInt(args_[2]);
      if (!by) return Error(version_, "ERR value is not an integer or out of range");
      if (name == "DECRBY" && *by == std::numeric_limits<int64_t>::min()) {
        return Error(version_, "ERR decrement would overflow");
      }
      delta = name == "DECRBY" ? -*by : *by;
    } else if (name == "DECR") {
      delta = -1;
    }
    const std::string key = Arg(1);
    if (Clashes(key, {KeyType::kCounter})) return Error(version_, kWrongType);
    int64_t before = 0;
    if (const KeyState* s = replica_.Find(DataClass::kCounter, key)) {
      auto value = std::get<PnCounter>(*s).Value();
      if (!value.ok()) return Error(version_, "ERR " + value.status().message());
      before = *value;
    }
    if (delta == 0) {
      return Immediate(version_, [&](RespWriter& out) { out.WriteInteger(before); });
    }
    if ((delta > 0 && before > std::numeric_limits<int64_t>::max() - delta) ||
        (delta < 0 && before < std::numeric_limits<int64_t>::min() - delta)) {
      return Error(version_, "ERR increment or decrement would overflow");
    }
    std::vector<NodeCommand> writes;
    writes.push_back(WriteCommand{{{DataClass::kCounter, key}, "", delta}});
    // The value right after this write, as Redis answers, whatever is applied meanwhile. A
    // deduplicated retry (MERIDIAN.IDEM) finds the original already counted in `before`.
    return Writes(std::move(writes), [before, delta](RespWriter& out, bool deduplicated) {
      out.WriteInteger(deduplicated ? before : before + delta);
    });
  }

  // --- hashes ---
  const LwwMap* Profile(const std::string& key) const {
    const KeyState* s = replica_.Find(DataClass::kProfile, key);
    return s ? &std::get<LwwMap>(*s) : nullptr;
  }
  static bool HasField(const LwwMap* map, const std::string& field) {
    if (map == nullptr) return false;
    auto it = map->registers().find(field);
    return it != map->registers().end() && !it->second.IsTombstone();
  }
  RespPlan HSet() {
    if (args_.size() % 2 != 0) return WrongArity(version_, args_[0]);
    const std::string key = Arg(1);
    if (Clashes(key, {KeyType::kHash})) return Error(version_, kWrongType);
    const LwwMap* map = Profile(key);
    LwwMapOp op;
    std::set<std::string> added;
    for (size_t i = 2; i + 1 < args_.size(); i += 2) {
      const std::string field = Arg(i);
      if (field.empty()) return Error(version_, "ERR hash field names must not be empty");
      if (!HasField(map, field)) added.insert(field);
      op.fields.emplace_back(field, Arg(i + 1));
    }
    std::vector<NodeCommand> writes;
    writes.push_back(WriteCommand{{{DataClass::kProfile, key}, "", std::move(op)}});
    return Writes(std::move(writes), [n = static_cast<int64_t>(added.size())](RespWriter& out) {
      out.WriteInteger(n);
    });
  }
  RespPlan HDel() {
    const std::string key = Arg(1);
    if (Clashes(key, {KeyType::kHash})) return Error(version_, kWrongType);
    const LwwMap* map = Profile(key);
    LwwMapOp op;
    std::set<std::string> removed;
    for (size_t i = 2; i < args_.size(); ++i) {
      const std::string field = Arg(i);
      if (field.empty()) continue;
      if (HasField(map, field)) removed.insert(field);
      op.fields.emplace_back(field, std::nullopt);
    }
    if (removed.empty()) {
      return Immediate(version_, [](RespWriter& out) { out.WriteInteger(0); });
    }
    std::vector<NodeCommand> writes;
    writes.push_back(WriteCommand{{{DataClass::kProfile, key}, "", std::move(op)}});
    return Writes(std::move(writes), [n = static_cast<int64_t>(removed.size())](RespWriter& out) {
      out.WriteInteger(n);
    });
  }
  RespPlan HGet() {
    const std::string key = Arg(1);
    if (Clashes(key, {KeyType::kHash})) return Error(version_, kWrongType);
    const bool multi = Name() == "HMGET";
    std::vector<std::string> fields(args_.begin() + 2, args_.end());
    RespPlan plan;
    plan.commands.push_back(ReadOf(DataClass::kProfile, key));
    plan.compose = [fields, multi](std::span<const NodeReply> replies, RespSession&,
                                   RespWriter& out) {
      if (const Status* error = FirstError(replies)) return WriteStatusError(*error, out);
      const KeyState* state = StateOf(replies[0]);
      const LwwMap* map = state ? std::get_if<LwwMap>(state) : nullptr;
      if (multi) out.WriteArrayHeader(fields.size());
      for (const std::string& field : fields) {
        const LwwRegister* reg = nullptr;
        if (map) {
          auto it = map->registers().find(field);
          if (it != map->registers().end() && !it->second.IsTombstone()) reg = &it->second;
        }
        reg ? out.WriteBulk(*reg->value) : out.WriteNull();
      }
    };
    return plan;
  }
  RespPlan HGetAll() {
    const std::string key = Arg(1);
    if (Clashes(key, {KeyType::kHash})) return Error(version_, kWrongType);
    RespPlan plan;
    plan.commands.push_back(ReadOf(DataClass::kProfile, key));
    plan.compose = [](std::span<const NodeReply> replies, RespSession&, RespWriter& out) {
      if (const Status* error = FirstError(replies)) return WriteStatusError(*error, out);
      const KeyState* state = StateOf(replies[0]);
      std::map<std::string, std::string> fields;
      if (state) fields = std::get<LwwMap>(*state).Visible();
      out.WriteMapHeader(fields.size());
      for (const auto& [field, value] : fields) {
        out.WriteBulk(field);
        out.WriteBulk(value);
      }
    };
    return plan;
  }

  // --- sets ---
  RespPlan SetWrite() {
    const std::string key = Arg(1);
    if (Clashes(key, {KeyType::kSet})) return Error(version_, kWrongType);
    const bool add = Name() == "SADD";
    const KeyState* s = replica_.Find(DataClass::kTags, key);
    const OrSet* set = s ? &std::get<OrSet>(*s) : nullptr;
    std::set<std::string> elements;
    int64_t changed = 0;
    for (size_t i = 2; i < args_.size(); ++i) {
      const std::string element = Arg(i);
      if (element.empty()) return Error(version_, "ERR set members must not be empty");
      if (!elements.insert(element).second) continue;
      const bool present = set && set->Contains(element);
      changed += add != present ? 1 : 0;
    }
    if (!add && changed == 0) {
      return Immediate(version_, [](RespWriter& out) { out.WriteInteger(0); });
    }
    TagsWrite write;
    (add ? write.add : write.remove).assign(elements.begin(), elements.end());
    std::vector<NodeCommand> writes;
    writes.push_back(WriteCommand{{{DataClass::kTags, key}, "", std::move(write)}});
    return Writes(std::move(writes), [changed](RespWriter& out) { out.WriteInteger(changed); });
  }
  RespPlan SetRead() {
    const std::string key = Arg(1);
    if (Clashes(key, {KeyType::kSet})) return Error(version_, kWrongType);
    const std::string name = Name();
    std::string member = args_.size() > 2 ? Arg(2) : std::string();
    RespPlan plan;
    plan.commands.push_back(ReadOf(DataClass::kTags, key));
    plan.compose = [name, member](std::span<const NodeReply> replies, RespSession&,
                                  RespWriter& out) {
      if (const Status* error = FirstError(replies)) return WriteStatusError(*error, out);
      const KeyState* state = StateOf(replies[0]);
      const OrSet* set = state ? std::get_if<OrSet>(state) : nullptr;
      if (name == "SISMEMBER") return out.WriteInteger(set && set->Contains(member) ? 1 : 0);
      if (name == "SCARD") {
        return out.WriteInteger(set ? static_cast<int64_t>(set->entries().size()) : 0);
      }
      std::vector<std::string> elements = set ? set->Elements() : std::vector<std::string>{};
      out.WriteSetHeader(elements.size());
      for (const std::string& e : elements)
        out.WriteBulk(e);
    };
    return plan;
  }

  // --- any type ---
  RespPlan Del() {
    // Every class that shows the key here is deleted (observed-remove: what this region shows of
    // it); a key counts once, as in Redis.
    std::vector<NodeCommand> writes;
    int64_t deleted = 0;
    for (size_t i = 1; i < args_.size(); ++i) {
      const std::string key = Arg(i);
      bool any = false;
      for (const DataClass c : kAllDataClasses) {
        if (c == DataClass::kStock) continue;  // a stock has no delete (bounded_counter.h)
        const KeyState* s = replica_.Find(c, key);
        if (s == nullptr || !KeyPresent(*s)) continue;
        writes.push_back(WriteCommand{{{c, key}, "", KeyDelete{}}});
        any = true;
      }
      deleted += any ? 1 : 0;
    }
    if (writes.empty()) {
      return Immediate(version_, [](RespWriter& out) { out.WriteInteger(0); });
    }
    return Writes(std::move(writes), [deleted](RespWriter& out) { out.WriteInteger(deleted); });
  }
  RespPlan Exists() {
    RespPlan plan;
    std::vector<DataClass> classes;
    for (size_t i = 1; i < args_.size(); ++i) {
      const std::string key = Arg(i);
      plan.commands.push_back(ReadOf(ClassOf(TypeOf(replica_, key)), key));
    }
    plan.compose = [](std::span<const NodeReply> replies, RespSession&, RespWriter& out) {
      if (const Status* error = FirstError(replies)) return WriteStatusError(*error, out);
      int64_t n = 0;
      for (const NodeReply& r : replies)
        n += StateOf(r) != nullptr ? 1 : 0;
      out.WriteInteger(n);
    };
    return plan;
  }
  RespPlan Type() {
    const std::string key = Arg(1);
    const KeyType type = TypeOf(replica_, key);
    if (type == KeyType::kNone) {
      return Immediate(version_, [](RespWriter& out) { out.WriteSimpleString("none"); });
    }
    RespPlan plan;
    // Through the node: a key created by a write not yet durable is not shown.
    plan.commands.push_back(ReadOf(ClassOf(type), key));
    plan.compose = [type](std::span<const NodeReply> replies, RespSession&, RespWriter& out) {
      if (const Status* error = FirstError(replies)) return WriteStatusError(*error, out);
      out.WriteSimpleString(StateOf(replies[0]) ? TypeName(type) : "none");
    };
    return plan;
  }

  RespPlan Scan() {
    ScanCommand command;
    command.limit = 10;  // Redis' default COUNT
    if (args_[1] != "0") {
      const auto id = ParseInt(args_[1]);
      auto it =
          id ? session_.scan_cursors.find(static_cast<uint64_t>(*id)) : session_.scan_cursors.end();
      if (it == session_.scan_cursors.end()) {
        return Error(version_,
                     "ERR invalid cursor (unknown on this connection, or forgotten: start again "
                     "with 0)");
      }
      command.after = it->second;
      session_.scan_cursors.erase(it);
    }
    std::optional<std::string> pattern;
    std::optional<std::string> type_filter;
    for (size_t i = 2; i < args_.size(); i += 2) {
      const std::string option = CommandName(args_[i]);
      if (i + 1 >= args_.size()) return Error(version_, "ERR syntax error");
      if (option == "MATCH") {
        pattern = Arg(i + 1);
      } else if (option == "COUNT") {
        const auto count = ParseInt(args_[i + 1]);
        if (!count || *count < 1)
          return Error(version_, "ERR value is out of range, must be positive");
        command.limit = static_cast<size_t>(std::min<int64_t>(*count, kScanLimitMax));
      } else if (option == "TYPE") {
        type_filter = Arg(i + 1);
        std::transform(type_filter->begin(), type_filter->end(), type_filter->begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      } else {
        return Error(version_, "ERR syntax error");
      }
    }
    // The pattern's literal beginning narrows the range; the glob itself filters the page.
    if (pattern) command.prefix = pattern->substr(0, pattern->find_first_of("*?[\\"));
    RespPlan plan;
    plan.commands.push_back(std::move(command));
    plan.compose = [&replica = replica_, pattern = std::move(pattern),
                    type_filter = std::move(type_filter)](std::span<const NodeReply> replies,
                                                          RespSession& session, RespWriter& out) {
      if (const Status* error = FirstError(replies)) return WriteStatusError(*error, out);
      const auto& page = std::get<ScanResult>(replies[0].result);
      std::vector<const std::string*> keys;
      for (const auto& [key, state] : page.entries) {
        const KeyType type = TypeOf(replica, key.key);
        if (ClassOf(type) != key.data_class) continue;  // listed under the class that types it
        if (type_filter && *type_filter != TypeName(type)) continue;
        if (pattern && ::fnmatch(pattern->c_str(), key.key.c_str(), 0) != 0) continue;
        keys.push_back(&key.key);
      }
      std::string cursor = "0";
      if (page.next) {
        if (session.scan_cursors.size() >= RespSession::kScanCursorsMax) {
          session.scan_cursors.erase(session.scan_cursors.begin());
        }
        const uint64_t id = session.next_scan_cursor++;
        session.scan_cursors.emplace(id, *page.next);
        cursor = std::to_string(id);
      }
      out.WriteArrayHeader(2);
      out.WriteBulk(cursor);
      out.WriteArrayHeader(keys.size());
      for (const std::string* key : keys)
        out.WriteBulk(*key);
    };
    return plan;
  }

  std::span<const std::string_view> args_;
  RespSession& session_;
  const RespContext& context_;
  const Replica& replica_;
  const RespVersion version_;
  const std::string idempotency_key_;
};

}  // namespace

std::string EncodeRespWrite(Dot write) {
  return std::to_string(write.origin) + "." + std::to_string(write.seq);
}

std::optional<Dot> DecodeRespWrite(std::string_view text) {
  const size_t dot = text.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  const auto origin = ParseInt(text.substr(0, dot));
  const auto seq = ParseInt(text.substr(dot + 1));
  if (!origin || !seq || *origin < 0 || *origin >= static_cast<int64_t>(kMaxRegions) || *seq <= 0) {
    return std::nullopt;
  }
  return Dot{static_cast<RegionId>(*origin), static_cast<uint64_t>(*seq)};
}

RespPlan PlanCommand(std::span<const std::string_view> args, RespSession& session,
                     const RespContext& context) {
  return Planner(args, session, context).Plan();
}

std::span<const std::string> RespCommandNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out = Planner::KnownNames();
    out.emplace_back("AUTH");
    std::sort(out.begin(), out.end());
    return out;
  }();
  return names;
}

size_t RespCommandIndex(std::string_view name) {
  const std::span<const std::string> names = RespCommandNames();
  // Upper-cased on the stack: longer than any known name is "other" without looking.
  std::array<char, 24> upper{};
  if (name.size() > upper.size()) return names.size();
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    upper[i] = c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
  }
  const std::string_view key(upper.data(), name.size());
  const auto it = std::lower_bound(names.begin(), names.end(), key,
                                   [](const std::string& a, std::string_view b) { return a < b; });
  return it != names.end() && *it == key ? static_cast<size_t>(it - names.begin()) : names.size();
}

void WriteStatusError(const Status& status, RespWriter& out) {
  const bool retry = status.code() == StatusCode::kUnavailable ||
                     status.code() == StatusCode::kDeadlineExceeded ||
                     status.code() == StatusCode::kResourceExhausted;
  out.WriteError((retry ? "TRYAGAIN " : "ERR ") + OneLine(status.message()));
}

}  // namespace meridian
