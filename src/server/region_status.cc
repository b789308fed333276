// The region's status documents: /healthz (for the router and operators) and /metrics.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <vector>

#include "api/http_api.h"
#include "net/tls_handshake_failure.h"
#include "replica/peer_input.h"
#include "server/region_server_impl.h"

namespace meridian {

// What a client may write, a peer may send: the core's bounds on peer input must admit every op
// the API can make (src/replica/peer_input.h, rule 3).
static_assert(kKeyBytesMax <= kPeerKeyBytesMax && kValueBytesMax <= kPeerValueBytesMax &&
              kIdempotencyKeyBytesMax <= kPeerIdempotencyKeyBytesMax);

namespace {

using Json = nlohmann::json;

Json VectorByName(const VersionVector& vector, const std::vector<std::string>& names) {
  Json out = Json::object();
  for (RegionId r = 0; r < names.size(); ++r)
    out[names[r]] = vector.Get(r);
  return out;
}

// Counters mirror totals the replica and transport keep; a scrape moves them up to the total.
void AdvanceTo(Counter& counter, double total) {
  if (total > counter.Value()) counter.Increment(total - counter.Value());
}

// The region's health, one series per state: 1 for the current one.
void ExportHealth(RegionMetrics& metrics, RegionHealth health) {
  for (RegionHealth h : {RegionHealth::kCatchingUp, RegionHealth::kOk, RegionHealth::kDraining,
                         RegionHealth::kFailed}) {
    metrics.healthy.WithLabels({std::string(RegionHealthName(h))}).Set(h == health ? 1 : 0);
  }
}

// What the client listeners refused or timed out, and their TLS handshakes that failed.
void ExportListeners(RegionMetrics& metrics, const HttpServer& http, const RespServer* resp,
                     bool client_tls) {
  AdvanceTo(metrics.refused.WithLabels({"http", "connections"}),
            static_cast<double>(http.connections_refused()));
  // Created even without a RESP listener, so the inflight series exist for alerts from the start.
  metrics.refused.WithLabels({"http", "inflight"});
  if (resp) {
    AdvanceTo(metrics.refused.WithLabels({"resp", "connections"}),
              static_cast<double>(resp->connections_refused()));
    metrics.refused.WithLabels({"resp", "inflight"});
    AdvanceTo(metrics.resp_writes.WithLabels({}), static_cast<double>(resp->writes()));
    AdvanceTo(metrics.connections_timed_out.WithLabels({"resp", "idle"}),
              static_cast<double>(resp->idle_timeouts()));
    AdvanceTo(metrics.connections_timed_out.WithLabels({"resp", "command"}),
              static_cast<double>(resp->command_timeouts()));
  }
  if (client_tls) {
    auto export_failures = [&](const char* listener, const TlsHandshakeFailures& failures) {
      for (size_t i = 0; i < kTlsHandshakeFailureCount; ++i) {
        const auto reason = static_cast<TlsHandshakeFailure>(i);
        AdvanceTo(metrics.client_tls_handshake_failures.WithLabels(
                      {listener, std::string(TlsHandshakeFailureName(reason))}),
                  static_cast<double>(failures.Get(reason)));
      }
    };
    export_failures("http", http.tls_handshake_failures());
    if (resp) export_failures("resp", resp->tls_handshake_failures());
  }
}

// Each peer link: the backlog held for it, its clock offset, whether it is connected, the
// messages the transport dropped for it, and the peers refused at authentication.
void ExportPeerLinks(RegionMetrics& metrics, const Replica& replica,
                     const ReplicationTransport& transport,
                     const std::vector<std::string>& region_names) {
  const TransportStats transport_stats = transport.Stats();
  for (const PeerStatus& peer : replica.Peers()) {
    const std::string& name = region_names[peer.region];
    metrics.backlog_ops.WithLabels({name}).Set(static_cast<double>(peer.backlog_ops));
    metrics.clock_offset_seconds.WithLabels({name}).Set(peer.clock_offset_ms / 1000.0);
    metrics.peer_connected.WithLabels({name}).Set(transport.Connected(peer.region) ? 1 : 0);
  }
  for (const PeerTransportStats& t : transport_stats.peers) {
    const std::string& name = region_names[t.peer];
    AdvanceTo(metrics.messages_dropped.WithLabels({name, "disconnected"}),
              static_cast<double>(t.drops_disconnected));
    AdvanceTo(metrics.messages_dropped.WithLabels({name, "queue_full"}),
              static_cast<double>(t.drops_queue_full));
    AdvanceTo(metrics.messages_dropped.WithLabels({name, "oversized"}),
              static_cast<double>(t.drops_oversized));
  }
  for (const auto& [reason, count] : transport_stats.peer_auth_refused) {
    AdvanceTo(metrics.peer_auth_refused.WithLabels({reason}), static_cast<double>(count));
  }
}

// The replica's own work: anti-entropy, conflicts by class and outcome, the oplog, who holds
// collection back, peers' new incarnations, and peer messages it refused, by reason.
void ExportReplica(RegionMetrics& metrics, const Replica& replica, RegionId self,
                   const std::vector<std::string>& region_names) {
  const ReplicaStats& stats = replica.stats();
  AdvanceTo(metrics.anti_entropy_repairs.Get(), static_cast<double>(stats.anti_entropy_repairs));
  AdvanceTo(metrics.anti_entropy_rounds.Get(), static_cast<double>(stats.anti_entropy_rounds));
  for (DataClass c : kAllDataClasses) {
    for (ConflictOutcome o : kAllConflictOutcomes) {
      const uint64_t n = replica.conflicts().count(c, o);
      if (n == 0) continue;  // only combinations that occur, not a grid of zeros
      AdvanceTo(metrics.conflicts.WithLabels(
                    {std::string(DataClassName(c)), std::string(ConflictOutcomeName(o))}),
                static_cast<double>(n));
    }
  }
  metrics.oplog_ops.Get().Set(static_cast<double>(replica.oplog_size()));
  const std::vector<RegionId> holding_back = replica.RegionsHoldingBackCollection();
  for (RegionId r = 0; r < region_names.size(); ++r) {  // every region, neighbour or not
    if (r == self) continue;
    const bool holds = std::find(holding_back.begin(), holding_back.end(), r) != holding_back.end();
    metrics.collection_held_back.WithLabels({region_names[r]}).Set(holds ? 1 : 0);
  }
  metrics.oplog_bytes.Get().Set(static_cast<double>(replica.oplog_bytes()));
  AdvanceTo(metrics.peer_incarnation_changes.Get(),
            static_cast<double>(stats.peer_incarnation_changes));
  for (size_t reason = 0; reason < kPeerRefusals; ++reason) {
    AdvanceTo(metrics.peer_messages_invalid.WithLabels(
                  {std::string(PeerRefusalName(static_cast<PeerRefusal>(reason)))}),
              static_cast<double>(stats.refused[reason]));
  }
}

// What the node refused around the replica (peer messages by who refused them, requests for
// keys pinned elsewhere) and the subjects it erased.
void ExportNodeRefusals(RegionMetrics& metrics, const RegionNode& node,
                        const NodeStats& node_stats) {
  AdvanceTo(metrics.peer_messages_invalid.WithLabels({"handle"}),
            static_cast<double>(node.strong().stats().malformed_messages));
  AdvanceTo(metrics.peer_messages_invalid.WithLabels({"read_reply"}),
            static_cast<double>(node_stats.read_replies_refused));
  AdvanceTo(metrics.peer_messages_invalid.WithLabels({"not_a_region"}),
            static_cast<double>(node_stats.peer_messages_refused));
  AdvanceTo(metrics.peer_messages_invalid.WithLabels({"subject_keys"}),
            static_cast<double>(node_stats.subject_keys_refused));
  AdvanceTo(metrics.subjects_erased.Get(), static_cast<double>(node_stats.subjects_erased));
  AdvanceTo(metrics.misdirected.Get(), static_cast<double>(node_stats.misdirected));
}

// Catching up: whether data and handles are rejoining, and the state transfers per peer and
// direction.
void ExportCatchUp(RegionMetrics& metrics, const RegionNode& node,
                   const std::vector<std::string>& region_names) {
  const Replica& replica = node.replica();
  const ReplicaStats& stats = replica.stats();
  const CatchUpStatus catch_up = replica.catch_up();
  metrics.rejoining.WithLabels({"data"}).Set(catch_up.rejoining ? 1 : 0);
  metrics.rejoining.WithLabels({"handles"}).Set(node.strong().rejoining() ? 1 : 0);
  for (const PeerStatus& peer : replica.Peers()) {
    const std::string& name = region_names[peer.region];
    const TransferProgress* in =
        catch_up.inbound && catch_up.inbound->peer == peer.region ? &*catch_up.inbound : nullptr;
    const TransferProgress* out = nullptr;
    for (const TransferProgress& t : catch_up.outbound) {
      if (t.peer == peer.region) out = &t;
    }
    for (auto [direction, t] : {std::pair{"in", in}, std::pair{"out", out}}) {
      metrics.transfer_keys_done.WithLabels({direction, name})
          .Set(t ? static_cast<double>(t->keys_done) : 0);
      metrics.transfer_keys_expected.WithLabels({direction, name})
          .Set(t ? static_cast<double>(t->keys_total) : 0);
    }
  }
  AdvanceTo(metrics.transfer_bytes.WithLabels({"out"}),
            static_cast<double>(stats.snapshot_bytes_sent));
  AdvanceTo(metrics.transfer_bytes.WithLabels({"in"}),
            static_cast<double>(stats.snapshot_bytes_applied));
  AdvanceTo(metrics.transfers_started.WithLabels({"out"}),
            static_cast<double>(stats.snapshots_sent));
  AdvanceTo(metrics.transfers_started.WithLabels({"in"}),
            static_cast<double>(stats.snapshots_applied));
}

// The node's work in hand: keys, requests waiting by what they wait for, what it holds for a
// sync, coalesced batches, stock rights, and the commit path's syncs and steps.
void ExportNodeWork(RegionMetrics& metrics, const RegionNode& node, const NodeStats& node_stats,
                    uint64_t wal_syncs) {
  metrics.keys.Get().Set(static_cast<double>(node.replica().key_count()));
  metrics.session_waits.Get().Set(static_cast<double>(node_stats.session_waits));
  for (auto [what, n] : {std::pair{"session", node_stats.session_waits},
                         std::pair{"replication", node_stats.replication_waits},
                         std::pair{"quorum_read", node_stats.quorum_reads},
                         std::pair{"global_scan", node_stats.global_scans},
                         std::pair{"stock", node_stats.stock_waits}}) {
    metrics.node_waiting.WithLabels({what}).Set(static_cast<double>(n));
  }
  metrics.node_held.WithLabels({"replies"}).Set(static_cast<double>(node_stats.held_replies));
  metrics.node_held.WithLabels({"messages"}).Set(static_cast<double>(node_stats.held_messages));
  AdvanceTo(metrics.batches_coalesced.Get(), static_cast<double>(node_stats.coalesced_messages));
  AdvanceTo(metrics.stock_rights_requests.Get(), static_cast<double>(node_stats.rights_requests));
  AdvanceTo(metrics.stock_units_lent.Get(), static_cast<double>(node_stats.rights_lent));
  AdvanceTo(metrics.stock_takes_refused.Get(), static_cast<double>(node_stats.stock_refused));
  AdvanceTo(metrics.wal_syncs.Get(), static_cast<double>(wal_syncs));
  AdvanceTo(metrics.commit_steps.Get(), static_cast<double>(node.durable_step()));
}

}  // namespace

Json RegionServer::Impl::CatchUpJson() const {
  const Replica* replica = &node->replica();
  const CatchUpStatus c = replica->catch_up();
  Json not_heard = Json::array();
  for (RegionId r : c.not_heard)
    not_heard.push_back(region_names[r]);
  Json body{{"caught_up", c.caught_up},
            {"rejoining", c.rejoining},
            {"handles_rejoining", node->strong().rejoining()},
            {"not_heard_from", std::move(not_heard)}};
  if (!c.caught_up) body["target"] = VectorByName(c.target, region_names);
  auto progress = [&](const TransferProgress& t, const char* peer_role) {
    const double seconds =
        static_cast<double>(replica->ticks() - t.started_tick) * options.tick_ms / 1000.0;
    const double rate = seconds > 0 ? static_cast<double>(t.keys_done) / seconds : 0;
    Json p{{peer_role, region_names[t.peer]},
           {"keys_done", t.keys_done},
           {"keys_expected", t.keys_total},
           {"bytes_done", t.bytes_done},
           {"seconds", seconds},
           {"keys_per_second", rate}};
    if (rate > 0 && t.keys_total > t.keys_done) {
      p["seconds_to_go"] = static_cast<double>(t.keys_total - t.keys_done) / rate;
    }
    return p;
  };
  if (c.inbound) body["receiving"] = progress(*c.inbound, "from");
  Json sending = Json::array();
  for (const TransferProgress& t : c.outbound)
    sending.push_back(progress(t, "to"));
  body["sending"] = std::move(sending);
  return body;
}

HttpResponse RegionServer::Impl::Healthz() const {
  const Replica* replica = &node->replica();
  const RegionHealth health = node->health();
  const TransportStats transport_stats = transport->Stats();
  Json peers = Json::array();
  for (const PeerStatus& peer : replica->Peers()) {
    Json p{{"region", region_names[peer.region]},
           {"connected", transport->Connected(peer.region)},
           {"acked", VectorByName(peer.acked, region_names)},
           {"backlog_ops", peer.backlog_ops},
           {"clock_offset_ms", peer.clock_offset_ms}};
    for (const PeerTransportStats& t : transport_stats.peers) {
      if (t.peer == peer.region) {
        p["inbound_connected"] = t.inbound_connected;
        if (!t.last_error.empty()) p["last_error"] = t.last_error;
      }
    }
    peers.push_back(std::move(p));
  }
  // Who keeps tombstones and idempotency records alive: an operator's first question when the
  // store grows although keys are deleted.
  Json holding_back = Json::array();
  for (RegionId r : replica->RegionsHoldingBackCollection())
    holding_back.push_back(region_names[r]);
  Json body{{"region", region_names[options.self]},
            {"status", RegionHealthName(health)},
            {"catch_up", CatchUpJson()},
            {"version_vector", VectorByName(replica->applied(), region_names)},
            {"peers", std::move(peers)},
            {"holding_back_collection", std::move(holding_back)},
            {"clock_skew_ms", clock_skew_ms.load()},
            {"wal_sync", WalSyncName(options.commit.wal_sync)}};
  if (health == RegionHealth::kFailed) body["error"] = node->storage_failure().ToString();
  // 503 for a region that must not get traffic, so plain HTTP load balancers agree with us.
  const bool serving = health == RegionHealth::kOk || health == RegionHealth::kCatchingUp;
  return HttpResponse::Json(serving ? 200 : 503, body.dump());
}

// Moves every series up to the totals the node, transport and listeners keep, family group by
// family group (the functions above), then renders the registry.
std::string RegionServer::Impl::RenderMetrics() {
  ExportHealth(metrics, node->health());
  ExportListeners(metrics, *http, resp.get(), client_tls);
  ExportPeerLinks(metrics, node->replica(), *transport, region_names);
  ExportReplica(metrics, node->replica(), options.self, region_names);
  const NodeStats node_stats = node->stats();
  ExportNodeRefusals(metrics, *node, node_stats);
  ExportCatchUp(metrics, *node, region_names);
  ExportNodeWork(metrics, *node, node_stats, syncer->syncs() + loop_syncs);
  return metrics.registry.Render();
}

void RegionServer::Impl::ObserveApplied(const std::vector<AppliedOp>& applied, uint64_t now_ms) {
  for (const AppliedOp& op : applied) {
    if (op.dot.origin == options.self) {
      metrics.ops_applied.WithLabels({"local"}).Increment();
      continue;
    }
    metrics.ops_applied.WithLabels({"remote"}).Increment();
    // Negative under clock skew between regions: the histogram counts it in its first bucket.
    const double lag_ms =
        static_cast<double>(now_ms) - static_cast<double>(op.stamp.time.physical_ms);
    metrics.lag_seconds.WithLabels({region_names[op.dot.origin]})
        .Observe(std::max(0.0, lag_ms / 1000.0));
  }
}

}  // namespace meridian
