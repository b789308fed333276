// RegionServer lifecycle and the steps of the core: start/recover, peer messages, ticks, health.
#include "server/region_server.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <random>
#include <thread>
#include <utility>

#include "replica/storage_keys.h"
#include "server/region_server_impl.h"

namespace meridian {

std::string_view RegionHealthName(RegionHealth health) {
  switch (health) {
    case RegionHealth::kCatchingUp:
      return "catching_up";
    case RegionHealth::kOk:
      return "ok";
    case RegionHealth::kDraining:
      return "draining";
    case RegionHealth::kFailed:
      return "failed";
  }
  return "unknown";
}

namespace {

Status CheckOptions(const RegionServerOptions& o) {
  if (o.self >= o.cluster.regions.size()) return InvalidArgument("region id out of range");
  if (o.tick_ms < 1 || o.tick_ms > 1000) return InvalidArgument("tick_ms must be 1..1000");
  if (o.session_wait_ms < 0) return InvalidArgument("session_wait_ms must be >= 0");
  if (o.quorum_timeout_ms < 1) return InvalidArgument("quorum_timeout_ms must be >= 1");
  if (o.http_threads < 1 || o.http_threads > 64) return InvalidArgument("http_threads: 1..64");
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
  options.replica.self = options.self;
  options.replica.region_count = static_cast<RegionId>(cluster.regions.size());
  options.replica.topology = cluster.topology;
  options.replica.hub = cluster.hub.value_or(0);

  auto impl = std::make_unique<Impl>();
  Impl& s = *impl;
  s.options = options;
  for (const RegionConfig& region : cluster.regions)
    s.region_names.push_back(region.name);
  s.api_options.region_count = options.replica.region_count;

  // Listen at once: while the data loads (seconds for millions of keys) clients and the router
  // get a clear 503 "loading" rather than a refused connection.
  Impl* raw = impl.get();
  HttpServerOptions http_options;
  http_options.threads = options.http_threads;
  http_options.body_bytes_max = kBodyBytesMax;
  s.http = std::make_unique<HttpServer>(
      options.http_address,
      [raw](HttpRequest request, HttpResponder respond) {
        raw->Handle(std::move(request), std::move(respond));
      },
      http_options);
  if (Status st = s.http->Start(); !st.ok()) {
    return Status(st.code(), "HTTP listener: " + st.message());
  }
  if (options.TEST_recovery_delay_ms > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(options.TEST_recovery_delay_ms));
  }
  auto storage = RocksDbStorage::Open(options.data_dir, options.rocksdb);
  if (!storage.ok()) {
    s.http->Stop();
    return storage.status();
  }
  s.storage = std::move(storage).value();
  // Used only when the data directory holds no incarnation (new, or restored from a backup):
  // random, so that it differs from every earlier incarnation of this region.
  std::random_device entropy;
  do {
    options.replica.incarnation = (uint64_t{entropy()} << 32) | entropy();
  } while (options.replica.incarnation == 0);
  auto replica = Replica::Recover(options.replica, *s.storage,
                                  [raw](uint64_t states) { raw->states_loaded = states; });
  if (!replica.ok()) {
    s.http->Stop();
    return Status(replica.status().code(),
                  "recovering from " + options.data_dir + ": " + replica.status().message());
  }
  s.replica = std::move(replica).value();
  s.durable_applied = s.replica->applied();  // everything recovered is on disk
  options.strong.self = options.self;
  options.strong.tick_ms = static_cast<uint32_t>(options.tick_ms);
  options.strong.region_count = options.replica.region_count;
  options.strong.random_seed = entropy();
  // New or restored storage: the acceptor records may be behind promises this region made.
  options.strong.rejoining = s.replica->rejoining();
  auto strong = StrongNode::Recover(options.strong, *s.storage);
  if (!strong.ok()) {
    s.http->Stop();
    return Status(strong.status().code(),
                  "recovering handles from " + options.data_dir + ": " + strong.status().message());
  }
  s.strong = std::move(strong).value();
  s.options.strong = options.strong;
  s.pipeline = std::make_unique<CommitPipeline>(s.storage.get(), s.options.commit);

