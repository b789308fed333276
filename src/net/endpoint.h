// Endpoint helpers shared by the HTTP server, the HTTP client and the WAN emulator.
//
// Addresses are "host:port" or "[v6]:port". Literal IPs need no lookup; names ("localhost") are
// resolved with a blocking lookup, so call these at startup, not on an I/O thread's hot path.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "base/status.h"

namespace meridian {

// "127.0.0.1:80" -> {"127.0.0.1", 80}; "[::1]:80" -> {"::1", 80}. InvalidArgument otherwise.
Result<std::pair<std::string, uint16_t>> SplitHostPort(std::string_view address);

// The first IPv4/IPv6 endpoint for `address`. InvalidArgument / Unavailable with the reason.
Result<boost::asio::ip::tcp::endpoint> ResolveEndpoint(std::string_view address);

// "127.0.0.1:7101", "[::1]:7101".
std::string EndpointToString(const boost::asio::ip::tcp::endpoint& endpoint);

}  // namespace meridian
