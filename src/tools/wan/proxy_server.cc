#include "tools/wan/proxy_server.h"

#include <boost/asio/post.hpp>

#include <spdlog/spdlog.h>
#include <algorithm>

#include "net/endpoint.h"
#include "tools/wan/proxy_connection.h"

namespace meridian::wan {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

ProxyServer::ProxyServer(asio::io_context& ioc, ProxySpec spec, uint64_t seed)
    : ioc_(ioc),
      spec_(std::move(spec)),
      seed_(seed),
      strand_(asio::make_strand(ioc)),
      acceptor_(strand_),
      shape_(std::make_shared<const ProxyShape>(ProxyShape{true, spec_.baseline_toxics})) {}

ProxyServer::~ProxyServer() = default;

Status ProxyServer::Listen() {
  Result<tcp::endpoint> listen = ResolveEndpoint(spec_.listen);
  if (!listen.ok()) return listen.status();
  Result<tcp::endpoint> upstream = ResolveEndpoint(spec_.upstream);
  if (!upstream.ok()) return upstream.status();
  upstream_ = *upstream;
  boost::system::error_code ec;
  const auto fail = [&](const char* step) {
    return Unavailable("proxy " + spec_.name + " on " + spec_.listen + ": " + step + ": " +
                       ec.message());
  };
  if (acceptor_.open(listen->protocol(), ec)) return fail("open");
  if (acceptor_.set_option(asio::socket_base::reuse_address(true), ec)) return fail("setsockopt");
  if (acceptor_.bind(*listen, ec)) return fail("bind");
  if (acceptor_.listen(asio::socket_base::max_listen_connections, ec)) return fail("listen");
  const tcp::endpoint bound = acceptor_.local_endpoint(ec);
  if (ec) return fail("local_endpoint");
  bound_ = EndpointToString(bound);
  return Status::Ok();
}

void ProxyServer::StartAccepting() {
  asio::post(strand_, [this] { DoAccept(); });
}

void ProxyServer::DoAccept() {
  // The accepted socket is bound to a fresh strand, which its ProxyConnection then shares.
  Strand strand = asio::make_strand(ioc_);
  acceptor_.async_accept(strand, [this, strand](boost::system::error_code ec, tcp::socket socket) {
    OnAccept(ec, std::move(socket), strand);
  });
}

void ProxyServer::OnAccept(boost::system::error_code ec, tcp::socket socket, Strand strand) {
  if (!acceptor_.is_open() || ec == asio::error::operation_aborted) return;
  if (ec) {
    // EMFILE and friends: drop this one and keep serving the connections we have.
    spdlog::warn("wan proxy {}: accept failed: {}", spec_.name, ec.message());
    return DoAccept();
  }
  std::shared_ptr<ProxyConnection> connection;
  {
    MutexLock lock(&mu_);
    if (shutting_down_) return;
    if (connections_.size() < kConnectionsPerProxyMax) {
      const uint64_t id = next_connection_id_++;
      connection = std::make_shared<ProxyConnection>(*this, id, strand, std::move(socket),
                                                     !shape_->enabled, seed_ + id);
      connections_.emplace(id, connection);
    }
  }
  if (connection) {
    connection->Start(upstream_);
  } else {
    spdlog::warn("wan proxy {}: {} connections open; refusing another", spec_.name,
                 kConnectionsPerProxyMax);
  }
  DoAccept();
}

void ProxyServer::Shutdown() {
  asio::post(strand_, [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  });
  ConnectionList connections;
  {
    // Under the lock OnAccept registers with, so no connection slips past the snapshot.
    MutexLock lock(&mu_);
    shutting_down_ = true;
    for (const auto& [id, connection] : connections_) {
      connections.push_back(connection);
    }
  }
  for (const auto& connection : connections) {
    connection->Abort();
  }
}

ProxyInfo ProxyServer::Info() const {
  TrafficSnapshot traffic;
  for (size_t d = 0; d < 2; ++d) {
    traffic.bytes_forwarded[d] = traffic_.bytes_forwarded[d].load(std::memory_order_relaxed);
    traffic.chunks_forwarded[d] = traffic_.chunks_forwarded[d].load(std::memory_order_relaxed);
    traffic.bytes_dropped_timeout[d] =
        traffic_.bytes_dropped_timeout[d].load(std::memory_order_relaxed);
    traffic.bytes_dropped_partition[d] =
        traffic_.bytes_dropped_partition[d].load(std::memory_order_relaxed);
  }
  MutexLock lock(&mu_);
  return ProxyInfo{spec_.name,     bound_.empty() ? spec_.listen : bound_,
                   spec_.upstream, shape_->enabled,
                   shape_->toxics, connections_.size(),
                   traffic};
}

ProxyServer::ConnectionList ProxyServer::PublishLocked(bool enabled, std::vector<Toxic> toxics) {
  shape_ = std::make_shared<const ProxyShape>(ProxyShape{enabled, std::move(toxics)});
  ConnectionList connections;
  for (const auto& [id, connection] : connections_) {
    connections.push_back(connection);
  }
  return connections;
}

void ProxyServer::NotifyToxicsChanged(const ConnectionList& connections) {
  for (const auto& connection : connections) {
    connection->OnToxicsChanged();
  }
}

void ProxyServer::SetEnabled(bool enabled) {
  ConnectionList connections;
  bool was_enabled = false;
  {
    MutexLock lock(&mu_);
    was_enabled = shape_->enabled;
    connections = PublishLocked(enabled, shape_->toxics);
  }
  if (was_enabled == enabled) return;
  for (const auto& connection : connections) {
    if (enabled) {
      connection->AbortIfSevered();
    } else {
      connection->Sever();
    }
  }
}

Status ProxyServer::AddToxic(Toxic toxic) {
  ConnectionList connections;
  {
    MutexLock lock(&mu_);
    for (const Toxic& existing : shape_->toxics) {
      if (existing.name == toxic.name) {
        return AlreadyExists("toxic '" + toxic.name + "' already exists on proxy " + spec_.name);
      }
    }
    std::vector<Toxic> toxics = shape_->toxics;
    toxics.push_back(std::move(toxic));
    connections = PublishLocked(shape_->enabled, std::move(toxics));
  }
  NotifyToxicsChanged(connections);
  return Status::Ok();
}

Status ProxyServer::ReplaceToxic(Toxic toxic) {
  ConnectionList connections;
  {
    MutexLock lock(&mu_);
    std::vector<Toxic> toxics = shape_->toxics;
    auto it = std::find_if(toxics.begin(), toxics.end(),
                           [&](const Toxic& t) { return t.name == toxic.name; });
    if (it == toxics.end()) return NotFound("no toxic '" + toxic.name + "' on proxy " + spec_.name);
    *it = std::move(toxic);
    connections = PublishLocked(shape_->enabled, std::move(toxics));
  }
  NotifyToxicsChanged(connections);
  return Status::Ok();
}

Status ProxyServer::RemoveToxic(std::string_view name) {
  ConnectionList connections;
  {
    MutexLock lock(&mu_);
    std::vector<Toxic> toxics = shape_->toxics;
    const auto removed = std::erase_if(toxics, [&](const Toxic& t) { return t.name == name; });
    if (removed == 0) {
      return NotFound("no toxic '" + std::string(name) + "' on proxy " + spec_.name);
    }
    connections = PublishLocked(shape_->enabled, std::move(toxics));
  }
  NotifyToxicsChanged(connections);
  return Status::Ok();
}

std::optional<Toxic> ProxyServer::FindToxic(std::string_view name) const {
  MutexLock lock(&mu_);
  for (const Toxic& toxic : shape_->toxics) {
    if (toxic.name == name) return toxic;
  }
  return std::nullopt;
}

void ProxyServer::Reset() {
  ConnectionList connections;
  {
    MutexLock lock(&mu_);
    connections = PublishLocked(shape_->enabled, spec_.baseline_toxics);
  }
  NotifyToxicsChanged(connections);
  SetEnabled(true);
}

std::shared_ptr<const ProxyShape> ProxyServer::Shape() const {
  MutexLock lock(&mu_);
  return shape_;
}

void ProxyServer::Forget(uint64_t connection_id) {
  std::shared_ptr<ProxyConnection> doomed;  // released after the lock
  MutexLock lock(&mu_);
  auto it = connections_.find(connection_id);
  if (it == connections_.end()) return;
  doomed = std::move(it->second);
  connections_.erase(it);
}

}  // namespace meridian::wan
