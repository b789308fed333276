// RegionServer lifecycle and its event loop: node events, the end-of-pass write, syncs, ticks.
#include "server/region_server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include <malloc.h>
#include <sodium.h>

#include <algorithm>
#include <future>
#include <random>
#include <utility>

#include "auth/key_store.h"
#include "config/residency_config.h"
#include "net/tls_context.h"
#include "server/region_server_impl.h"
#include "tls/cert_files.h"

namespace meridian {

namespace asio = boost::asio;

namespace {

Status CheckOptions(const RegionServerOptions& o) {
  if (o.self >= o.cluster.regions.size()) return InvalidArgument("region id out of range");
  if (o.tick_ms < 1 || o.tick_ms > 1000) return InvalidArgument("tick_ms must be 1..1000");
  if (o.session_wait_ms < 0) return InvalidArgument("session_wait_ms must be >= 0");
  if (o.quorum_timeout_ms < 1) return InvalidArgument("quorum_timeout_ms must be >= 1");
  if (o.write_wait_ms < 1) return InvalidArgument("write_wait_ms must be >= 1");
  if (o.stock_wait_ms < 0) return InvalidArgument("stock_wait_ms must be >= 0");
  if (o.commit.sync_interval_ms < 1) return InvalidArgument("sync_interval_ms must be >= 1");
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<RegionServer>> RegionServer::Start(RegionServerOptions options) {
  MERIDIAN_RETURN_IF_ERROR(CheckOptions(options));
  const ClusterConfig& cluster = options.cluster;
  const RegionConfig& me = cluster.regions[options.self];
  if (options.data_dir.empty()) options.data_dir = me.data_dir;
  if (options.http_address.empty()) options.http_address = me.http.ToString();
  if (options.replication_address.empty()) options.replication_address = me.replication.ToString();
  if (options.resp_address.empty() && me.resp) options.resp_address = me.resp->ToString();
  if (options.admin_address.empty() && me.admin) options.admin_address = me.admin->ToString();
  options.replica.self = options.self;
  options.replica.region_count = static_cast<RegionId>(cluster.regions.size());
  options.replica.topology = cluster.topology;
  options.replica.hub = cluster.hub.value_or(0);

  auto impl = std::make_unique<Impl>();
  Impl& s = *impl;
  Impl* raw = impl.get();
  s.options = options;
  if (cluster.auth) {
    auto keys = auth::KeyStore::Load(cluster.auth->keys_file);
    if (!keys.ok()) return Status(keys.status().code(), "auth: " + keys.status().message());
    s.keys = std::move(keys).value();
  } else {
    spdlog::warn(
        "region {}: the cluster config has no `auth` section: client authentication is OFF, "
        "any client may read and write everything (docs/security.md)",
        me.name);
  }
  for (const RegionConfig& region : cluster.regions)
    s.region_names.push_back(region.name);
  auto residency = ResidencyFromConfig(cluster);
  if (!residency.ok()) return residency.status();
  s.slot_names = SlotNames(*residency, s.region_names);
  s.api_options.token_slots = residency->slot_count();
  s.link_seen.assign(s.region_names.size(), false);
  s.work.emplace(s.loop.get_executor());
  s.loop_thread = std::thread([raw] { raw->loop.run(); });
  auto abandon = [&s](Status st) {
    if (s.http) s.http->Stop();
    if (s.admin_http) s.admin_http->Stop();
    if (s.resp) s.RunOnLoop([&s] { s.resp->Stop(); });
    s.work.reset();
    s.loop.stop();
    s.loop_thread.join();
    return st;
  };

  // Listen at once: while the data loads (seconds for millions of keys) clients and the router
  // get a clear 503 "loading" rather than a refused connection.
  HttpServerOptions http_options;
  http_options.io_context = &s.loop;
  http_options.body_bytes_max = kBodyBytesMax;
  http_options.max_connections = options.limits.max_connections;
  http_options.idle_timeout_ms = options.limits.http_idle_timeout_ms;
  http_options.request_timeout_ms = options.limits.request_timeout_ms;
  HttpServerOptions admin_options = http_options;  // loopback, plaintext (docs/security.md)
  if (cluster.tls && cluster.tls->client) {
    // Client TLS: the HTTP and RESP listeners serve the certificate directory's listener.pem.
    Result<TlsContextPtr> tls =
        MakeServerTlsContext(ListenerCertPath(cluster.tls->dir), ListenerKeyPath(cluster.tls->dir));
    if (!tls.ok()) {
      return abandon(Status(tls.status().code(), "client TLS: " + tls.status().message()));
    }
    http_options.tls = *tls;
    s.client_tls = true;
    spdlog::info("region {}: client TLS (1.3) on the HTTP and RESP listeners, certificate {}",
                 me.name, ListenerCertPath(cluster.tls->dir));
  }
  s.http = std::make_unique<HttpServer>(
      options.http_address,
      [raw](HttpRequest request, HttpResponder respond) {
        raw->Handle(std::move(request), std::move(respond));
      },
      http_options);
  if (Status st = s.http->Start(); !st.ok()) {
    return abandon(Status(st.code(), "HTTP listener: " + st.message()));
  }
  if (!options.admin_address.empty()) {
    s.admin_http = std::make_unique<HttpServer>(
        options.admin_address,
        [raw](HttpRequest request, HttpResponder respond) {
          raw->HandleAdminListener(std::move(request), std::move(respond));
        },
        admin_options);
    if (Status st = s.admin_http->Start(); !st.ok()) {
      return abandon(Status(st.code(), "admin listener: " + st.message()));
    }
  }
  if (!options.resp_address.empty()) {
    RespServer::Hooks hooks;
    hooks.loading = [raw] { return raw->loading.load(); };
    hooks.node = [raw]() -> const RegionNode& { return *raw->node; };
    hooks.submit = [raw](NodeCommand command, std::function<void(NodeReply)> done) {
      raw->Submit(std::move(command), std::move(done));
    };
    hooks.now_steady_ms = [raw] { return raw->Now().steady_ms; };
    hooks.keys = s.keys ? &*s.keys : nullptr;
    hooks.admit = [raw](size_t commands) { return raw->Admit(commands, "resp"); };
    RespServerLimits limits;
    limits.max_connections = options.limits.max_connections;
    limits.max_pending_commands = options.limits.max_pipelined_commands;
    limits.idle_timeout_ms = options.limits.resp_idle_timeout_ms;
    limits.command_timeout_ms = options.limits.request_timeout_ms;
    s.resp = std::make_unique<RespServer>(s.loop, options.resp_address, options.resp,
                                          std::move(hooks), limits, http_options.tls);
    if (Status st = s.resp->Start(); !st.ok()) return abandon(st);
  }
  if (options.TEST_recovery_delay_ms > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(options.TEST_recovery_delay_ms));
  }
  auto storage = RocksDbStorage::Open(options.data_dir, options.rocksdb);
  if (!storage.ok()) return abandon(storage.status());
  s.storage = std::move(storage).value();
  if (cluster.subjects) {
    auto vault = VaultStore::Open(options.data_dir + "/vault",
                                  cluster.subjects->master_key_dir + "/" + me.name + ".master.key");
    if (!vault.ok()) return abandon(vault.status());
    s.vault = std::move(vault).value();
  }

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
  node.residency = *ResidencyFromConfig(cluster);  // checked above
  node.wal_sync = options.commit.wal_sync;
  node.new_cluster = options.new_cluster;
  node.session_wait_ms = options.session_wait_ms;
  node.quorum_timeout_ms = options.quorum_timeout_ms;
  node.write_wait_ms = options.write_wait_ms;
  node.stock_wait_ms = options.stock_wait_ms;
  node.max_waiting_reads = options.max_waiting_reads;
  if (cluster.subjects) {
    for (const std::string& pattern : cluster.subjects->patterns)
      node.subject_patterns.push_back(*ParseSubjectPattern(pattern));  // checked by the parser
    node.random_bytes = [](uint8_t* out, size_t size) { randombytes_buf(out, size); };
  }
  std::optional<VaultRoutedView> with_vault;
  if (s.vault) with_vault.emplace(*s.storage, *s.vault);
  auto recovered = RegionNode::Recover(
      std::move(node), with_vault ? static_cast<const Storage&>(*with_vault) : *s.storage,
      [raw](uint64_t states) { raw->states_loaded = states; });
  if (!recovered.ok()) {
    return abandon(Status(recovered.status().code(), "recovering from " + options.data_dir + ": " +
                                                         recovered.status().message()));
  }
  s.syncer = std::make_unique<WalSyncer>(s.storage.get(), [raw](uint64_t step, Status synced) {
    asio::post(raw->loop, [raw, step, synced = std::move(synced)] { raw->OnSynced(step, synced); });
  });

  std::map<RegionId, std::string> peers;
  for (RegionId peer = 0; peer < options.replica.region_count; ++peer) {
    if (peer == options.self) continue;
    peers[peer] = options.direct_replication
                      ? cluster.regions[peer].replication.ToString()
                      : ReplicationDialAddress(cluster, options.self, peer).ToString();
  }
  if (cluster.tls && !cluster.tls->plaintext) {
    // The cluster config's certificates (tls/cert_files.h): this region's, and the CA's.
    Result<TlsMaterial> material = LoadTlsMaterial(cluster.tls->dir, {PeerRole::kRegion, me.name});
    if (!material.ok()) return abandon(material.status());
    ReplicationTls tls{material->ca_pem, material->cert_pem, material->key_pem, {}};
    for (const RegionConfig& region : cluster.regions) {
      tls.region_names.push_back(region.name);
    }
    options.transport.tls = std::move(tls);
  }
  s.transport = std::make_unique<ReplicationTransport>(
      options.self, "meridian", options.replication_address, std::move(peers),
      [raw](RegionId from, pb::PeerMessage m) { raw->OnPeerMessage(from, std::move(m)); },
      [raw](RegionId peer) { raw->OnPeerConnected(peer); }, options.transport);
  // Set before anything can reach it on the loop: requests see `loading` until the post below,
  // and the transport delivers nothing before it starts.
  s.node = std::move(recovered).value();
  if (Status st = s.transport->Start(); !st.ok()) {
    return abandon(Status(st.code(), "replication listener: " + st.message()));
  }
  s.RunOnLoop([raw, &me] {
    const Replica& replica = raw->node->replica();
    spdlog::info(
        "region {}: serving http://{} resp {} admin {} replication {} data {} (applied {}{}; "
        "wal {}; auth {})",
        me.name, raw->http->address(),
        raw->resp ? std::to_string(raw->resp->port()) : std::string("off"),
        raw->admin_http ? std::to_string(raw->admin_http->port()) : std::string("off"),
        raw->transport->port(), raw->options.data_dir, replica.applied().ToString(),
        replica.rejoining() ? "; new or restored storage: rejoining its peers" : "",
        WalSyncName(raw->options.commit.wal_sync),
        raw->keys ? std::to_string(raw->keys->entries().size()) + " keys" : std::string("off"));
    raw->loading = false;
    raw->ScheduleTick();
  });
  return std::unique_ptr<RegionServer>(new RegionServer(std::move(impl)));
}

RegionServer::RegionServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RegionServer::~RegionServer() {
  Stop();
}

void RegionServer::Stop() {
  Impl& s = *impl_;
  if (s.stopped) return;
  s.stopped = true;
  s.RunOnLoop([&s] { s.node->BeginDrain(); });
  // Requests in flight are answered (the HTTP server waits for them, up to its grace period)
  // while ticks and peers still drive the node, so session waits and quorum reads can finish.
  s.http->Stop();
  if (s.admin_http) s.admin_http->Stop();
  if (s.resp) s.RunOnLoop([&s] { s.resp->Stop(); });
  s.transport->Stop();  // no more peer messages; what the loop sends now is dropped
  s.RunOnLoop([&s] {
    s.tick_timer.cancel();
    s.Flush();
    // Whatever was acknowledged in periodic mode reaches the disk before the process ends.
    if (s.node->written_step() > s.node->synced_step()) {
      const Status synced = s.storage->Sync();
      s.OnSynced(s.node->written_step(), synced);
    }
  });
  s.syncer->Stop();
  if (s.backup_thread.joinable()) s.backup_thread.join();  // its answer is dropped with the loop
  s.work.reset();
  s.loop.stop();
  s.loop_thread.join();
  // What this run appended to the WAL: scripts/bench-vs-redis divides it by the writes it sent.
  const RocksDbWalBytes wal = s.storage->WalBytes();
  spdlog::info("region {}: wrote {} bytes to the WAL in {} batches", name(), wal.bytes,
               wal.batches);
  if (Status closed = s.storage->Close(); !closed.ok()) {
    spdlog::error("region {}: closing storage: {}", name(), closed.message());
  }
  if (s.vault) {
    if (Status closed = s.vault->Close(); !closed.ok()) {
      spdlog::error("region {}: closing the vault: {}", name(), closed.message());
    }
  }
  spdlog::info("region {}: stopped", name());
}

uint16_t RegionServer::http_port() const {
  return impl_->http->port();
}
uint16_t RegionServer::admin_port() const {
  return impl_->admin_http ? impl_->admin_http->port() : 0;
}
uint16_t RegionServer::resp_port() const {
  return impl_->resp ? impl_->resp->port() : 0;
}
uint16_t RegionServer::replication_port() const {
  return impl_->transport->port();
}
const std::string& RegionServer::name() const {
  return impl_->region_names[impl_->options.self];
}

void RegionServer::Impl::RunOnLoop(const std::function<void()>& fn) {
  std::promise<void> done;
  asio::post(loop, [&] {
    fn();
    done.set_value();
  });
  done.get_future().wait();
}

uint64_t RegionServer::Impl::NowMs() const {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  const int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count();
  return static_cast<uint64_t>(ms + clock_skew_ms.load(std::memory_order_relaxed));
}

NodeTime RegionServer::Impl::Now() const {
  const auto steady = std::chrono::steady_clock::now() - started;
  return {NowMs(), static_cast<uint64_t>(
                       std::chrono::duration_cast<std::chrono::milliseconds>(steady).count())};
}

void RegionServer::Impl::Process(NodeOutput out) {
  if (!out.applied.empty()) ObserveApplied(out.applied, NowMs());
  vault_purge = vault_purge || out.vault_erased;
  if (!out.records.empty()) {
    pass_records.Append(std::move(out.records));
    if (!flush_posted) {
      // Runs after every handler already queued: the rest of this pass.
      flush_posted = true;
      asio::post(loop, [this] { Flush(); });
    }
  }
  for (auto& [to, message] : out.messages)
    transport->Send(to, std::move(message));
  for (NodeReply& reply : out.replies)
    Answer(std::move(reply));
  // Messages held for a sync while nothing was written in this pass (an ack, a vote resent):
  // the flush asks for the sync, so they do not wait for the periodic one.
  if (!flush_posted && node->wants_sync() && sync_requested < node->written_step()) {
    flush_posted = true;
    asio::post(loop, [this] { Flush(); });
  }
}

void RegionServer::Impl::Flush() {
  flush_posted = false;
  NodeOutput out;
  if (!pass_records.empty()) {
    // Subjects' keys first, synced: durable before any value sealed under them (vault_store.h).
    Status written;
    if (RecordBatch vault_part = SplitVaultRecords(pass_records); !vault_part.empty()) {
      written = vault ? vault->Write(vault_part, WriteOptions{.sync = true})
                      : Internal("a subject's key record without a vault store");
      if (written.ok() && vault_purge) {
        vault_purge = false;
        if (Status purged = vault->Purge(); !purged.ok()) {
          spdlog::error("region {}: rewriting the vault after an erasure: {}",
                        region_names[options.self], purged.message());
        }
      }
    }
    if (written.ok() && !pass_records.empty()) {
      written = storage->Write(pass_records, WriteOptions{.sync = false});
    }
    pass_records = {};
    if (written.ok()) {
      node->OnWritten(node->last_step(), &out);
    } else {
      node->OnStorageFailed(written, &out);
    }
  }
  Process(std::move(out));
  if (node->wants_sync()) RequestSync();
}

void RegionServer::Impl::RequestSync() {
  const uint64_t step = node->written_step();
  last_sync_request = std::chrono::steady_clock::now();
  if (step <= sync_requested) return;  // a sync asked for already covers it
  sync_requested = step;
  syncer->Request(step);
}

void RegionServer::Impl::OnSynced(uint64_t step, const Status& synced) {
  NodeOutput out;
  if (synced.ok()) {
    node->OnSynced(step, &out);
  } else {
    node->OnStorageFailed(synced, &out);
  }
  Process(std::move(out));
  // What waited for this sync may have let more wait for the next one.
  if (node->wants_sync()) RequestSync();
}

void RegionServer::Impl::OnPeerMessage(RegionId from, pb::PeerMessage message) {
  asio::post(loop, [this, from, message = std::move(message)] {
    NodeOutput out;
    node->OnPeerMessage(from, message, Now(), &out);
    Process(std::move(out));
  });
}

void RegionServer::Impl::OnPeerConnected(RegionId peer) {
  asio::post(loop, [this, peer] {
    NodeOutput out;
    if (transport->Connected(peer)) {
      link_seen[peer] = true;
      node->OnLinkChanged(peer, true, Now(), &out);  // a new connection, even if it was up
      node->OnLinkVerified(peer, transport->Verified(peer));
    } else {
      RefreshLinks(Now(), &out);  // stale: that connection already died
    }
    Process(std::move(out));
  });
}

void RegionServer::Impl::RefreshLinks(NodeTime now, NodeOutput* out) {
  for (RegionId peer = 0; peer < link_seen.size(); ++peer) {
    if (peer == options.self) continue;
    const bool up = transport->Connected(peer);
    if (up != link_seen[peer]) {
      link_seen[peer] = up;
      node->OnLinkChanged(peer, up, now, out);
    }
    node->OnLinkVerified(peer, transport->Verified(peer));
  }
}

void RegionServer::Impl::ScheduleTick() {
  tick_timer.expires_after(std::chrono::milliseconds(options.tick_ms));
  tick_timer.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled: stopping
    OnTick();
    ScheduleTick();
  });
}