  std::map<RegionId, std::string> peers;
  for (RegionId peer = 0; peer < options.replica.region_count; ++peer) {
    if (peer == options.self) continue;
    peers[peer] = options.direct_replication
                      ? cluster.regions[peer].replication.ToString()
                      : ReplicationDialAddress(cluster, options.self, peer).ToString();
  }
  s.transport = std::make_unique<ReplicationTransport>(
      options.self, "meridian", options.replication_address, std::move(peers),
      [raw](RegionId from, pb::PeerMessage m) { raw->OnPeerMessage(from, std::move(m)); },
      [raw](RegionId peer) { raw->OnPeerConnected(peer); }, options.transport);
  if (Status st = s.transport->Start(); !st.ok()) {
    s.http->Stop();
    return Status(st.code(), "replication listener: " + st.message());
  }
  s.loading = false;
  s.tick_thread = std::thread([raw] { raw->TickLoop(); });
  spdlog::info("region {}: serving http://{} replication {} data {} (applied {}{})", me.name,
               s.http->address(), s.transport->port(), options.data_dir,
               s.replica->applied().ToString(),
               s.replica->rejoining() ? "; new or restored storage: rejoining its peers" : "");
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
  {
    std::lock_guard lock(s.mu);
    if (s.health != RegionHealth::kFailed) s.health = RegionHealth::kDraining;
  }
  // Requests in flight are answered (the HTTP server waits for them, up to its grace period)
  // while ticks and peers still drive the core, so session waits and quorum reads can finish.
  s.http->Stop();
  {
    std::lock_guard lock(s.tick_mu);
    s.stopping = true;
    s.tick_wake.notify_one();
  }
  s.tick_thread.join();
  s.transport->Stop();  // no more steps after this: nothing calls into the core
  s.pipeline->Stop();   // commits what the core emitted
  if (Status closed = s.storage->Close(); !closed.ok()) {
    spdlog::error("region {}: closing storage: {}", name(), closed.message());
  }
  spdlog::info("region {}: stopped", name());
}

uint16_t RegionServer::http_port() const {
  return impl_->http->port();
}
uint16_t RegionServer::replication_port() const {
  return impl_->transport->port();
}
const std::string& RegionServer::name() const {
  return impl_->region_names[impl_->options.self];
}

uint64_t RegionServer::Impl::NowMs() const {
  const auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
  const int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count();
  return static_cast<uint64_t>(ms + clock_skew_ms.load(std::memory_order_relaxed));
}

void RegionServer::Impl::SubmitLocked(Output out, std::function<void(const Status&)> then,
                                      Durability durability) {
  ObserveAppliedLocked(out, NowMs());
  const uint64_t step = ++submitted_steps;
  for (const Mutation& m : out.records.mutations) {
    if (auto key = storage_keys::ParseState(m.key); key.ok()) undurable_keys[*key] = step;
  }
  std::vector<SessionWait> satisfied;
  if (!out.applied.empty() || out.merged_snapshot) satisfied = TakeSatisfiedWaitsLocked();
  const bool nothing_to_do =
      out.records.empty() && out.messages.empty() && out.read_replies.empty() && !then;
  if (!nothing_to_do) {
    auto release = [this, step, applied = replica->applied(), replies = std::move(out.read_replies),
                    then = std::move(then)](const Status& durable) mutable {
      if (durable.ok()) {
        {
          std::lock_guard lock(durable_mu);
          durable_steps = step;
          durable_applied.Merge(applied);
        }
        for (const auto& [from, reply] : replies)
          OnReadReply(from, reply);
      }
      if (then) then(durable);
    };
    // Messages leave once the step is fsynced, in both modes: a peer must not hold an op (or
    // an acknowledgement, which lets it trim its oplog) that a power loss here could take back.
    CommitPipeline::Release publish;
    if (!out.messages.empty()) {
      publish = [this, messages = std::move(out.messages)](const Status& durable) mutable {
        if (!durable.ok()) return;
        for (auto& [to, message] : messages)
          transport->Send(to, std::move(message));
      };
    }
    pipeline->Submit(std::move(out.records), std::move(release), std::move(publish), durability);
  }
  // Reads whose token this step satisfied: served after the step is durable (their state
  // includes it), in order behind it.
  for (SessionWait& wait : satisfied)
    ServeReadLocked(wait.command, std::move(wait.respond));
}

void RegionServer::Impl::SubmitStrongLocked(StrongOutput out) {
  if (out.records.empty() && out.messages.empty() && out.replies.empty()) return;
  Output step;
  step.records = std::move(out.records);
  for (auto& [to, strong_message] : out.messages) {
    pb::PeerMessage m;
    m.set_from(options.self);
    m.set_sent_physical_ms(NowMs());
    *m.mutable_strong() = std::move(strong_message);
    step.messages.emplace_back(to, std::move(m));
  }
  std::function<void(const Status&)> then;
  if (!out.replies.empty()) {
    then = [this, replies = std::move(out.replies)](const Status& durable) {
      const std::string& region = region_names[options.self];
      for (HandleReply reply : replies) {
        HttpResponder respond;
        {
          std::lock_guard lock(handle_mu);
          auto it = handle_requests.find(reply.request_id);
          if (it == handle_requests.end()) continue;
          respond = std::move(it->second);
          handle_requests.erase(it);
        }
        if (!durable.ok()) {
          reply.outcome = HandleOutcome::kUnavailable;
          reply.message = "the region could not persist the request: " + durable.ToString();
        }
        respond(FormatHandleReply(reply, region));
      }
    };
  }
  SubmitLocked(std::move(step), std::move(then), Durability::kSynced);
}

void RegionServer::Impl::OnPeerMessage(RegionId from, pb::PeerMessage message) {
  std::lock_guard lock(mu);
  if (health == RegionHealth::kFailed) return;
  if (message.has_strong()) {
    StrongOutput out;
    strong->OnMessage(from, message.strong(), &out);
    SubmitStrongLocked(std::move(out));
    return;
  }
  Output out;
  replica->OnMessage(from, message, NowMs(), &out);
  SubmitLocked(std::move(out));
}

void RegionServer::Impl::OnPeerConnected(RegionId peer) {
  std::lock_guard lock(mu);
  if (health == RegionHealth::kFailed) return;
  StrongOutput strong_out;
  strong->OnPeerConnected(peer, &strong_out);  // every link: a majority may include any region
  SubmitStrongLocked(std::move(strong_out));
  Output out;
  replica->OnPeerConnected(peer, &out);  // a no-op for non-neighbours (handles only)
  SubmitLocked(std::move(out));
}

void RegionServer::Impl::TickLoop() {
  const auto period = std::chrono::milliseconds(options.tick_ms);
  auto next = std::chrono::steady_clock::now() + period;
  std::unique_lock tick_lock(tick_mu);
  while (!tick_wake.wait_until(tick_lock, next, [this] { return stopping; })) {
    tick_lock.unlock();
    {
      std::lock_guard lock(mu);
      TickLocked();
    }
    ExpireQuorumReads(std::chrono::steady_clock::now());
    tick_lock.lock();
    // Fixed rate without catching up a backlog of missed ticks after a stall.
    next = std::max(next + period, std::chrono::steady_clock::now());
  }
}

void RegionServer::Impl::TickLocked() {
  if (health != RegionHealth::kFailed && !pipeline->failure().ok()) {
    health = RegionHealth::kFailed;
    spdlog::error("region {}: storage failed, refusing requests until restarted: {}",
                  region_names[options.self], pipeline->failure().ToString());
  }
  ExpireSessionWaitsLocked(std::chrono::steady_clock::now());
  if (health == RegionHealth::kFailed) return;
  uint64_t durable = 0;
  {
    std::lock_guard lock(durable_mu);
    durable = durable_steps;
  }
  std::erase_if(undurable_keys, [durable](const auto& entry) { return entry.second <= durable; });
  Output out;
  replica->Tick(NowMs(), &out);
  SubmitLocked(std::move(out));
  StrongOutput strong_out;
  strong->Tick(&strong_out);
  SubmitStrongLocked(std::move(strong_out));
  UpdateHealthLocked();
}

void RegionServer::Impl::UpdateHealthLocked() {
  if (health != RegionHealth::kCatchingUp) return;
  // The core decides (Replica::catch_up): it has heard from a peer and holds what each peer it
  // heard from had then; a region that has heard from none is not caught up, however long it
  // waits. New or restored storage also waits until it holds its own ops and its handles'
  // acceptor records again.
  const CatchUpStatus status = replica->catch_up();
  if (!status.caught_up || status.rejoining || strong->rejoining()) return;
  health = RegionHealth::kOk;
  spdlog::info("region {}: caught up with its peers (applied {})", region_names[options.self],
               replica->applied().ToString());
}

std::optional<HttpResponse> RegionServer::Impl::RefusalLocked() const {
  if (health != RegionHealth::kFailed) return std::nullopt;
  return FormatStatus(Unavailable("region " + region_names[options.self] +
                                  " failed to write to its storage and refuses requests until "
                                  "restarted: " +
                                  pipeline->failure().ToString()));
}

}  // namespace meridian
