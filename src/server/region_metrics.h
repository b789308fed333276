// RegionMetrics: the Prometheus families a region exports on /metrics (names follow Prometheus
// conventions: base units, _total for counters, _seconds for durations).
//
// Request metrics are updated on the request path; everything derived from the replica, the
// transport and the pipeline is sampled when /metrics is scraped, on the region's loop thread
// (region_server_impl.h), between two events, so a scrape sees one consistent step.
#pragma once

#include "obs/metrics.h"

namespace meridian {

struct RegionMetrics {
  MetricsRegistry registry;

  // Requests, per route class and operation ("write", "read", "quorum_read", ...).
  HistogramFamily& request_seconds =
      registry.AddHistogram("meridian_http_request_duration_seconds",
                            "Time from receiving a client request to sending its response.",
                            {"method", "class", "op"}, LatencyBucketsSeconds());
  CounterFamily& requests = registry.AddCounter(
      "meridian_http_requests_total", "Client requests answered, by response status code.",
      {"method", "class", "op", "code"});

  // RESP commands, by command name (server/resp_commands.h RespCommandNames(), else "other");
  // updated through server/resp_command_metrics.h.
  CounterFamily& resp_commands = registry.AddCounter(
      "meridian_resp_commands_total",
      "RESP commands answered, by command and result (error: the reply was a RESP error).",
      {"command", "result"});
  // Below meridian_resp_commands_total when replies share a write (resp_server.h contract 12).
  CounterFamily& resp_writes = registry.AddCounter(
      "meridian_resp_writes_total", "Writes of replies to RESP connections (one per send).", {});
  HistogramFamily& resp_command_seconds = registry.AddHistogram(
      "meridian_resp_command_seconds",
      "Time from parsing a RESP command to its reply being ready (durability waits included).",
      {"command"}, LatencyBucketsSeconds());

  // Bounds (docs/security.md "Bounds"). reason: "connections" (max_connections), "inflight"
  // (max_inflight_requests).
  CounterFamily& refused = registry.AddCounter(
      "meridian_requests_refused_total",
      "Client connections and requests refused at a bound, by listener and reason.",
      {"listener", "reason"});
  CounterFamily& connections_timed_out = registry.AddCounter(
      "meridian_connections_timed_out_total",
      "Client connections closed for a timeout: idle, or a command not completed in time.",
      {"listener", "reason"});
  // Client TLS (net/tls_handshake_failure.h): listener "http" | "resp"; reason "timeout",
  // "not_tls", "version", "cert_rejected", "closed", "other". Only with client TLS on.
  CounterFamily& client_tls_handshake_failures = registry.AddCounter(
      "meridian_client_tls_handshake_failures_total",
      "TLS handshakes on the client listeners that failed or timed out, by listener and reason.",
      {"listener", "reason"});

  // Replication.
  HistogramFamily& lag_seconds = registry.AddHistogram(
      "meridian_replication_lag_seconds",
      "Apply time here minus the op's origin physical time, per origin region.", {"origin"},
      // 1 ms to ~5.3 s in steps of 20 %: lag sits near the one-way WAN delay (40-75 ms), and
      // doubling buckets could not tell 40 ms from 64 ms.
      ExponentialBuckets(0.001, 1.2, 48));
  GaugeFamily& backlog_ops = registry.AddGauge(
      "meridian_replication_backlog_ops",
      "Ops this region should send to the peer that the peer has not acknowledged.", {"peer"});
  GaugeFamily& clock_offset_seconds = registry.AddGauge(
      "meridian_clock_offset_seconds",
      "The peer's physical clock minus ours, from its last message (network delay included).",
      {"peer"});
  GaugeFamily& peer_connected = registry.AddGauge(
      "meridian_peer_connected", "1 while the replication stream to the peer is up.", {"peer"});
  CounterFamily& ops_applied = registry.AddCounter(
      "meridian_ops_applied_total", "Ops applied here, by origin (local or remote).", {"origin"});
  CounterFamily& conflicts = registry.AddCounter(
      "meridian_conflicts_total", "Concurrent writes that met, by class and outcome.",
      {"class", "outcome"});
  CounterFamily& anti_entropy_repairs = registry.AddCounter(
      "meridian_anti_entropy_repairs_total", "Keys whose state an anti-entropy repair changed.");
  CounterFamily& anti_entropy_rounds = registry.AddCounter(
      "meridian_anti_entropy_rounds_total", "Anti-entropy summary exchanges started.");
  CounterFamily& messages_dropped = registry.AddCounter(
      "meridian_replication_messages_dropped_total",
      "Replication messages dropped by the transport (the core resends), by peer and reason.",
      {"peer", "reason"});
  CounterFamily& peer_auth_refused = registry.AddCounter(
      "meridian_peer_auth_refused_total",
      "Replication streams refused because the peer's TLS certificate does not name the region "
      "it claims, by reason (net/replication_transport.h, contract 7).",
      {"reason"});
  CounterFamily& peer_messages_invalid = registry.AddCounter(
      "meridian_peer_messages_invalid_total",
      "Peer messages (or ops in them) refused as invalid, by reason (src/replica/peer_input.h).",
      {"reason"});
  GaugeFamily& oplog_ops = registry.AddGauge(
      "meridian_oplog_ops", "Ops kept in the oplog for peers that have not acknowledged them.");
  GaugeFamily& collection_held_back = registry.AddGauge(
      "meridian_collection_held_back",
      "1 while this peer's acknowledgement lags the ops this region applied, so that tombstones "
      "and idempotency records cannot be collected yet (replica/stability.h).",
      {"peer"});
  GaugeFamily& oplog_bytes = registry.AddGauge(
      "meridian_oplog_bytes", "Encoded size of the ops kept in the oplog (bounded by retention).");
  CounterFamily& peer_incarnation_changes = registry.AddCounter(
      "meridian_peer_incarnation_changes_total",
      "Times a peer came back on new or restored storage (its acknowledgements forgotten).");
  GaugeFamily& rejoining = registry.AddGauge(
      "meridian_region_rejoining",
      "1 while this region, on new or restored storage, waits to hold its own ops (writes "
      "refused) or its handles' acceptor records again.",
      {"part"});

