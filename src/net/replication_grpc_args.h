// Internal to ReplicationTransport: the gRPC channel and server arguments that turn its options
// into keepalive, reconnect and message-size behaviour. Why each is set is said where it is set.
#pragma once

#include <grpcpp/server_builder.h>
#include <grpcpp/support/channel_arguments.h>

#include "net/replication_transport.h"

namespace meridian::net_internal {

grpc::ChannelArguments ClientArguments(const ReplicationTransportOptions& options);
void ApplyServerArguments(const ReplicationTransportOptions& options, grpc::ServerBuilder* builder);

}  // namespace meridian::net_internal
