#include "net/replication_grpc_args.h"

#include <algorithm>
#include <limits>

namespace meridian::net_internal {

namespace {

int MessageLimit(const ReplicationTransportOptions& options) {
  // gRPC takes an int; the Send() check uses the same bound, so nothing over it is ever written.
  constexpr size_t kIntMax = static_cast<size_t>(std::numeric_limits<int>::max());
  return static_cast<int>(std::min(options.max_message_bytes, kIntMax));
}

}  // namespace

grpc::ChannelArguments ClientArguments(const ReplicationTransportOptions& options) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, options.keepalive_interval_ms);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, options.keepalive_timeout_ms);
  // An idle replication stream is still a call, but ping regardless, and without gRPC's default
  // limit of two pings per data frame: a quiet link must be found dead as fast as a busy one.
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  args.SetInt(GRPC_ARG_HTTP2_MIN_SENT_PING_INTERVAL_WITHOUT_DATA_MS, options.keepalive_interval_ms);
  // gRPC's own TCP redial backoff defaults to 1 s growing to 120 s, which would keep a healed
  // link down for minutes. It is capped at our cap for a link that has been up (issue 19, item
  // 10): gRPC counts the pause from the start of the failed attempt, and an attempt through a
  // cut (a proxy that accepts and holds) lasts the connect timeout below, longer than any cap,
  // so the cap only decides how soon the attempt after a heal's reset goes out; an attempt that
  // is refused costs one SYN. MIN_RECONNECT_BACKOFF is really the minimum time given to one
  // connection attempt, so it gets the handshake timeout, not the backoff.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, options.reconnect_backoff_ms_min);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, options.reconnect_backoff_ms_max_after_connected);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, options.handshake_timeout_ms);
  // Each transport owns its TCP connections: two transports in one process (tests, the
  // simulator's neighbours) never share a connection and its failure.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetMaxSendMessageSize(MessageLimit(options));
  args.SetMaxReceiveMessageSize(MessageLimit(options));
  return args;
}

void ApplyServerArguments(const ReplicationTransportOptions& options,
                          grpc::ServerBuilder* builder) {
  // The server pings too, so an inbound stream whose dialer vanished is reaped and a redial
  // from the same region does not sit beside a dead twin.
  builder->AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, options.keepalive_interval_ms);
  builder->AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, options.keepalive_timeout_ms);
  builder->AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder->AddChannelArgument(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  // By default a server answers pings more often than every 5 minutes with GOAWAY "too many
  // pings"; our dialers ping every keepalive interval on purpose.
  builder->AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                              options.keepalive_interval_ms / 2);
  builder->AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
  // SO_REUSEPORT would let a second process bind the same port and silently take half of the
  // connections; a clear bind error is better.
  builder->AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder->SetMaxReceiveMessageSize(MessageLimit(options));
  builder->SetMaxSendMessageSize(MessageLimit(options));
}

}  // namespace meridian::net_internal
