// RespRoute's rules and the router's own RESP commands, as pure functions.
#include "router/resp_route.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "api/session_token.h"
#include "router/resp_own_commands.h"

namespace meridian::router {
namespace {

TEST(RespRouteTest, EveryRegionCommandHasItsKind) {
  // The region's commands (src/server/resp_commands.h, docs/resp.md), by what the router does.
  for (const char* name : {"SET", "MSET", "INCR", "INCRBY", "DECR", "DECRBY", "HSET", "HDEL",
                           "SADD", "SREM", "DEL", "set", "incr"}) {
    EXPECT_EQ(ClassifyRespCommand(name), RespCommandKind::kWrite) << name;
  }
  for (const char* name :
       {"GET", "MGET", "HGET", "HMGET", "HGETALL", "SMEMBERS", "SISMEMBER", "SCARD", "EXISTS",
        "TYPE", "PING", "ECHO", "INFO", "DBSIZE", "COMMAND", "CONFIG", "get"}) {
    EXPECT_EQ(ClassifyRespCommand(name), RespCommandKind::kRead) << name;
  }
  EXPECT_EQ(ClassifyRespCommand("meridian.idem"), RespCommandKind::kTagged);
  for (const char* name : {"HELLO", "CLIENT", "QUIT", "SELECT", "MERIDIAN.REGION"}) {
    EXPECT_EQ(ClassifyRespCommand(name), RespCommandKind::kRouter) << name;
  }
  EXPECT_EQ(ClassifyRespCommand("wait"), RespCommandKind::kWait);
  EXPECT_EQ(ClassifyRespCommand("MERIDIAN.SESSION"), RespCommandKind::kRouter);
  EXPECT_EQ(ClassifyRespCommand("MULTI"), RespCommandKind::kOther);
  EXPECT_EQ(ClassifyRespCommand("APPEND"), RespCommandKind::kOther);

  EXPECT_TRUE(RetryAfterTransportFailure(RespCommandKind::kRead));
  EXPECT_TRUE(RetryAfterTransportFailure(RespCommandKind::kWrite));
  EXPECT_TRUE(RetryAfterTransportFailure(RespCommandKind::kTagged));
  EXPECT_FALSE(RetryAfterTransportFailure(RespCommandKind::kOther));
  EXPECT_FALSE(RetryAfterTransportFailure(RespCommandKind::kWait));
}

TEST(RespRouteTest, DataCommandsRunWithTheSessionAndTheWrapperGoesOutside) {
  bool write = false;
  EXPECT_TRUE(IsRespDataCommand(std::vector<std::string_view>{"set", "k", "v"}, &write));
  EXPECT_TRUE(write);
  EXPECT_TRUE(IsRespDataCommand(std::vector<std::string_view>{"HGETALL", "h"}, &write));
  EXPECT_FALSE(write);
  EXPECT_TRUE(IsRespDataCommand(
      std::vector<std::string_view>{"MERIDIAN.IDEM", "k", "SADD", "s", "m"}, &write));
  EXPECT_TRUE(write);
  for (std::vector<std::string_view> other : {std::vector<std::string_view>{"PING"},
                                              {"INFO"},
                                              {"DBSIZE"},
                                              {"SCAN", "0"},
                                              {"MERIDIAN.IDEM", "k", "PING"},
                                              {"MERIDIAN.IDEM", "k"},
                                              {"APPEND", "k", "v"}}) {
    EXPECT_FALSE(IsRespDataCommand(other)) << other[0];
  }
  const std::vector<std::string_view> get = {"GET", "k"};
  EXPECT_EQ(EncodeRespRequest(get, "", "tok"),
            "*4\r\n$18\r\nMERIDIAN.SESSIONED\r\n$3\r\ntok\r\n$3\r\nGET\r\n$1\r\nk\r\n");
  const std::vector<std::string_view> incr = {"INCR", "c"};
  EXPECT_EQ(EncodeRespRequest(incr, "k1", ""),
            "*6\r\n$18\r\nMERIDIAN.SESSIONED\r\n$1\r\n-\r\n$13\r\nMERIDIAN.IDEM\r\n$2\r\nk1\r\n"
            "$4\r\nINCR\r\n$1\r\nc\r\n");
}

TEST(RespRouteTest, ASessionedReplyGivesBackTheCommandsReplyByteForByte) {
  auto split = SplitSessionedReply("*3\r\n:5\r\n$3\r\ntok\r\n$3\r\n0.7\r\n");
  ASSERT_TRUE(split);
  EXPECT_EQ(split->reply, ":5\r\n");
  EXPECT_EQ(split->token, "tok");
  EXPECT_EQ(split->write, "0.7");
  // A nested reply (HGETALL in RESP3), a RESP3 nil for the write.
  const std::string map = "%1\r\n$1\r\nf\r\n$1\r\nv\r\n";
  const std::string resp3 = "*3\r\n" + map + "$0\r\n\r\n_\r\n";  // the views point into it
  split = SplitSessionedReply(resp3);
  ASSERT_TRUE(split);
  EXPECT_EQ(split->reply, map);
  EXPECT_EQ(split->token, "");
  EXPECT_FALSE(split->write);
  // An error inside is the command's reply; RESP2's nil write.
  split = SplitSessionedReply("*3\r\n-WRONGTYPE x\r\n$1\r\nt\r\n$-1\r\n");
  ASSERT_TRUE(split);
  EXPECT_EQ(split->reply, "-WRONGTYPE x\r\n");
  EXPECT_FALSE(split->write);
  // Not a wrapper's answer: the wrapper refused, or something else.
  for (std::string_view other :
       {"-LOADING x\r\n", "*2\r\n:1\r\n:2\r\n", "*3\r\n:1\r\n:2\r\n$-1\r\n",
        "*3\r\n:1\r\n$3\r\nab\r\n$-1\r\n", "*3\r\n:1\r\n$1\r\nt\r\n$1\r\nw\r\n:9\r\n",
        "*3\r\n:1\r\n$1\r\nt\r\n"}) {
    EXPECT_FALSE(SplitSessionedReply(other)) << other;
  }
}

TEST(RespRouteTest, RequestsAreMultibulkWithTheKeyInFront) {
  const std::vector<std::string_view> incr = {"INCR", "c"};
  EXPECT_EQ(EncodeRespRequest(incr, ""), "*2\r\n$4\r\nINCR\r\n$1\r\nc\r\n");
  EXPECT_EQ(EncodeRespRequest(incr, "k1"),
            "*4\r\n$13\r\nMERIDIAN.IDEM\r\n$2\r\nk1\r\n$4\r\nINCR\r\n$1\r\nc\r\n");
  const std::vector<std::string_view> binary = {"SET", "k", std::string_view("a\r\n\0b", 5)};
  EXPECT_EQ(EncodeRespRequest(binary, ""),
            std::string("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\na\r\n\0b\r\n", 31));
}

TEST(RespRouteTest, OnlyRetryableErrorCodesMoveOn) {
  EXPECT_TRUE(IsRetryableRespReply("-TRYAGAIN no quorum\r\n"));
  EXPECT_TRUE(IsRetryableRespReply("-LOADING Meridian is loading the dataset in memory\r\n"));
  EXPECT_TRUE(IsRetryableRespReply("-CLUSTERDOWN x\r\n"));
  EXPECT_TRUE(IsRetryableRespReply("-MASTERDOWN\r\n"));
  EXPECT_TRUE(IsRetryableRespReply("!12\r\nTRYAGAIN now\r\n"));
  EXPECT_FALSE(IsRetryableRespReply("-ERR unknown command 'x'\r\n"));
  EXPECT_FALSE(IsRetryableRespReply("-WRONGTYPE Operation\r\n"));
  EXPECT_FALSE(IsRetryableRespReply("-TRYAGAINX\r\n"));
  EXPECT_FALSE(IsRetryableRespReply("+TRYAGAIN\r\n"));
  EXPECT_FALSE(IsRetryableRespReply("$8\r\nTRYAGAIN\r\n"));
}

TEST(RespOwnCommandsTest, ConnectionStateLivesInTheRouter) {
  const std::vector<std::string> names = {"us", "eu"};
  RespClientState state;
  state.id = 7;
  auto answer = [&](std::vector<std::string_view> args) {
    return AnswerOwnCommand(args, state, names);
  };
  EXPECT_EQ(answer({"MERIDIAN.REGION"}), "*2\r\n$2\r\nus\r\n$-1\r\n");
  EXPECT_EQ(answer({"meridian.region", "eu"}), "+OK\r\n");
  EXPECT_EQ(state.location, 1u);
  state.last_served = 0;
  EXPECT_EQ(answer({"MERIDIAN.REGION"}), "*2\r\n$2\r\neu\r\n$2\r\nus\r\n");
  EXPECT_EQ(answer({"MERIDIAN.REGION", "mars"}),
            "-ERR unknown region 'mars' (regions: us, eu)\r\n");
  EXPECT_EQ(answer({"MERIDIAN.REGION", "a", "b"}),
            "-ERR wrong number of arguments for 'MERIDIAN.REGION' command\r\n");
  EXPECT_EQ(answer({"CLIENT", "ID"}), ":7\r\n");
  EXPECT_EQ(answer({"CLIENT", "GETNAME"}), "$-1\r\n");
  EXPECT_EQ(answer({"CLIENT", "SETINFO", "LIB-NAME", "redis-py"}), "+OK\r\n");
  EXPECT_EQ(answer({"CLIENT", "KILL"}), "-ERR unknown subcommand 'KILL' for 'CLIENT'\r\n");
  EXPECT_EQ(answer({"SELECT", "1"}), "-ERR DB index is out of range\r\n");
  EXPECT_EQ(answer({"HELLO", "4"}), "-NOPROTO unsupported protocol version\r\n");
  EXPECT_EQ(state.version, RespVersion::kResp2);
  const std::string hello = answer({"HELLO", "3", "SETNAME", "n"});
  EXPECT_TRUE(hello.starts_with("%7\r\n")) << hello;
  EXPECT_EQ(state.version, RespVersion::kResp3);
  EXPECT_EQ(state.name, "n");
  EXPECT_EQ(answer({"CLIENT", "GETNAME"}), "$1\r\nn\r\n");
  EXPECT_FALSE(state.quit);
  EXPECT_EQ(answer({"QUIT"}), "+OK\r\n");
  EXPECT_TRUE(state.quit);
}

TEST(RespOwnCommandsTest, TheSessionTokenIsTheRoutersPerClient) {
  const std::vector<std::string> names = {"us", "eu"};
  RespClientState state;
  auto answer = [&](std::vector<std::string_view> args) {
    return AnswerOwnCommand(args, state, names);
  };
  auto bulk = [](const std::string& s) {
    return "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n";
  };
  EXPECT_EQ(answer({"MERIDIAN.SESSION"}), bulk(EncodeSessionToken(VersionVector())));
  state.tokens[0].Set(0, 3);
  VersionVector elsewhere;
  elsewhere.Set(1, 5);
  elsewhere.Set(0, 1);
  VersionVector merged = state.tokens[0];
  merged.Merge(elsewhere);
  EXPECT_EQ(answer({"meridian.session", EncodeSessionToken(elsewhere)}),
            bulk(EncodeSessionToken(merged)));
  EXPECT_EQ(state.tokens[0], merged);
  EXPECT_TRUE(
      answer({"MERIDIAN.SESSION", "not a token!"}).starts_with("-ERR invalid session token"));
  EXPECT_EQ(state.tokens[0], merged);
  EXPECT_EQ(answer({"MERIDIAN.SESSION", "a", "b"}),
            "-ERR wrong number of arguments for 'MERIDIAN.SESSION' command\r\n");
}

// Rule 6: regions 0 us, 1 eu, 2 ap; `gdpr:` in eu and ap, registers under `reg:` in ap, `us:` in
// us, handles under `eu.` in eu.
class RespResidencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<Residency> made = Residency::Make({{"gdpr:", std::nullopt, {1, 2}},
                                              {"reg:", DataClass::kRegister, {2}},
                                              {"us:", std::nullopt, {0}},
                                              {"eu.", std::nullopt, {1}, /*handle=*/true}},
                                             3);
    ASSERT_TRUE(made.ok()) << made.status().ToString();
    residency_ = std::move(*made);
  }
  // The allowed mask, 7 (every region) when unrestricted, 0 for a refusal.
  RegionMask Allowed(std::vector<std::string_view> args) const {
    auto allowed = RespAllowedRegions(args, residency_, "handle:", names_);
    if (!allowed.ok()) return 0;
    return allowed->value_or(7);
  }

