// RespFront's listener, upstream table and lifecycle; the connections are in resp_client.cc.
#include "router/resp_front.h"

#include <boost/asio/post.hpp>

#include <algorithm>
#include <boost/asio/write.hpp>

#include "base/assert.h"
#include "config/cluster_config.h"
#include "net/endpoint.h"
#include "router/resp_front_impl.h"

namespace meridian::router {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr std::string_view kTooManyClients = "-ERR max number of clients reached\r\n";

size_t VersionIndex(RespVersion version) {
  return version == RespVersion::kResp3 ? 1 : 0;
}

}  // namespace

RespFront::Impl::Impl(asio::io_context& ioc, RespFrontOptions o, RespFrontHooks h, RouterMetrics& m)
    : options(std::move(o)),
      hooks(std::move(h)),
      metrics(m),
      commands_unserved(m.resp_commands.WithLabels({"none"})),
      commands_answered_here(m.resp_commands.WithLabels({"router"})),
      strand(asio::make_strand(ioc)),
      acceptor(strand),
      sweep_timer(strand) {
  MERIDIAN_ASSERT(!options.region_names.empty());
  MERIDIAN_ASSERT(options.resp_dial.size() == options.region_names.size());
  MERIDIAN_ASSERT(options.default_location < options.region_names.size());
  MERIDIAN_ASSERT(options.connections_per_region >= 1);
  MERIDIAN_ASSERT(options.slices >= 1 && options.slices <= kMaxSlices);
  MERIDIAN_ASSERT(options.handshake_timeout_ms >= 0 && options.command_timeout_ms >= 0 &&
                  options.idle_timeout_ms >= 0);
  for (const std::string& name : options.region_names)
    commands_relayed.push_back(&metrics.resp_commands.WithLabels({name}));
}

const std::shared_ptr<RespUpstream>& RespFront::Impl::Upstream(RegionId region, uint32_t slice,
                                                               RespVersion version,
                                                               uint64_t client_id) const {
  const auto& row = upstreams[region * options.slices + slice][VersionIndex(version)];
  return row[client_id % row.size()];
}

void RespFront::Impl::Accept() {
  acceptor.async_accept(
      strand, [self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
        if (self->stopped || !self->acceptor.is_open()) return;
        if (!ec) {
          socket.set_option(tcp::no_delay(true), ec);
          if (self->clients.size() >= self->options.max_clients && self->options.listener_tls) {
            socket.close(ec);  // contract 9: a TLS client cannot read a plaintext refusal
          } else if (self->clients.size() >= self->options.max_clients) {
            // As redis-server past maxclients: say so, then close.
            auto refused = std::make_shared<tcp::socket>(std::move(socket));
            asio::async_write(*refused, asio::buffer(kTooManyClients),
                              [refused](boost::system::error_code, size_t) {
                                boost::system::error_code ignored;
                                refused->close(ignored);
                              });
          } else {
            const uint64_t id = self->next_client_id++;
            auto client = std::make_shared<RespClient>(*self, std::move(socket), id);
            self->clients.emplace(id, client);
            client->Start();
          }
        }
        self->Accept();
      });
}

void RespFront::Impl::Sweep() {
  if (stopped) return;
  const RespClock::time_point now = RespClock::now();
  std::vector<std::pair<std::shared_ptr<RespClient>, const char*>> expired;
  for (const auto& [id, client] : clients) {
    if (const char* reason = client->TimedOut(now)) expired.emplace_back(client, reason);
  }
  for (const auto& [client, reason] : expired) {  // Close() erases from `clients`
    metrics.resp_connections_timed_out.WithLabels({reason}).Increment();
    if (std::string_view(reason) == "handshake") {
      metrics.CountRespTlsFailure(TlsHandshakeFailure::kTimeout);
    }
    client->Close();
  }
  int64_t shortest = kRespSweepIntervalMsMax * 2;
  for (int64_t timeout :
       {options.handshake_timeout_ms, options.command_timeout_ms, options.idle_timeout_ms}) {
    if (timeout > 0) shortest = std::min(shortest, timeout);
  }
  sweep_timer.expires_after(
      std::chrono::milliseconds(std::clamp<int64_t>(shortest / 2, 1, kRespSweepIntervalMsMax)));
  sweep_timer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec) self->Sweep();
  });
}

