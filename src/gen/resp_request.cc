#include "gen/resp_request.h"

#include "resp/resp_writer.h"

namespace meridian {

std::string RespKey(OpClass op_class, std::string_view key) {
  return std::string(OpClassName(op_class)) + ":" + std::string(key);
}

std::vector<std::string> BuildRespCommand(const PlannedOp& op) {
  const std::string key = RespKey(op.op_class, op.key);
  const bool read = op.kind == OpKind::kRead;
  switch (op.op_class) {
    case OpClass::kRegister:
      if (read) return {"GET", key};
      return {"SET", key, op.value};
    case OpClass::kCounter:
      if (read) return {"GET", key};
      return {"INCRBY", key, std::to_string(op.by)};
    case OpClass::kProfile:
      if (read) return {"HGETALL", key};
      return {"HSET", key, op.field, op.value};
    case OpClass::kTags:
      if (read) return {"SMEMBERS", key};
      return {op.kind == OpKind::kRemove ? "SREM" : "SADD", key, op.value};
    case OpClass::kHandle:
      if (read) return {"GET", key};
      return {"SET", key, op.value, "NX"};
  }
  return {"PING"};  // unreachable: every class is handled above
}

std::string RespErrorCode(std::string_view reply) {
  if (reply.empty() || reply.front() != '-') return "";
  reply.remove_prefix(1);
  const size_t end = reply.find_first_of(" \r\n");
  const std::string code(reply.substr(0, end == std::string_view::npos ? reply.size() : end));
  return code.empty() ? "error" : code;
}

}  // namespace meridian