  Residency residency_{3};
  const std::vector<std::string> names_ = {"us", "eu", "ap"};
};

TEST_F(RespResidencyTest, CommandsGoOnlyWhereEveryKeyInEveryClassItMayBeOfMayLive) {
  EXPECT_EQ(Allowed({"GET", "plain"}), 7u);
  EXPECT_EQ(Allowed({"PING"}), 7u);
  EXPECT_EQ(Allowed({"SCAN", "0", "MATCH", "gdpr:*"}), 7u);  // no key: each region scans its own
  EXPECT_EQ(Allowed({"incr", "gdpr:a"}), 0b110u);
  EXPECT_EQ(Allowed({"HSET", "gdpr:a", "f", "v"}), 0b110u);
  EXPECT_EQ(Allowed({"SMEMBERS", "us:a"}), 0b001u);
  EXPECT_EQ(Allowed({"MERIDIAN.IDEM", "k", "SADD", "gdpr:a", "m"}), 0b110u);
  // The class decides where it can: a counter under reg: is free, a register is pinned, and
  // GET, DEL, EXISTS, TYPE may name either.
  EXPECT_EQ(Allowed({"INCR", "reg:x"}), 7u);
  EXPECT_EQ(Allowed({"HGETALL", "reg:x"}), 7u);
  EXPECT_EQ(Allowed({"SET", "reg:x", "v"}), 0b100u);
  EXPECT_EQ(Allowed({"GET", "reg:x"}), 0b100u);
  EXPECT_EQ(Allowed({"TYPE", "reg:x"}), 0b100u);
  EXPECT_EQ(Allowed({"EXISTS", "plain", "reg:x"}), 0b100u);
  // Several keys: where all may live; values are not keys.
  EXPECT_EQ(Allowed({"MSET", "plain", "us:v", "gdpr:a", "us:w"}), 0b110u);
  EXPECT_EQ(Allowed({"MGET", "gdpr:a", "reg:x"}), 0b100u);
  EXPECT_EQ(Allowed({"HMGET", "plain", "gdpr:a", "us:b"}), 7u);  // fields, not keys
  // A handle goes where its set is, by its canonical name; a name no rule pins goes anywhere
  // (`gdpr:a` is no handle name: every region refuses it alike).
  EXPECT_EQ(Allowed({"SET", "handle:eu.a", "me", "NX"}), 0b010u);
  EXPECT_EQ(Allowed({"GET", "handle:EU.a"}), 0b010u);
  EXPECT_EQ(Allowed({"GET", "handle:us.a"}), 7u);
  EXPECT_EQ(Allowed({"SET", "handle:gdpr:a", "me", "NX"}), 7u);
  EXPECT_EQ(Allowed({"MGET", "handle:eu.a", "gdpr:b"}), 0b010u);
  EXPECT_EQ(Allowed({"MGET", "handle:eu.a", "us:b"}), 0u);
}