void RespFront::Impl::StopOnStrand() {
  if (stopped) return;
  stopped = true;
  boost::system::error_code ignored;
  acceptor.close(ignored);
  sweep_timer.cancel();
  auto open = clients;  // Close() erases from the map
  for (auto& [id, client] : open)
    client->Close();
  for (auto& by_version : upstreams) {
    for (auto& row : by_version) {
      for (auto& upstream : row)
        upstream->Abort(Unavailable("the router is stopping"));
    }
  }
}

RespFront::RespFront(asio::io_context& ioc, RespFrontOptions options, RespFrontHooks hooks,
                     RouterMetrics& metrics)
    : impl_(std::make_shared<Impl>(ioc, std::move(options), std::move(hooks), metrics)) {}

RespFront::~RespFront() = default;

Status RespFront::Start() {
  Impl& s = *impl_;
  MERIDIAN_ASSERT(s.upstreams.empty());
  for (RegionId region = 0; region < s.options.region_names.size(); ++region) {
    for (uint32_t slice = 0; slice < s.options.slices; ++slice) {
      std::string address = s.options.resp_dial[region];
      if (slice > 0) {  // slice i listens on the region's resp port + i
        Result<std::pair<std::string, uint16_t>> base = SplitHostPort(address);
        if (!base.ok()) return base.status();
        address = HostPort{base->first, static_cast<uint16_t>(base->second + slice)}.ToString();
      }
      Result<tcp::endpoint> endpoint = ResolveEndpoint(address);
      if (!endpoint.ok()) {
        return Status(endpoint.status().code(), "router resp: region " +
                                                    s.options.region_names[region] + " at " +
                                                    address + ": " + endpoint.status().message());
      }
      std::vector<std::vector<std::shared_ptr<RespUpstream>>> by_version(2);
      RespUpstreamOptions upstream_options;
      upstream_options.auth_key = s.options.upstream_key;
      upstream_options.tls = s.options.upstream_tls;
      if (upstream_options.tls) {
        Result<std::pair<std::string, uint16_t>> host_port = SplitHostPort(address);
        if (!host_port.ok()) return host_port.status();
        upstream_options.tls_host = host_port->first;
      }
      for (RespVersion version : {RespVersion::kResp2, RespVersion::kResp3}) {
        for (size_t i = 0; i < s.options.connections_per_region; ++i) {
          by_version[VersionIndex(version)].push_back(std::make_shared<RespUpstream>(
              s.strand, *endpoint, "region " + s.options.region_names[region] + " at " + address,
              version, upstream_options));
        }
      }
      s.upstreams.push_back(std::move(by_version));
    }
  }
  Result<tcp::endpoint> listen = ResolveEndpoint(s.options.address);
  if (!listen.ok()) return listen.status();
  boost::system::error_code ec;
  auto fail = [&](const char* step) {
    return Unavailable("router resp listener " + s.options.address + ": " + step + ": " +
                       ec.message());
  };
  if (s.acceptor.open(listen->protocol(), ec)) return fail("open");
  if (s.acceptor.set_option(asio::socket_base::reuse_address(true), ec)) return fail("setsockopt");
  if (s.acceptor.bind(*listen, ec)) return fail("bind");
  if (s.acceptor.listen(asio::socket_base::max_listen_connections, ec)) return fail("listen");
  const tcp::endpoint local = s.acceptor.local_endpoint(ec);
  if (ec) return fail("local_endpoint");
  s.bound_address = EndpointToString(local);
  asio::post(s.strand, [impl = impl_] {
    impl->Accept();
    const RespFrontOptions& o = impl->options;
    if (o.handshake_timeout_ms > 0 || o.command_timeout_ms > 0 || o.idle_timeout_ms > 0) {
      impl->Sweep();
    }
  });
  return Status::Ok();
}

void RespFront::Stop() {
  asio::post(impl_->strand, [impl = impl_] { impl->StopOnStrand(); });
}

void RespFront::AbortRegion(RegionId region, const std::string& reason) {
  MERIDIAN_ASSERT(region < impl_->options.region_names.size());
  asio::post(impl_->strand, [impl = impl_, region, reason] {
    const uint32_t slices = impl->options.slices;
    if (impl->stopped || (region + 1) * slices > impl->upstreams.size()) return;
    for (uint32_t slice = 0; slice < slices; ++slice) {
      for (auto& row : impl->upstreams[region * slices + slice]) {
        for (auto& upstream : row)
          upstream->Abort(Unavailable(upstream->name() + ": " + reason));
      }
    }
  });
}

std::string RespFront::address() const {
  MERIDIAN_ASSERT(!impl_->bound_address.empty());
  return impl_->bound_address;
}

}  // namespace meridian::router
