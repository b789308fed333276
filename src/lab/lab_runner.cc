#include "lab/lab_runner.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "cluster/demo_supervisor.h"
#include "cluster/local_cluster.h"
#include "lab/plot_writer.h"

namespace meridian {

namespace {

Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.flush();
  if (!out) return Internal("cannot write " + path);
  return Status::Ok();
}

// Runs one experiment; an exception from a library it uses (JSON, CLI, std) becomes a failed
// assertion of that experiment instead of crossing into the command (and skipping Stop()).
ExperimentResult RunGuarded(const ExperimentEntry& entry, const LabContext& context) {
  try {
    return entry.run(context);
  } catch (const std::exception& error) {
    ExperimentResult result = context.NewResult(entry.name, "did not complete");
    result.Assert("experiment completed", false, std::string("threw: ") + error.what());
    return result;
  }
}

}  // namespace

const std::vector<ExperimentEntry>& BuiltExperiments() {
  static const std::vector<ExperimentEntry> kBuilt = {
      {"tax", &RunTaxExperiment, false},
      {"lww", &RunLwwExperiment, false},
      {"crdt", &RunCrdtExperiment, false},
      {"lag", &RunLagExperiment, false},
      {"sustain", &RunSustainExperiment, false},
      {"ryw", &RunRywExperiment, false},
      {"partition", &RunPartitionExperiment, false},
      {"rejoin", &RunRejoinExperiment, false},
      {"restore", &RunRestoreExperiment, false},
      {"causal", &RunCausalExperiment, false},
      {"text", &RunTextExperiment, false},
      {"sync-rpo", &RunSyncRpoExperiment, false},
      {"inventory", &RunInventoryExperiment, false},
      {"kill", &RunKillExperiment, false},
      {"residency", &RunResidencyExperiment, true},
      {"erasure", &RunErasureExperiment, true},
      {"causal-control", &RunCausalControlExperiment, false, "--TEST-plain-eventual-delivery"},
  };
  return kBuilt;
}

Result<std::vector<ExperimentEntry>> ResolveExperiments(const std::vector<std::string>& names,
                                                        const std::vector<ExperimentEntry>& built) {
  if (names.empty()) return built;
  std::vector<ExperimentEntry> chosen;
  std::set<std::string> seen;
  for (const std::string& name : names) {
    if (!seen.insert(name).second) return InvalidArgument("experiment '" + name + "' named twice");
    bool found = false;
    for (const ExperimentEntry& entry : built) {
      if (name == entry.name) {
        chosen.push_back(entry);
        found = true;
      }
    }
    if (!found) {
      std::string known;
      for (const ExperimentEntry& entry : built)
        known += (known.empty() ? "" : ", ") + std::string(entry.name);
      return InvalidArgument("unknown experiment '" + name + "' (built: " + known + ")");
    }
  }
  return chosen;
}

uint64_t OplogRetentionOps(const LabOptions& options) {
  if (options.oplog_retention_ops > 0) return options.oplog_retention_ops;
  return options.quick ? kOplogRetentionOpsQuick : kOplogRetentionOpsFull;
}

double SustainMinutes(const LabOptions& options) {
  if (options.sustain_minutes >= 0) return options.sustain_minutes;
  return options.quick ? kSustainMinutesQuick : kSustainMinutesFull;
}

std::string DescribeCluster(const ClusterConfig& config) {
  std::string text =
      config.RegionNames() + " (" + std::string(TopologyName(config.topology)) + "); WAN RTT:";
  for (const LinkConfig& link : config.links) {
    text += " " + config.regions[link.a].name + "-" + config.regions[link.b].name + " " +
            std::to_string(link.rtt_ms) + "+-" + std::to_string(link.jitter_ms) + " ms;";
  }
  text += " all processes on one machine (loopback + WAN emulator)";
  return text;
}

std::vector<ClusterPlan> PlanClusters(const std::vector<ExperimentEntry>& experiments,
                                      const std::string& config_path, bool config_has_residency) {
  const std::filesystem::path beside =
      std::filesystem::path(config_path).parent_path() / kResidencyConfigName;
  std::vector<ClusterPlan> plans;
  for (const ExperimentEntry& entry : experiments) {
    const bool own = entry.needs_residency && !config_has_residency;
    const std::string path = own ? beside.string() : config_path;
    const std::string flag = entry.region_flag == nullptr ? "" : entry.region_flag;
    if (plans.empty() || plans.back().config_path != path || plans.back().region_flag != flag) {
      std::string suffix = own ? "-" + beside.stem().string() : "";
      if (!flag.empty()) suffix += "-" + flag.substr(flag.find_first_not_of('-'));
      plans.push_back(ClusterPlan{path, suffix, flag, {}});
    }
    plans.back().experiments.push_back(entry);
  }
  return plans;
}

