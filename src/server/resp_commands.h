// The Redis protocol's commands as region-node commands, the way Redis Enterprise Active-Active
// maps Redis types onto CRDTs (docs/resp.md):
//
//   string   SET GET MSET MGET           register (class "register"); last writer wins: GET
//                                        answers the value of the highest write stamp (the same
//                                        in every region); concurrent SETs stay visible as
//                                        siblings over HTTP until the next SET replaces them
//   counter  INCR INCRBY DECR DECRBY     PN-counter; GET answers the number
//   hash     HSET HGET HMGET HGETALL HDEL  LWW map (class "profile"), last writer per field
//   set      SADD SREM SMEMBERS SISMEMBER SCARD  OR-set (class "tags"), adds win
//   handle   SET {prefix}name owner NX, GET {prefix}name  linearizable claim (class D); nil
//                                        when taken. The prefix is the config's strong keyspace.
//   any      DEL EXISTS TYPE             DEL deletes the key in every class that shows it here,
//                                        observed-remove: a write DEL did not see survives it
// One keyspace: a key has the type of the class holding a live state for it, and a command of
// another type answers WRONGTYPE. Two regions creating one key with different types concurrently
// leave both states; the key's type is then the first of string, counter, hash, set that is
// live (deterministic, the same in every region), the others stay reachable over HTTP.
// SCAN cursor [MATCH pattern] [COUNT n] [TYPE type] pages through the keyspace in key order per
// class (ScanCommand; a key is listed once, under its type; MATCH is a glob as Redis', its literal
// prefix narrows the range; COUNT bounds the keys examined, 1..1000, default 10).
// Connection commands: PING ECHO HELLO SELECT(0) CLIENT(SETNAME GETNAME ID) COMMAND INFO DBSIZE
// QUIT CONFIG GET, WAIT n timeout, and MERIDIAN.SESSION [token] (read-your-writes across regions:
// the connection's token, or a token another connection or region handed out, to wait for).
// MERIDIAN.IDEM key command [args...] runs the command with its writes carrying the idempotency
// key, as an HTTP write's Idempotency-Key: a retry of the same command (here, or in any region
// the original has replicated to) changes nothing and is answered again (INCR-family with the
// counter's value now, which includes the original); the key reused for another command is
// refused with the region's "reused" error. The router tags every write this way.
// MERIDIAN.SESSIONED token|- command [args...] runs a data command (or MERIDIAN.IDEM around one)
// as a connection whose session token is `token` ("-": none) would, without reading or changing
// this connection's session (the router's connections are shared between its clients): a read
// waits for the token as a session read does. The answer is a 3-element array: the command's
// reply exactly as it would be alone, the session token after it (the given one merged with what
// the command wrote), and the command's last write (EncodeRespWrite) or nil. A bad token, or a
// command that is not a data command, is answered with an error and runs nothing.
// MERIDIAN.WAITFOR write n timeout is WAIT for that write (MERIDIAN.SESSIONED's third element),
// made on any connection of this region, with WAIT's caps.
// A sliced region (cluster config `slices`, docs/slices.md) speaks Redis Cluster's protocol: a
// data command's keys must share a hash slot (else -CROSSSLOT) of this slice (else -MOVED slot
// host:port, that slice's listener); CLUSTER SLOTS / NODES / SHARDS / INFO / MYID / KEYSLOT
// describe the slices as the masters of a cluster, so cluster clients (redis-cli -c, redis-py's
// RedisCluster, redis-benchmark --cluster) route each key to its slice themselves. SCAN, DBSIZE
// and INFO answer for the slice alone, as a Redis Cluster node does for itself.
//
// Contract: PlanCommand never crashes or throws, whatever the arguments; a refused command (wrong
// arity, unknown command, WRONGTYPE, a bad number) is answered with a RESP error and submits
// nothing. Pure: reads the node's state on the caller's thread, no I/O.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "clock/version_vector.h"
#include "node/commands.h"
#include "node/region_node.h"
#include "resp/resp_writer.h"

namespace meridian {

struct RespOptions {
  // Keys that start with it are handles (class D); empty: none.
  std::string strong_prefix = "handle:";
  uint64_t max_wait_ms = 60'000;  // WAIT's timeout is capped here (0 = "forever" also means this)
  // A sliced region (RegionNode contract 10): the RESP listener (host, port) of each of its
  // slices, by slice, for MOVED and CLUSTER SLOTS / NODES. Empty when not sliced.
  std::vector<std::pair<std::string, uint16_t>> slice_listeners;
};

// A connection's state that commands read and change.
struct RespSession {
  RespVersion version = RespVersion::kResp2;
  uint64_t client_id = 0;
  std::string name;
  // Everything this connection wrote or read, as a vector: its reads wait until the region they
  // reach has applied it (read-your-writes, also after a failover to another region).
  VersionVector token;
  std::optional<Dot> last_write;  // for WAIT
  // SCAN's cursors: a number handed to the client for where its scan resumes (Redis clients
  // parse the cursor as an integer, so it cannot carry the key itself). Bounded: the oldest is
  // forgotten past kScanCursorsMax, and resuming it answers an error.
  static constexpr size_t kScanCursorsMax = 1024;
  std::map<uint64_t, StateKey> scan_cursors;
  uint64_t next_scan_cursor = 1;
  bool quit = false;  // QUIT: close after the reply
};

// What to do for one command: either an immediate reply, or node commands whose replies are
// composed into one RESP reply, or a WAIT.
struct RespPlan {
  std::string reply;  // encoded; used when `commands` is empty and `wait_regions` is unset
  std::vector<NodeCommand> commands;
  // Called with one reply per command, in order; appends the RESP reply.
  std::function<void(std::span<const NodeReply>, RespSession&, RespWriter&)> compose;
  // WAIT: answer how many other regions hold the connection's last write, once `wait_regions`
  // do or at `wait_deadline_ms` (steady ms).
  std::optional<uint64_t> wait_regions;
  uint64_t wait_deadline_ms = 0;
  // The write WAIT counts regions for: MERIDIAN.WAITFOR's; unset: the connection's last write
  // when the wait is checked (so a write pipelined before the WAIT counts).
  std::optional<Dot> wait_write;
};

struct RespContext {
  const RegionNode& node;
  const RespOptions& options;
  uint64_t now_steady_ms = 0;
};

RespPlan PlanCommand(std::span<const std::string_view> args, RespSession& session,
                     const RespContext& context);

// A write as MERIDIAN.SESSIONED names it: "origin.seq" (the reply's dot, in slot space), opaque
// to clients; DecodeRespWrite(EncodeRespWrite(d)) == d, and nullopt for anything malformed.
std::string EncodeRespWrite(Dot write);
std::optional<Dot> DecodeRespWrite(std::string_view text);

// The command labels of the region's RESP metrics (server/resp_command_metrics.h): every command
// the planner knows and AUTH (answered by the auth gate), upper case, sorted. Anything else a
// client sends is counted as "other", so a label never comes from client input.
std::span<const std::string> RespCommandNames();
// The index of command `name` (any case) in RespCommandNames(), or RespCommandNames().size()
// ("other") for a name not there. Allocates nothing.
size_t RespCommandIndex(std::string_view name);

// The RESP error for a failed node reply ("-TRYAGAIN ..." when it may succeed on retry).
void WriteStatusError(const Status& status, RespWriter& out);

}  // namespace meridian
