#include "net/endpoint.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>

#include <charconv>

namespace meridian {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

Result<std::pair<std::string, uint16_t>> SplitHostPort(std::string_view address) {
  const size_t colon = address.rfind(':');
  const std::string shown = "'" + std::string(address) + "'";
  if (colon == std::string_view::npos || colon == 0) {
    return InvalidArgument("expected host:port, got " + shown);
  }
  std::string_view host = address.substr(0, colon);
  if (host.front() == '[' && host.back() == ']' && host.size() > 2) {
    host = host.substr(1, host.size() - 2);
  }
  const std::string_view port_text = address.substr(colon + 1);
  uint32_t port = 0;
  const char* end = port_text.data() + port_text.size();
  auto [ptr, ec] = std::from_chars(port_text.data(), end, port);
  if (port_text.empty() || ec != std::errc() || ptr != end || port > 65535) {
    return InvalidArgument("bad port in " + shown);
  }
  return std::make_pair(std::string(host), static_cast<uint16_t>(port));
}

Result<tcp::endpoint> ResolveEndpoint(std::string_view address) {
  Result<std::pair<std::string, uint16_t>> parts = SplitHostPort(address);
  if (!parts.ok()) return parts.status();
  const auto& [host, port] = *parts;
  boost::system::error_code ec;
  const asio::ip::address ip = asio::ip::make_address(host, ec);
  if (!ec) return tcp::endpoint(ip, port);
  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  const tcp::resolver::results_type results = resolver.resolve(host, std::to_string(port), ec);
  if (ec || results.empty()) {
    return Unavailable("cannot resolve '" + host + "': " + (ec ? ec.message() : "no address"));
  }
  return results.begin()->endpoint();
}

std::string EndpointToString(const tcp::endpoint& endpoint) {
  const asio::ip::address ip = endpoint.address();
  const std::string host = ip.is_v6() ? "[" + ip.to_string() + "]" : ip.to_string();
  return host + ":" + std::to_string(endpoint.port());
}

}  // namespace meridian
