#include "tools/lab_command.h"

#include <iostream>
#include <memory>

#include "lab/lab_runner.h"

namespace meridian {

void AddLabCommand(CLI::App& app, int* exit_code) {
  CLI::App* lab =
      app.add_subcommand("lab", "Experiments on a local cluster; the consistency ledger");
  lab->require_subcommand(1);
  CLI::App* run = lab->add_subcommand(
      "run", "Start a cluster on free ports, run experiments, write DIR/ledger.{json,md}");
  auto options = std::make_shared<LabOptions>();
  std::string built;
  for (const ExperimentEntry& entry : BuiltExperiments())
    built += (built.empty() ? "" : ", ") + std::string(entry.name);
  run->add_option("names", options->names,
                  "Experiments to run (default: all built: " + built + ")");
  run->add_option("--out", options->out_dir, "Directory for the ledger, config and cluster logs")
      ->required();
  run->add_flag("--quick", options->quick, "CI-sized runs: seconds per experiment");
  run->add_flag("--plaintext", options->plaintext,
                "Replicate without TLS (default: a CA and certificates in the cluster directory)");
  run->add_option("--config", options->config_path,
                  "Base cluster config (its ports are replaced by free ones)");
  run->add_option("--seed", options->seed, "Seed of every experiment's workload");
  run->add_option("--sustain-minutes", options->sustain_minutes,
                  "Duration of the sustain experiment's load (default: " +
                      FormatLabNumber(kSustainMinutesFull) + " in full mode, " +
                      FormatLabNumber(kSustainMinutesQuick) + " with --quick)");
  run->add_option("--sustain-rate", options->sustain_rate,
                  "Aggregate write rate of the sustain experiment, ops/s")
      ->capture_default_str();
  run->add_option("--oplog-retention-ops", options->oplog_retention_ops,
                  "Every region's oplog retention in ops (default: " +
                      std::to_string(kOplogRetentionOpsFull) + " in full mode, " +
                      std::to_string(kOplogRetentionOpsQuick) + " with --quick)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 40));
  run->add_option("--load-protocol", options->load_protocol,
                  "What the counter load of lag and sustain speaks to the regions: resp (their "
                  "Redis-protocol listeners) or http (their HTTP API)")
      ->check(CLI::IsMember({"resp", "http"}))
      ->capture_default_str();
  run->callback([options, exit_code] {
    options->progress = &std::cerr;
    auto ledger = RunLab(*options);
    if (!ledger.ok()) {
      std::cerr << "meridian lab: " << ledger.status().ToString() << "\n";
      *exit_code = 2;
      return;
    }
    std::cout << "ledger: " << options->out_dir << "/ledger.md ("
              << (ledger->Passed() ? "all correctness assertions passed" : "FAILED") << ")\n";
    *exit_code = ledger->Passed() ? 0 : 1;
  });
}

}  // namespace meridian
