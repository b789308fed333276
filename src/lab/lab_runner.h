// RunLab: `meridian lab run`'s engine. Relocates the cluster config onto free loopback ports,
// starts a DemoSupervisor on it, runs the chosen experiments in order, stops the cluster, and
// writes DIR/ledger.json and DIR/ledger.md.
//
// Contract:
//  1. The cluster is stopped before RunLab returns, on every path (the supervisor is scoped to
//     the call, and its Stop() leaves no process behind).
//  2. An error Status means no ledger could be produced (bad names, config, cluster did not start,
//     output not writable). A failed correctness assertion is not an error: it is in the ledger,
//     and Ledger::Passed() says so.
//  3. DIR/cluster (the cluster's data and logs) is emptied first, so each run starts from empty
//     regions; DIR/lab-cluster.yaml, ledger.json, ledger.md and DIR/plots/* are overwritten.
//  5. Experiments that need residency rules (ExperimentEntry::needs_residency) run on the run's
//     cluster when its config has rules; otherwise on a cluster of their own from
//     kResidencyConfigName beside the run's config, in DIR/cluster-<stem> with its config in
//     DIR/lab-cluster-<stem>.yaml (PlanClusters). An experiment with a region flag
//     (ExperimentEntry::region_flag) runs on a cluster of its own whose regions take that flag,
//     in DIR/cluster-<flag> (with the stem before it when it is also on the residency config).
//     Clusters run one after the other, never two at once; every config is read before the
//     first starts.
//  4. Plots are written after the cluster stops (plot_writer.h): a missing gnuplot is a note in
//     the ledger, never an error.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "base/status.h"
#include "lab/experiments.h"
#include "lab/ledger.h"

namespace meridian {

// The sustain experiment's duration when --sustain-minutes is not given: the half hour
// in full mode; under five seconds in quick mode, enough for a few samples in CI.
inline constexpr double kSustainMinutesFull = 30;
inline constexpr double kSustainMinutesQuick = 0.08;
// Its aggregate write rate: well below the knee `lag` finds on a two-core machine running the
// whole cluster (docs/lab.md), so the run shows steady-state lag rather than saturation.
inline constexpr double kSustainRateDefault = 1000;
// Every region's oplog retention in ops (`region --oplog-retention-ops`) when
// --oplog-retention-ops is not given: small enough that `rejoin`'s region down past the retention
// needs minutes of writes, not tens (the region's own default is 1 M), and in quick mode seconds.
inline constexpr uint64_t kOplogRetentionOpsFull = 250'000;
inline constexpr uint64_t kOplogRetentionOpsQuick = 20'000;

struct LabOptions {
  std::vector<std::string> names;  // empty: every built experiment
  std::string out_dir;
  bool quick = false;
  std::string config_path = "deploy/local.yaml";
  uint64_t seed = 1;
  double sustain_minutes = -1;  // < 0: kSustainMinutesFull or kSustainMinutesQuick by mode
  double sustain_rate = kSustainRateDefault;
  uint64_t oplog_retention_ops = 0;  // 0: kOplogRetentionOpsFull or kOplogRetentionOpsQuick
  std::ostream* progress = nullptr;  // one line per experiment, when set
  bool plaintext = false;            // replication without TLS (default: certificates made)
  // What the counter load of `lag` and `sustain` speaks to the regions: "resp" (their Redis-
  // protocol listeners, the fast path) or "http" (their HTTP API, as every run before 2026-12-06).
  std::string load_protocol = "resp";
};

// The sustain duration the options give (the mode's default when not set).
double SustainMinutes(const LabOptions& options);
// The regions' oplog retention the options give (the mode's default when not set).
uint64_t OplogRetentionOps(const LabOptions& options);

// The entries to run for `names`, in the order given (all built ones, in their order, when
// empty). InvalidArgument naming an unknown or repeated experiment.
Result<std::vector<ExperimentEntry>> ResolveExperiments(const std::vector<std::string>& names,
                                                        const std::vector<ExperimentEntry>& built);

// The config residency experiments use when the run's has no residency rules, looked up in the
// directory of the run's config (deploy/local.yaml -> deploy/local-eu2.yaml).
inline constexpr char kResidencyConfigName[] = "local-eu2.yaml";

// One cluster of a run: its config, the suffix of its files in DIR ("" for the run's own
// config, "-local-eu2" for another), and the experiments it runs, in order.
struct ClusterPlan {
  std::string config_path;
  std::string suffix;
  std::string region_flag;  // given to every region of the cluster; empty: none
  std::vector<ExperimentEntry> experiments;
};

// The clusters a run starts, in order (contract 5): consecutive experiments on the same config
// share one cluster. `config_has_residency`: the run's config declares residency rules.
std::vector<ClusterPlan> PlanClusters(const std::vector<ExperimentEntry>& experiments,
                                      const std::string& config_path, bool config_has_residency);

// "us, eu, ap; us-eu 80 ms, ...": the ledger's one-line cluster description.
std::string DescribeCluster(const ClusterConfig& config);

Result<Ledger> RunLab(const LabOptions& options);

}  // namespace meridian