TEST_F(RespResidencyTest, KeysOfSetsWithoutACommonRegionAreRefusedNamingTheSets) {
  auto refused = RespAllowedRegions(std::vector<std::string_view>{"DEL", "gdpr:a", "us:b"},
                                    residency_, "handle:", names_);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("[eu, ap] and [us]"), std::string::npos)
      << refused.status().message();
  EXPECT_EQ(refused.status().message().find("gdpr:a"), std::string::npos) << "never the key";
  EXPECT_EQ(Allowed({"MGET", "reg:x", "us:b"}), 0u);
}

TEST_F(RespResidencyTest, NoRulesRestrictNothing) {
  const Residency none(3);
  auto allowed =
      RespAllowedRegions(std::vector<std::string_view>{"GET", "gdpr:a"}, none, "handle:", names_);
  ASSERT_TRUE(allowed.ok());
  EXPECT_FALSE(allowed->has_value());
}

}  // namespace
}  // namespace meridian::router

namespace meridian::router {
namespace {

TEST(RespRouteTest, CommandsGoToTheSliceOfTheirKeys) {
  const KeySlices two{0, 2};
  auto slice = [&](std::vector<std::string_view> args, KeySlices slices) {
    const Result<uint32_t> chosen = RespCommandSlice(args, slices);
    return chosen.ok() ? std::optional<uint32_t>(*chosen) : std::nullopt;
  };
  // "foo" is slot 12182 (slice 1 of 2), "bar" 5061 (slice 0).
  EXPECT_EQ(slice({"GET", "foo"}, two), std::optional<uint32_t>(1));
  EXPECT_EQ(slice({"SET", "bar", "v"}, two), std::optional<uint32_t>(0));
  EXPECT_EQ(slice({"MERIDIAN.IDEM", "k1", "INCR", "foo"}, two), std::optional<uint32_t>(1));
  EXPECT_EQ(slice({"MSET", "{foo}a", "1", "{foo}b", "2"}, two), std::optional<uint32_t>(1));
  EXPECT_EQ(slice({"MSET", "foo", "1", "bar", "2"}, two), std::nullopt);  // CROSSSLOT
  EXPECT_EQ(slice({"DEL", "foo", "bar"}, two), std::nullopt);
  EXPECT_EQ(slice({"PING"}, two), std::optional<uint32_t>(0));
  EXPECT_EQ(slice({"SCAN", "0"}, two), std::nullopt);  // one slice would answer for its keys
  EXPECT_EQ(slice({"DBSIZE"}, two), std::nullopt);
  EXPECT_EQ(slice({"DBSIZE"}, KeySlices{}), std::optional<uint32_t>(0));
  EXPECT_EQ(slice({"GET", "foo"}, KeySlices{}), std::optional<uint32_t>(0));  // unsliced
  EXPECT_EQ(slice({"MSET", "foo", "1", "bar", "2"}, KeySlices{}), std::optional<uint32_t>(0));
}

}  // namespace
}  // namespace meridian::router
