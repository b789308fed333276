// RegionServer::Start, as its steps: the config's settings, the listeners (at once, so clients
// see "loading" while the data loads), storage, the node recovered from it, replication, and then
// the loop serves. Once the loop runs, a step that fails stops what the earlier ones started.
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include <sodium.h>

#include <random>
#include <utility>

#include "api/session_token.h"
#include "auth/key_store.h"
#include "config/residency_config.h"
#include "net/tls_context.h"
#include "server/region_server.h"
#include "server/region_server_impl.h"
#include "server/slice_layout.h"
#include "tls/cert_files.h"

namespace meridian {

namespace asio = boost::asio;

namespace {

// Options no server can run with, refused before anything starts.
Status CheckOptions(const RegionServerOptions& o) {
  if (o.self >= o.cluster.regions.size()) return InvalidArgument("region id out of range");
  if (o.tick_ms < 1 || o.tick_ms > 1000) return InvalidArgument("tick_ms must be 1..1000");
  if (o.session_wait_ms < 0) return InvalidArgument("session_wait_ms must be >= 0");
  if (o.quorum_timeout_ms < 1) return InvalidArgument("quorum_timeout_ms must be >= 1");
  if (o.write_wait_ms < 1) return InvalidArgument("write_wait_ms must be >= 1");
  if (o.stock_wait_ms < 0) return InvalidArgument("stock_wait_ms must be >= 0");
  if (o.commit.sync_interval_ms < 1) return InvalidArgument("sync_interval_ms must be >= 1");
  if (o.slice >= o.cluster.slices) return InvalidArgument("slice out of range");
  if (o.cluster.slices > 1 && !o.direct_replication) {
    return InvalidArgument(
        "slices > 1 need direct replication (--direct): the WAN emulator proxies one link per "
        "pair of regions, not one per slice");
  }
  if (o.cluster.slices > 1 && o.cluster.subjects) {
    return InvalidArgument(
        "slices > 1 with subjects are not built: an erasure would reach one slice's keys only");
  }
  return Status::Ok();
}

// "host:port" with the port raised by `offset` (slice i listens on the region's ports + i);
// port 0 (ephemeral, tests) stays 0.
std::string OffsetPort(const std::string& address, uint32_t offset) {
  if (offset == 0) return address;
  Result<HostPort> parsed = ParseHostPort(address);
  if (!parsed.ok() || parsed->port == 0) return address;
  parsed->port = static_cast<uint16_t>(parsed->port + offset);
  return parsed->ToString();
}

// What the options leave open comes from the cluster config: this region's addresses and data
// directory, and the replica's place in the cluster.
void FillFromConfig(RegionServerOptions& options) {
  const ClusterConfig& cluster = options.cluster;
  const RegionConfig& me = cluster.regions[options.self];
  if (options.data_dir.empty()) options.data_dir = me.data_dir;
  if (options.http_address.empty()) options.http_address = me.http.ToString();
  if (options.replication_address.empty()) options.replication_address = me.replication.ToString();
  if (options.resp_address.empty() && me.resp) options.resp_address = me.resp->ToString();
  if (options.admin_address.empty() && me.admin) options.admin_address = me.admin->ToString();
  if (cluster.slices > 1) {
    // Every slice's RESP listener, for MOVED and CLUSTER SLOTS.
    Result<HostPort> resp = ParseHostPort(options.resp_address);
    for (uint32_t i = 0; resp.ok() && i < cluster.slices; ++i)
      options.resp.slice_listeners.emplace_back(resp->host, resp->port + i);
    options.http_address = OffsetPort(options.http_address, options.slice);
    options.replication_address = OffsetPort(options.replication_address, options.slice);
    options.resp_address = OffsetPort(options.resp_address, options.slice);
    options.admin_address = OffsetPort(options.admin_address, options.slice);
  }
  options.replica.self = options.self;
  options.replica.region_count = static_cast<RegionId>(cluster.regions.size());
  options.replica.topology = cluster.topology;
  options.replica.hub = cluster.hub.value_or(0);
}

// The API keys, region and slot names: what requests need from the config. Runs before the loop
// starts, so a failure here has nothing to stop.
Status LoadClusterSettings(RegionServer::Impl& s) {
  const ClusterConfig& cluster = s.options.cluster;
  if (cluster.auth) {
    auto keys = auth::KeyStore::Load(cluster.auth->keys_file);
    if (!keys.ok()) return Status(keys.status().code(), "auth: " + keys.status().message());
    s.keys = std::move(keys).value();
  } else {
    spdlog::warn(
        "region {}: the cluster config has no `auth` section: client authentication is OFF, "
        "any client may read and write everything (docs/security.md)",
        cluster.regions[s.options.self].name);
  }
  for (const RegionConfig& region : cluster.regions)
    s.region_names.push_back(region.name);
  auto residency = ResidencyFromConfig(cluster);
  if (!residency.ok()) return residency.status();
  s.slot_names = SlotNames(*residency, s.region_names);
  s.api_options.token_slots = residency->slot_count();
  s.api_options.token_tag = SliceTokenTag(s.options.slice, cluster.slices);
  s.link_seen.assign(s.region_names.size(), false);
  return Status::Ok();
}

// Start's way out once the loop runs: stops the listeners started so far, then the loop.
Status Abandon(RegionServer::Impl& s, Status st) {
  if (s.http) s.http->Stop();
  if (s.admin_http) s.admin_http->Stop();
  if (s.resp) s.RunOnLoop([&s] { s.resp->Stop(); });
  s.work.reset();
  s.loop.stop();
  s.loop_thread.join();
  return st;
}

// The HTTP and admin listeners' options; with client TLS, the HTTP one serves the certificate
// directory's listener.pem (the admin listener stays loopback plaintext, docs/security.md).
Status ListenerOptions(RegionServer::Impl& s, HttpServerOptions* http_options,
                       HttpServerOptions* admin_options) {
  const RegionServerOptions& options = s.options;
  const ClusterConfig& cluster = options.cluster;
  http_options->io_context = &s.loop;
  http_options->body_bytes_max = kBodyBytesMax;
  http_options->max_connections = options.limits.max_connections;
  http_options->idle_timeout_ms = options.limits.http_idle_timeout_ms;
  http_options->request_timeout_ms = options.limits.request_timeout_ms;
  *admin_options = *http_options;
  if (cluster.tls && cluster.tls->client) {
    Result<TlsContextPtr> tls =
        MakeServerTlsContext(ListenerCertPath(cluster.tls->dir), ListenerKeyPath(cluster.tls->dir));
    if (!tls.ok()) return Status(tls.status().code(), "client TLS: " + tls.status().message());
    http_options->tls = *tls;
    s.client_tls = true;
    spdlog::info("region {}: client TLS (1.3) on the HTTP and RESP listeners, certificate {}",
                 cluster.regions[options.self].name, ListenerCertPath(cluster.tls->dir));
  }
  return Status::Ok();
}

// The RESP listener (when configured), on the loop, with the hooks that hand its commands to
// the node.
Status StartResp(RegionServer::Impl& s, const TlsContextPtr& tls) {
  const RegionServerOptions& options = s.options;
  RegionServer::Impl* raw = &s;
  RespServer::Hooks hooks;
  hooks.loading = [raw] { return raw->loading.load(); };
  hooks.node = [raw]() -> const RegionNode& { return *raw->node; };
  hooks.submit = [raw](NodeCommand command, std::function<void(NodeReply)> done) {
    raw->Submit(std::move(command), std::move(done));
  };
  hooks.now_steady_ms = [raw] { return raw->Now().steady_ms; };
  hooks.keys = s.keys ? &*s.keys : nullptr;
  hooks.admit = [raw](size_t commands) { return raw->Admit(commands, "resp"); };
  hooks.command_metrics = &s.resp_metrics;
  RespServerLimits limits;
  limits.max_connections = options.limits.max_connections;
  limits.max_pending_commands = options.limits.max_pipelined_commands;
  limits.idle_timeout_ms = options.limits.resp_idle_timeout_ms;
  limits.command_timeout_ms = options.limits.request_timeout_ms;
  s.resp = std::make_unique<RespServer>(s.loop, options.resp_address, options.resp,
                                        std::move(hooks), limits, tls);
  return s.resp->Start();
}

// The client and admin listeners, at once: while the data loads (seconds for millions of keys)
// clients and the router get a clear 503 "loading" rather than a refused connection.
Status StartListeners(RegionServer::Impl& s) {
  const RegionServerOptions& options = s.options;
  RegionServer::Impl* raw = &s;
  HttpServerOptions http_options;
  HttpServerOptions admin_options;
  MERIDIAN_RETURN_IF_ERROR(ListenerOptions(s, &http_options, &admin_options));
  s.http = std::make_unique<HttpServer>(
      options.http_address,
      [raw](HttpRequest request, HttpResponder respond) {
        raw->Handle(std::move(request), std::move(respond));
      },
      http_options);
  if (Status st = s.http->Start(); !st.ok()) {
    return Status(st.code(), "HTTP listener: " + st.message());
  }
  if (!options.admin_address.empty()) {
    s.admin_http = std::make_unique<HttpServer>(
        options.admin_address,
        [raw](HttpRequest request, HttpResponder respond) {
          raw->HandleAdminListener(std::move(request), std::move(respond));
        },
        admin_options);
    if (Status st = s.admin_http->Start(); !st.ok()) {
      return Status(st.code(), "admin listener: " + st.message());
    }
  }
  if (!options.resp_address.empty()) MERIDIAN_RETURN_IF_ERROR(StartResp(s, http_options.tls));
  return Status::Ok();
}

// The region's storage, and the subjects' vault beside it when the config names subjects.
Status OpenStorage(RegionServer::Impl& s) {
  const RegionServerOptions& options = s.options;
  if (options.TEST_recovery_delay_ms > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(options.TEST_recovery_delay_ms));
  }
  MERIDIAN_RETURN_IF_ERROR(CheckSliceLayout(options.data_dir, options.cluster.slices));
  const std::string dir = SliceDataDir(options.data_dir, options.slice, options.cluster.slices);
  auto storage = RocksDbStorage::Open(dir, options.rocksdb);
  if (!storage.ok()) return storage.status();
  s.storage = std::move(storage).value();
  if (options.cluster.subjects) {
    const std::string& name = options.cluster.regions[options.self].name;
    auto vault =
        VaultStore::Open(options.data_dir + "/vault",
                         options.cluster.subjects->master_key_dir + "/" + name + ".master.key");
    if (!vault.ok()) return vault.status();
    s.vault = std::move(vault).value();
  }
  return Status::Ok();
}

// The node's options: the server's, and the config's residency and subjects.
RegionNodeOptions NodeOptions(const RegionServer::Impl& s) {
  const RegionServerOptions& options = s.options;
  const ClusterConfig& cluster = options.cluster;
  RegionNodeOptions node;
  node.replica = options.replica;
  // Used only when the data directory holds no incarnation (new, or restored from a backup):
  // random, so that it differs from every earlier incarnation of this region.
  std::random_device entropy;
  do {
    node.replica.incarnation = (uint64_t{entropy()} << 32) | entropy();
  } while (node.replica.incarnation == 0);
  node.strong = options.strong;
  node.strong.self = options.self;
  node.strong.tick_ms = static_cast<uint32_t>(options.tick_ms);
  node.strong.region_count = options.replica.region_count;
  node.strong.random_seed = entropy();
  node.region_names = s.region_names;
  node.residency = *ResidencyFromConfig(cluster);  // checked by LoadClusterSettings
  node.wal_sync = options.commit.wal_sync;
  node.new_cluster = options.new_cluster;
  node.session_wait_ms = options.session_wait_ms;
  node.quorum_timeout_ms = options.quorum_timeout_ms;
  node.write_wait_ms = options.write_wait_ms;
  node.stock_wait_ms = options.stock_wait_ms;
  node.max_waiting_reads = options.max_waiting_reads;
  node.slices = {options.slice, cluster.slices};
  node.handle_slot_prefix = options.resp.strong_prefix;
  if (cluster.subjects) {
    for (const std::string& pattern : cluster.subjects->patterns)
      node.subject_patterns.push_back(*ParseSubjectPattern(pattern));  // checked by the parser
    node.random_bytes = [](uint8_t* out, size_t size) { randombytes_buf(out, size); };
  }
  return node;
}

// Loads the node from storage (through the vault, which opens subjects' values), then starts the
// WAL syncer that will sync what it writes.
Result<std::unique_ptr<RegionNode>> RecoverNode(RegionServer::Impl& s) {
  RegionServer::Impl* raw = &s;
  std::optional<VaultRoutedView> with_vault;
  if (s.vault) with_vault.emplace(*s.storage, *s.vault);
  auto recovered = RegionNode::Recover(
      NodeOptions(s), with_vault ? static_cast<const Storage&>(*with_vault) : *s.storage,
      [raw](uint64_t states) { raw->states_loaded = states; });
  if (!recovered.ok()) {
    return Status(recovered.status().code(),
                  "recovering from " + s.options.data_dir + ": " + recovered.status().message());
  }
  s.syncer = std::make_unique<WalSyncer>(
      s.storage.get(),
      [raw](uint64_t step, Status synced) {
        asio::post(raw->loop,
                   [raw, step, synced = std::move(synced)] { raw->OnSynced(step, synced); });
      },
      &s.metrics.wal_sync_seconds.Get());
  return recovered;
}

// The replication transport, its peers' addresses and (unless the cluster is plaintext) the
// region's certificates; `node` is handed to the loop before the transport can deliver to it.
Status StartReplication(RegionServer::Impl& s, std::unique_ptr<RegionNode> node) {
  const RegionServerOptions& options = s.options;
  const ClusterConfig& cluster = options.cluster;
  RegionServer::Impl* raw = &s;
  std::map<RegionId, std::string> peers;
  for (RegionId peer = 0; peer < options.replica.region_count; ++peer) {
    if (peer == options.self) continue;
    peers[peer] = options.direct_replication
                      ? OffsetPort(cluster.regions[peer].replication.ToString(), options.slice)
                      : ReplicationDialAddress(cluster, options.self, peer).ToString();
  }
  ReplicationTransportOptions transport_options = options.transport;
  if (cluster.tls && !cluster.tls->plaintext) {
    // The cluster config's certificates (tls/cert_files.h): this region's, and the CA's.
    Result<TlsMaterial> material =
        LoadTlsMaterial(cluster.tls->dir, {PeerRole::kRegion, cluster.regions[options.self].name});
    if (!material.ok()) return material.status();
    ReplicationTls tls{material->ca_pem, material->cert_pem, material->key_pem, {}};
    for (const RegionConfig& region : cluster.regions) {
      tls.region_names.push_back(region.name);
    }
    transport_options.tls = std::move(tls);
  }
  s.transport = std::make_unique<ReplicationTransport>(
      options.self,
      // A slice's links carry its own name, so the handshake refuses a stream from another slice
      // or from a region cut into another number of slices.
      cluster.slices > 1 ? "meridian/slice-" + std::to_string(options.slice) + "-of-" +
                               std::to_string(cluster.slices)
                         : std::string("meridian"),
      options.replication_address, std::move(peers),
      [raw](RegionId from, pb::PeerMessage m) { raw->OnPeerMessage(from, std::move(m)); },
      [raw](RegionId peer) { raw->OnPeerConnected(peer); }, transport_options);
  // Set before anything can reach it on the loop: requests see `loading` until Serve, and the
  // transport delivers nothing before it starts.
  s.node = std::move(node);
  if (Status st = s.transport->Start(); !st.ok()) {
    return Status(st.code(), "replication listener: " + st.message());
  }
  return Status::Ok();
}

// On the loop, once everything is up: says where the region serves, ends `loading`, and starts
// the ticks.
void Serve(RegionServer::Impl& s) {
  const Replica& replica = s.node->replica();
  spdlog::info(
      "region {}{}: serving http://{} resp {} admin {} replication {} data {} (applied {}{}; "
      "wal {}; auth {})",
      s.options.cluster.regions[s.options.self].name,
      s.options.cluster.slices > 1 ? " slice " + std::to_string(s.options.slice) + "/" +
                                         std::to_string(s.options.cluster.slices)
                                   : std::string(),
      s.http->address(), s.resp ? std::to_string(s.resp->port()) : std::string("off"),
      s.admin_http ? std::to_string(s.admin_http->port()) : std::string("off"), s.transport->port(),
      s.options.data_dir, replica.applied().ToString(),
      replica.rejoining() ? "; new or restored storage: rejoining its peers" : "",
      WalSyncName(s.options.commit.wal_sync),
      s.keys ? std::to_string(s.keys->entries().size()) + " keys" : std::string("off"));
  s.loading = false;
  s.ScheduleTick();
}

}  // namespace

// Each step is a function above; once the loop runs, a failed step stops what started before it.
Result<std::unique_ptr<RegionServer>> RegionServer::Start(RegionServerOptions options) {
  MERIDIAN_RETURN_IF_ERROR(CheckOptions(options));
  FillFromConfig(options);
  auto impl = std::make_unique<Impl>();
  Impl& s = *impl;
  Impl* raw = impl.get();
  s.options = std::move(options);
  MERIDIAN_RETURN_IF_ERROR(LoadClusterSettings(s));
  s.work.emplace(s.loop.get_executor());
  s.loop_thread = std::thread([raw] { raw->loop.run(); });
  if (Status st = StartListeners(s); !st.ok()) return Abandon(s, st);
  if (Status st = OpenStorage(s); !st.ok()) return Abandon(s, st);
  auto node = RecoverNode(s);
  if (!node.ok()) return Abandon(s, node.status());
  if (Status st = StartReplication(s, std::move(node).value()); !st.ok()) return Abandon(s, st);
  s.RunOnLoop([&s] { Serve(s); });
  return std::unique_ptr<RegionServer>(new RegionServer(std::move(impl)));
}

}  // namespace meridian