  // State transfer (catching up a peer past the oplog, or a region that lost its disk).
  GaugeFamily& transfer_keys_done = registry.AddGauge(
      "meridian_state_transfer_keys_done",
      "Keys of the state transfer in progress delivered (out) or received (in); 0 when none.",
      {"direction", "peer"});
  GaugeFamily& transfer_keys_expected = registry.AddGauge(
      "meridian_state_transfer_keys_expected",
      "The sender's key count when the state transfer in progress began; 0 when none.",
      {"direction", "peer"});
  CounterFamily& transfer_bytes =
      registry.AddCounter("meridian_state_transfer_bytes_total",
                          "State transfer chunk bytes sent or received.", {"direction"});
  CounterFamily& transfers_started =
      registry.AddCounter("meridian_state_transfers_total",
                          "State transfers begun (out) or completed (in).", {"direction"});
  GaugeFamily& keys = registry.AddGauge("meridian_keys", "Keys with state in this region.");
  GaugeFamily& session_waits = registry.AddGauge(
      "meridian_session_waiting_reads", "Reads waiting for their session token to be applied.");
  // The region node's own work (src/node/region_node.h NodeStats).
  GaugeFamily& node_waiting = registry.AddGauge(
      "meridian_node_waiting_requests",
      "Requests the region node holds open: for a session token (session), enough regions "
      "(replication, w=majority|all), a quorum read's answers (quorum_read), a global scan's pages "
      "(global_scan), a stock's lent rights (stock).",
      {"for"});
  GaugeFamily& node_held = registry.AddGauge(
      "meridian_node_held", "Client replies and peer messages held until their step is durable.",
      {"what"});
  CounterFamily& batches_coalesced = registry.AddCounter(
      "meridian_peer_batches_coalesced_total",
      "Op batches merged into an earlier batch to the same peer before it left.");
  CounterFamily& stock_rights_requests = registry.AddCounter(
      "meridian_stock_rights_requests_total",
      "Rights asked of peers by stock takes beyond the rights this region holds.");
  CounterFamily& stock_units_lent = registry.AddCounter(
      "meridian_stock_units_lent_total", "Stock units this region lent to peers that asked.");
  CounterFamily& stock_takes_refused = registry.AddCounter(
      "meridian_stock_takes_refused_total",
      "Stock takes answered 409: not covered by the stock, or by the rights lent in time.");
  GaugeFamily& healthy = registry.AddGauge(
      "meridian_region_status", "1 for the region's current /healthz status.", {"status"});

  // Durability.
  CounterFamily& wal_syncs =
      registry.AddCounter("meridian_wal_syncs_total",
                          "WAL fsyncs; each covers every event-loop pass written before it began.");
  // 50 us to ~1.6 s, doubling: an fsync of a few KiB takes well under a millisecond on a quiet
  // disk, and a stall of the shared disk shows as hundreds of milliseconds.
  HistogramFamily& wal_sync_seconds = registry.AddHistogram(
      "meridian_wal_sync_seconds", "Duration of each WAL fsync (the syncer's, or the loop's own).",
      {}, ExponentialBuckets(0.00005, 2, 16));
  CounterFamily& subjects_erased = registry.AddCounter(
      "meridian_subjects_erased_total",
      "Subject erasures applied here: asked here (DELETE /subjects/{id}) or learnt from a peer.");
  CounterFamily& misdirected = registry.AddCounter(
      "meridian_requests_misdirected_total",
      "Requests for keys or subjects pinned to regions this one is not among (answered 421).");
  CounterFamily& commit_steps = registry.AddCounter(
      "meridian_commit_steps_total", "Steps of the region node made durable (per --wal-sync).");
};

}  // namespace meridian
