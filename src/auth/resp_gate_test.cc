#include "auth/resp_gate.h"

#include <gtest/gtest.h>

namespace meridian::auth {
namespace {

using Kind = RespGateDecision::Kind;

class RespGateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    reader_key_ = GenerateApiKey();
    KeyEntry reader{"reader", HashApiKey(reader_key_), {*ParseGrant("*:r")}};
    ASSERT_TRUE(keys_.Add(std::move(reader)).ok());
  }
  RespGateDecision Gate(std::vector<std::string_view> args) {
    return GateRespCommand(&keys_, state_, args, "handle:");
  }
  KeyStore keys_;
  std::string reader_key_;
  RespAuthState state_;
};

TEST_F(RespGateTest, RefusesDataCommandsBeforeAuth) {
  EXPECT_EQ(Gate({"GET", "k"}).error, "NOAUTH Authentication required.");
  EXPECT_EQ(Gate({"PING"}).kind, Kind::kRun);
  EXPECT_EQ(Gate({"HELLO", "3"}).kind, Kind::kRun);
  EXPECT_FALSE(state_.authenticated);
}

TEST_F(RespGateTest, WrongKeyIsWrongpassAndChangesNothing) {
  auto d = Gate({"AUTH", "default", "mk_wrong"});
  EXPECT_EQ(d.kind, Kind::kReplyError);
  EXPECT_TRUE(d.error.starts_with("WRONGPASS")) << d.error;
  EXPECT_FALSE(state_.authenticated);
  EXPECT_TRUE(Gate({"HELLO", "3", "AUTH", "default", "nope"}).error.starts_with("WRONGPASS"));
  EXPECT_EQ(Gate({"GET", "k"}).error, "NOAUTH Authentication required.");
}

TEST_F(RespGateTest, AuthThenGrantsDecide) {
  EXPECT_EQ(Gate({"AUTH", reader_key_}).kind, Kind::kReplyOk);
  EXPECT_EQ(state_.key_name, "reader");
  EXPECT_EQ(Gate({"GET", "k"}).kind, Kind::kRun);
  auto denied = Gate({"SET", "k", "v"});
  EXPECT_EQ(denied.kind, Kind::kReplyError);
  EXPECT_TRUE(denied.error.starts_with("NOPERM")) << denied.error;
  EXPECT_NE(denied.error.find("write on register key \"k\""), std::string::npos);
}

TEST_F(RespGateTest, HelloAuthAuthenticatesAndRunsHello) {
  EXPECT_EQ(Gate({"hello", "3", "auth", "default", reader_key_}).kind, Kind::kRun);
  EXPECT_TRUE(state_.authenticated);
}

TEST(RespGateOffTest, WithoutKeysEverythingRunsAndAuthSaysSo) {
  RespAuthState state;
  std::vector<std::string_view> set = {"SET", "k", "v"};
  EXPECT_EQ(GateRespCommand(nullptr, state, set, "").kind, Kind::kRun);
  std::vector<std::string_view> auth = {"AUTH", "x"};
  EXPECT_EQ(GateRespCommand(nullptr, state, auth, "").kind, Kind::kReplyError);
}

}  // namespace
}  // namespace meridian::auth