void RegionServer::Impl::OnTick() {
  const NodeTime now = Now();
  NodeOutput out;
  RefreshLinks(now, &out);
  node->OnTick(now, &out);
  Process(std::move(out));
  if (resp) resp->OnTick();
  // A merged state transfer has freed its staged chunks and written its batch: hand those pages
  // back to the kernel, or glibc keeps them and the region's RSS stays at the transfer's peak.
  if (const uint64_t merged = node->replica().stats().snapshots_applied;
      merged != transfers_merged) {
    transfers_merged = merged;
    malloc_trim(0);
  }
  // kPeriodic: acknowledged writes reach the disk within the interval even when nothing waits.
  const auto interval = std::chrono::milliseconds(options.commit.sync_interval_ms);
  if (node->written_step() > node->synced_step() &&
      std::chrono::steady_clock::now() - last_sync_request >= interval) {
    RequestSync();
  }
  const RegionHealth health = node->health();
  if (health == reported_health) return;
  reported_health = health;
  const std::string& me = region_names[options.self];
  if (health == RegionHealth::kOk) {
    spdlog::info("region {}: caught up with its peers (applied {})", me,
                 node->replica().applied().ToString());
  } else if (health == RegionHealth::kFailed) {
    spdlog::error("region {}: storage failed, refusing requests until restarted: {}", me,
                  node->storage_failure().ToString());
  }
}

}  // namespace meridian
