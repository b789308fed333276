// The redial pause of a replication link and the gRPC channel arguments built from it (issue 19,
// item 10: after a partition healed, a link stayed down for up to two seconds of backoff).
// Deterministic: seeded jitter, no sockets, no clock.
#include "net/reconnect_backoff.h"

#include <gtest/gtest.h>

#include <string>

#include "net/replication_grpc_args.h"

namespace meridian::net_internal {
namespace {

constexpr int kMin = 20, kMax = 2000, kAfterConnected = 250;

TEST(ReconnectBackoffTest, ALinkThatWasUpRedialsWithinItsShortCapHoweverLongTheCut) {
  ReconnectBackoff backoff(kMin, kMax, kAfterConnected, 7);
  backoff.OnConnected();
  // A long cut: the peer refuses at once, again and again.
  for (int failure = 0; failure < 100; ++failure) {
    const int delay = backoff.NextDelayMs(0);
    EXPECT_LE(delay, kAfterConnected * 6 / 5) << "failure " << failure;
  }
}

TEST(ReconnectBackoffTest, ALinkThatNeverCameUpBacksOffToMax) {
  ReconnectBackoff backoff(kMin, kMax, kAfterConnected, 7);
  int last = 0;
  for (int failure = 0; failure < 20; ++failure)
    last = backoff.NextDelayMs(0);
  EXPECT_GE(last, kMax * 4 / 5);
  EXPECT_LE(last, kMax * 6 / 5);
  // Once it has been up, the short cap applies from the first failure on.
  backoff.OnConnected();
  EXPECT_LE(backoff.NextDelayMs(0), kMin * 6 / 5);
  EXPECT_EQ(backoff.cap_ms(), kAfterConnected);
}

TEST(ReconnectBackoffTest, ThePauseCountsFromTheStartOfTheFailedAttempt) {
  ReconnectBackoff backoff(kMin, kMax, kAfterConnected, 7);
  for (int failure = 0; failure < 20; ++failure)
    (void)backoff.NextDelayMs(0);
  // An attempt that waited out a 3 s handshake timeout (a black-holed link) is followed at once:
  // the link always has a dial pending, and the heal meets it.
  EXPECT_EQ(backoff.NextDelayMs(3000), 0);
  // One that failed part-way waits only the rest.
  const int rest = backoff.NextDelayMs(1000);
  EXPECT_GE(rest, kMax * 4 / 5 - 1000);
  EXPECT_LE(rest, kMax * 6 / 5 - 1000);
}

int IntArgument(const grpc::ChannelArguments& args, const std::string& key) {
  grpc_channel_args c_args;
  args.SetChannelArgs(&c_args);
  for (size_t i = 0; i < c_args.num_args; ++i) {
    if (key == c_args.args[i].key) {
      EXPECT_EQ(c_args.args[i].type, GRPC_ARG_INTEGER);
      return c_args.args[i].value.integer;
    }
  }
  ADD_FAILURE() << key << " is not set";
  return -1;
}

// gRPC redials the TCP connection itself, under its own backoff: with the production options
// it must not wait longer after a heal than our own cap for a link that was up.
TEST(ReplicationGrpcArgsTest, GrpcsRedialBackoffIsBoundedByTheShortCap) {
  const ReplicationTransportOptions options;  // production defaults
  const grpc::ChannelArguments args = ClientArguments(options);
  EXPECT_LE(IntArgument(args, GRPC_ARG_MAX_RECONNECT_BACKOFF_MS), 100);
  EXPECT_EQ(IntArgument(args, GRPC_ARG_MAX_RECONNECT_BACKOFF_MS),
            options.reconnect_backoff_ms_max_after_connected);
  EXPECT_EQ(IntArgument(args, GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS),
            options.reconnect_backoff_ms_min);
  // The connect timeout stays the handshake timeout: a slow WAN handshake still completes.
  EXPECT_EQ(IntArgument(args, GRPC_ARG_MIN_RECONNECT_BACKOFF_MS), options.handshake_timeout_ms);
}

}  // namespace
}  // namespace meridian::net_internal