namespace {

// Starts one cluster of `plan` (its config already read as `base`), runs its experiments into
// `ledger`, and stops it on every path (contract 1). `salt` keeps its ports apart from an
// earlier cluster's of the same run.
Status RunCluster(const LabOptions& options, const ClusterPlan& plan, const ClusterConfig& base,
                  uint64_t salt, Ledger& ledger) {
  const std::string cluster_dir = options.out_dir + "/cluster" + plan.suffix;
  std::error_code error;
  // DIR/cluster is the lab's own: a previous run's data there would change this run's counts.
  std::filesystem::remove_all(cluster_dir, error);
  if (error) return Internal(cluster_dir + ": " + error.message());
  auto addresses = RelocateClusterConfig(base, salt);
  if (!addresses.ok()) return addresses.status();
  const std::string config_file = options.out_dir + "/lab-cluster" + plan.suffix + ".yaml";
  MERIDIAN_RETURN_IF_ERROR(WriteFile(config_file, FormatClusterConfig(addresses->config)));

  LabContext context;
  context.config = addresses->config;
  for (const RegionConfig& region : context.config.regions) {
    context.region_names.push_back(region.name);
    context.region_http.push_back(region.http.ToString());
    context.region_admin.push_back(region.admin ? region.admin->ToString() : std::string());
    context.region_resp.push_back(region.resp ? region.resp->ToString() : std::string());
  }
  context.demo_control = addresses->control;
  context.cluster_dir = std::filesystem::absolute(cluster_dir).string();
  context.seed = options.seed;
  context.quick = options.quick;
  // A reproducing command names the config only when the default would not choose it.
  context.config_arg = options.config_path == "deploy/local.yaml" ? "" : plan.config_path;
  context.sustain_minutes = SustainMinutes(options);
  context.sustain_rate = options.sustain_rate;
  context.oplog_retention_ops = OplogRetentionOps(options);
  context.load_protocol = options.load_protocol;

  const std::string cluster =
      DescribeCluster(context.config) +
      (options.plaintext ? "; plaintext replication" : "; mutual-TLS replication");
  if (ledger.cluster.empty()) ledger.cluster = cluster;
  DemoOptions demo;
  demo.config_path = config_file;
  demo.data_dir = cluster_dir;
  demo.control = addresses->control;
  demo.plaintext = options.plaintext;
  demo.region_args = {"--oplog-retention-ops", std::to_string(context.oplog_retention_ops)};
  if (!plan.region_flag.empty()) demo.region_args.push_back(plan.region_flag);
  DemoSupervisor supervisor(demo);  // its destructor stops the cluster on every path
  MERIDIAN_RETURN_IF_ERROR(supervisor.Start());
  if (supervisor.keys()) {
    context.client_key = supervisor.keys()->client_key;
    context.admin_key = supervisor.keys()->admin_key;
  }
  SetLabCredentials(context.client_key, context.admin_key, context.demo_control);
  for (const ExperimentEntry& entry : plan.experiments) {
    if (options.progress != nullptr) *options.progress << "lab: running " << entry.name << "\n";
    const auto started = std::chrono::steady_clock::now();
    ledger.experiments.push_back(RunGuarded(entry, context));
    if (cluster != ledger.cluster) {
      ledger.experiments.back().notes.push_back("Ran on a cluster of its own (" + plan.config_path +
                                                "): " + cluster + ".");
    }
    if (options.progress != nullptr) {
      *options.progress << "lab: " << entry.name << " "
                        << (ledger.experiments.back().Passed() ? "passed" : "FAILED") << " in "
                        << FormatLabNumber(SecondsSince(started)) << " s\n";
    }
  }
  supervisor.Stop();
  return Status::Ok();
}

}  // namespace

Result<Ledger> RunLab(const LabOptions& options) {
  auto experiments = ResolveExperiments(options.names, BuiltExperiments());
  if (!experiments.ok()) return experiments.status();
  if (options.load_protocol != "resp" && options.load_protocol != "http") {
    return InvalidArgument("--load-protocol " + options.load_protocol + ": give resp or http");
  }
  if (SustainMinutes(options) * 60 < 1 || !(options.sustain_rate > 0)) {
    return InvalidArgument("--sustain-minutes must give at least 1 s and --sustain-rate be > 0");
  }
  auto base = LoadClusterConfig(options.config_path);
  if (!base.ok()) return base.status();
  const std::vector<ClusterPlan> plans =
      PlanClusters(*experiments, options.config_path, !base->residency.empty());
  // Every config is read before any cluster starts: a bad one fails the run up front.
  std::vector<ClusterConfig> configs;
  for (const ClusterPlan& plan : plans) {
    auto config =
        plan.config_path == options.config_path ? base : LoadClusterConfig(plan.config_path);
    if (!config.ok()) return config.status();
    if (config->regions.size() < 2) {
      return InvalidArgument(plan.config_path + ": the lab needs at least two regions");
    }
    for (const RegionConfig& region : config->regions) {
      if (options.load_protocol == "resp" && !region.resp) {
        return InvalidArgument(plan.config_path + ": region " + region.name +
                               " has no resp listener for --load-protocol resp (give it one, or "
                               "--load-protocol http)");
      }
    }
    configs.push_back(*std::move(config));
  }
  std::error_code error;
  std::filesystem::create_directories(options.out_dir, error);
  if (error) return InvalidArgument("--out " + options.out_dir + ": " + error.message());

  Ledger ledger;
  ledger.quick = options.quick;
  ledger.cluster.clear();
  for (size_t i = 0; i < plans.size(); ++i) {
    // Ports of the next cluster differ from the last one's (its sockets may linger).
    const uint64_t salt = static_cast<uint64_t>(::getpid()) + 7919 * i;
    MERIDIAN_RETURN_IF_ERROR(RunCluster(options, plans[i], configs[i], salt, ledger));
  }
  WritePlots(options.out_dir, FindGnuplot(), ledger);
  MERIDIAN_RETURN_IF_ERROR(WriteFile(options.out_dir + "/ledger.json", RenderLedgerJson(ledger)));
  MERIDIAN_RETURN_IF_ERROR(WriteFile(options.out_dir + "/ledger.md", RenderLedgerMarkdown(ledger)));
  return ledger;
}

}  // namespace meridian
