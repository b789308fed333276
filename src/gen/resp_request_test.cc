#include "gen/resp_request.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace meridian {
namespace {

PlannedOp Op(OpClass op_class, OpKind kind) {
  PlannedOp op;
  op.op_class = op_class;
  op.kind = kind;
  op.key = "k7";
  op.field = "f1";
  op.value = "v";
  op.by = 3;
  return op;
}

using Args = std::vector<std::string>;

TEST(RespRequestTest, EachClassMapsToItsRedisCommands) {
  EXPECT_EQ(BuildRespCommand(Op(OpClass::kRegister, OpKind::kWrite)),
            (Args{"SET", "register:k7", "v"}));
  EXPECT_EQ(BuildRespCommand(Op(OpClass::kRegister, OpKind::kRead)), (Args{"GET", "register:k7"}));
  EXPECT_EQ(BuildRespCommand(Op(OpClass::kCounter, OpKind::kWrite)),
            (Args{"INCRBY", "counter:k7", "3"}));
  EXPECT_EQ(BuildRespCommand(Op(OpClass::kCounter, OpKind::kRead)), (Args{"GET", "counter:k7"}));
  EXPECT_EQ(BuildRespCommand(Op(OpClass::kProfile, OpKind::kWrite)),
            (Args{"HSET", "profile:k7", "f1", "v"}));
  EXPECT_EQ(BuildRespCommand(Op(OpClass::kProfile, OpKind::kRead)),
            (Args{"HGETALL", "profile:k7"}));
  EXPECT_EQ(BuildRespCommand(Op(OpClass::kTags, OpKind::kWrite)), (Args{"SADD", "tags:k7", "v"}));
  EXPECT_EQ(BuildRespCommand(Op(OpClass::kTags, OpKind::kRemove)), (Args{"SREM", "tags:k7", "v"}));
  EXPECT_EQ(BuildRespCommand(Op(OpClass::kTags, OpKind::kRead)), (Args{"SMEMBERS", "tags:k7"}));
  EXPECT_EQ(BuildRespCommand(Op(OpClass::kHandle, OpKind::kWrite)),
            (Args{"SET", "handle:k7", "v", "NX"}));
  EXPECT_EQ(BuildRespCommand(Op(OpClass::kHandle, OpKind::kRead)), (Args{"GET", "handle:k7"}));
}

TEST(RespRequestTest, TheSameKeyInTwoClassesIsTwoRedisKeys) {
  std::set<std::string> keys;
  for (OpClass c : {OpClass::kProfile, OpClass::kCounter, OpClass::kTags, OpClass::kRegister,
                    OpClass::kHandle}) {
    keys.insert(BuildRespCommand(Op(c, OpKind::kWrite))[1]);
  }
  EXPECT_EQ(keys.size(), 5u);
}

TEST(RespRequestTest, EncodesAnArrayOfBulkStrings) {
  EXPECT_EQ(EncodeCommand({"SET", "k", ""}), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n");
}

TEST(RespRequestTest, ErrorRepliesAreNamedByTheirCode) {
  EXPECT_EQ(RespErrorCode("-WRONGTYPE Operation against a key\r\n"), "WRONGTYPE");
  EXPECT_EQ(RespErrorCode("-ERR\r\n"), "ERR");
  EXPECT_EQ(RespErrorCode("-\r\n"), "error");
  EXPECT_EQ(RespErrorCode("+OK\r\n"), "");
  EXPECT_EQ(RespErrorCode("$-1\r\n"), "");
  EXPECT_EQ(RespErrorCode(":-1\r\n"), "");
}

}  // namespace
}  // namespace meridian
