// How a PlannedOp becomes a Redis command (`meridian gen --protocol resp`), mapped to the data
// classes as docs/resp.md maps them, so the same seeded plan drives a Meridian region's (or the
// router's) resp listener and redis-server alike. Pure functions: no I/O, no clock.
//
//   register  SET key value            GET key
//   counter   INCRBY key by            GET key
//   profile   HSET key field value     HGETALL key
//   tags      SADD key element         SMEMBERS key       (removes: SREM key element)
//   handle    SET handle:key owner NX  GET handle:key
//
// Redis has one keyspace where HTTP has one per class, so every key is prefixed with its class
// ("counter:k12"): the plan's same name in two classes must not meet as a WRONGTYPE. A handle's
// prefix is "handle:", which is also where Meridian keeps its handles on RESP.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "gen/workload.h"
#include "resp/resp_writer.h"  // EncodeCommand: a command as its request frame

namespace meridian {

// The command's arguments, name first. REQUIRES: op came from a Planner.
std::vector<std::string> BuildRespCommand(const PlannedOp& op);

// The key a planned `key` of `op_class` has on RESP: "counter:k12". Over HTTP the same state is
// at /counter/counter:k12 (one keyspace per class there, the prefix is part of the name).
std::string RespKey(OpClass op_class, std::string_view key);

// The failure a reply stands for, "" when it is not an error reply: the error's code, its first
// word ("ERR", "WRONGTYPE", "NOAUTH"), so that failures group by kind and not by message text.
std::string RespErrorCode(std::string_view reply);

}  // namespace meridian
