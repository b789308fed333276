// The `meridian lab` experiments built so far, in the order `lab run` runs them (issue 6
// numbering in brackets). Each runs against a live cluster (LabContext), bounds every wait, and
// returns its figures, its reproducing command and its correctness assertions; none throws.
#pragma once

#include <string>
#include <vector>

#include "lab/lab_context.h"
#include "lab/ledger.h"

namespace meridian {

using ExperimentFn = ExperimentResult (*)(const LabContext&);

struct ExperimentEntry {
  const char* name;
  ExperimentFn run;
  // The experiment needs residency rules in the cluster config: when the run's config has none,
  // it runs on a cluster of its own made from kResidencyConfigName beside it (lab_runner.h).
  bool needs_residency;
  // A `meridian region` flag the experiment needs: it runs on a cluster of its own whose regions
  // are started with it (lab_runner.h, contract 5). nullptr: none.
  const char* region_flag = nullptr;
};

// tax (1), lww (2), crdt (3), lag (4), sustain (4, the long run), ryw (7), partition (6),
// rejoin (issue 20), restore (issue 15), kill (5 and 8), residency and erasure (issue 14),
// causal, text, sync-rpo, inventory and causal-control (issue 16).
const std::vector<ExperimentEntry>& BuiltExperiments();

// (1) Local write latency per class vs handle claim latency, from each region. Figures only.
ExperimentResult RunTaxExperiment(const LabContext& context);
// (2) LWW conflict pairs: lost writes reported, convergence asserted; plus the clock-skew case.
ExperimentResult RunLwwExperiment(const LabContext& context);
// (3) Increments and tag adds over every region: nothing lost, all regions identical.
ExperimentResult RunCrdtExperiment(const LabContext& context);
// (4) Replication lag per link vs a rising write rate; the knee. Convergence asserted.
ExperimentResult RunLagExperiment(const LabContext& context);
// (4, sustained) Lag per link over time under a constant load (context.sustain_minutes at
// context.sustain_rate): flat or not, shown; convergence asserted.
ExperimentResult RunSustainExperiment(const LabContext& context);
// (7) Read-your-writes: pinned, hopping without a token (stale shown), hopping with the token.
ExperimentResult RunRywExperiment(const LabContext& context);
// (6) Partition the first two regions (60 s in full mode), conflicting writes on both sides,
// heal, converge; then the first region cut from every other. Through each cut, handle claims and
// reads in every region: issue 18's majority zero stall and minority 503 within 1 s.
ExperimentResult RunPartitionExperiment(const LabContext& context);
// (issue 20) A region whose data directory is deleted rejoins: time to ok, the senders' CPU share
// and read latency during it, memory; every key arrives (asserted).
ExperimentResult RunRejoinExperiment(const LabContext& context);
// (issue 15) A region backed up online, its disk destroyed after more writes and deletes, restored
// and restarted: nothing lost, doubled or resurrected (asserted); backup, restore, catch-up times.
ExperimentResult RunRestoreExperiment(const LabContext& context);
// (5 + 8) Kill a region under load through the router, retry, restart: RTO and RPO per class,
// failback and backlog drain time; zero lost, zero double-applied writes and no resurrected
// deletes asserted. Restarts the victim on every path, so it runs last.
ExperimentResult RunKillExperiment(const LabContext& context);
// (issue 14) Pinned and unpinned writes of every class from every region through the router;
// an allowed region killed under load (failover to the other), partitions, heal; then the raw
// bytes of every file of every region outside the set scanned for every pinned key and value
// (0 asserted), and every acknowledged write asserted present where it belongs. Stops and
// restarts every region (the scan reads files at rest).
ExperimentResult RunResidencyExperiment(const LabContext& context);
// (issue 16) Causal+ reads: a session writes A in the first region, reads it in the second with
// its token and writes B there, while the first region's link to the third is cut; the third
// must never show B without A (asserted), and shows both after the heal.
ExperimentResult RunCausalExperiment(const LabContext& context);
// The same run as its control, on regions started with --TEST-plain-eventual-delivery (ops
// applied on arrival): the anomaly must show (asserted), or the check above proves nothing.
ExperimentResult RunCausalControlExperiment(const LabContext& context);
// (issue 16) The first region writes with w=majority and (the control) w=local, its links held
// so replication lags, then it is killed and its disk deleted: every w=majority write survives
// (asserted); the w=local writes lost, and both levels' ack latencies, are reported. Restarts
// the victim on an empty directory at the end.
ExperimentResult RunSyncRpoExperiment(const LabContext& context);
// (issue 16) Concurrent edits of a few `text` keys from every region, one region cut off for a
// while: after the heal every region shows the same text, and no inserted character is shown
// twice, out of its insert's order, or lost beyond what the deletes removed (asserted).
ExperimentResult RunTextExperiment(const LabContext& context);
// (issue 16) One `stock` sold by buyers in every region, the third region cut off for the middle
// third of the run: no region ever shows it below zero, units sold never exceed units added, and
// after the heal every region shows added less sold (asserted); takes sold, refused (409) and
// waiting for rights per region and phase, with their latencies.
ExperimentResult RunInventoryExperiment(const LabContext& context);
// (issue 14) A subject with data in every class erased while a region that may hold its keys is
// cut off; after the heal every region answers 410 for its keys, and no file of any region
// (backups taken before included) holds its values, its data keys or their wrapped vault
// records; a control subject stays intact. Stops and restarts every region twice (scans).
ExperimentResult RunErasureExperiment(const LabContext& context);

}  // namespace meridian
