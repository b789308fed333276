#include "tools/gen_command.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gen/inputs.h"
#include "gen/report.h"
#include "gen/request.h"
#include "gen/runner.h"
#include "tools/stop_signals.h"

namespace meridian {
namespace {

struct GenFlags {
  std::vector<std::string> targets;
  std::string protocol = "http";
  std::string config;
  std::string endpoints_file;
  std::string key;  // API key; "": the endpoints file's client_key, if any
  std::string via_router;
  uint64_t seed = 1;
  uint64_t keyspace = 10'000'000;
  double zipf = 1.1;
  std::string mix = "profile=40,counter=30,tags=30";
  double reads = 0.5;
  std::string key_prefix = "k";
  size_t value_bytes = 16;
  uint32_t clients = 16;
  double hopping = 0;
  bool session = false;
  bool idempotency_keys = false;
  double rate = 1000;
  std::string duration = "10s";
  std::string ramp;
  std::string warmup;
  double ramp_stop_drops = 0.1;
  uint64_t conflict_pairs = 0;
  double conflict_gap_ms = 5;
  std::string read_back;
  int threads = 1;
  size_t connections = 16;
  size_t max_in_flight = 1024;
  int timeout_ms = 5'000;
  std::string history;
  std::string out;
  bool quiet = false;
  bool plan_only = false;
};

// The targets from whichever source the flags name (--target wins, then --endpoints-file, then
// --config), plus a router address an endpoints file may name.
Result<std::vector<GenTarget>> CollectTargets(const GenFlags& f, std::string* router,
                                              std::string* key) {
  std::vector<GenTarget> targets;
  for (const std::string& text : f.targets) {
    Result<GenTarget> target = ParseTarget(text);
    if (!target.ok()) return target.status();
    targets.push_back(*target);
  }
  if (!targets.empty()) return targets;
  if (!f.endpoints_file.empty()) {
    Result<Endpoints> endpoints = LoadEndpointsFile(f.endpoints_file);
    if (!endpoints.ok()) return endpoints.status();
    if (router->empty()) *router = endpoints->router;
    if (key->empty()) *key = endpoints->client_key;
    return endpoints->regions;
  }
  if (!f.config.empty()) return LoadTargetsFromConfig(f.config);
  return InvalidArgument(
      "no targets: give --target REGION=HOST:PORT, --config or --endpoints-file");
}

Result<GenOptions> BuildOptions(const GenFlags& f) {
  GenOptions o;
  if (f.protocol == "resp") {
    // A config and an endpoints file name the regions' HTTP addresses.
    if (f.targets.empty() && f.via_router.empty()) {
      return InvalidArgument(
          "--protocol resp: give each resp listener as --target REGION=HOST:PORT (or --via-router "
          "HOST:PORT with the router's)");
    }
    if (f.via_router == "endpoints") {
      return InvalidArgument("--protocol resp: give the router's resp address to --via-router");
    }
    o.protocol = GenProtocol::kResp;
  }
  std::string endpoints_router;
  o.api_key = f.key;
  Result<std::vector<GenTarget>> targets = CollectTargets(f, &endpoints_router, &o.api_key);
  if (!targets.ok()) return targets.status();
  // Regions are ordered by name whatever the source (flags, the config's RegionId order, an
  // endpoints file's key order), so a seed sends the same ops to the same regions from any of them.
  o.targets = std::move(*targets);
  std::sort(o.targets.begin(), o.targets.end(),
            [](const GenTarget& a, const GenTarget& b) { return a.name < b.name; });
  // --via-router takes an address; "endpoints" means the router the endpoints file names.
  o.router = f.via_router == "endpoints" ? endpoints_router : f.via_router;
  if (f.via_router == "endpoints" && o.router.empty()) {
    return InvalidArgument("--via-router endpoints: the endpoints file names no router");
  }
  WorkloadSpec& w = o.workload;
  w.seed = f.seed;
  w.keyspace = f.keyspace;
  w.zipf_exponent = f.zipf;
  Result<Mix> mix = ParseMix(f.mix);
  if (!mix.ok()) return mix.status();
  w.mix = *mix;
  w.read_fraction = f.reads;
  w.key_prefix = f.key_prefix;
  w.value_bytes = f.value_bytes;
  w.clients = f.clients;
  w.hopping_fraction = f.hopping;
  w.conflict_pairs = f.conflict_pairs;
  w.conflict_gap_us_max = static_cast<uint64_t>(f.conflict_gap_ms * 1000);
  if (!f.read_back.empty()) {
    if (f.conflict_pairs == 0) return InvalidArgument("--read-back needs --conflict-pairs");
    Result<uint64_t> read_back_ns = ParseDurationNs(f.read_back);
    if (!read_back_ns.ok()) return read_back_ns.status();
    w.conflict_read_back_ns = *read_back_ns;
  }
  if (!f.ramp.empty()) {
    Result<std::vector<RateStep>> steps = ParseRamp(f.ramp);
    if (!steps.ok()) return steps.status();
    w.steps = std::move(*steps);
  } else {
    Result<uint64_t> duration_ns = ParseDurationNs(f.duration);
    if (!duration_ns.ok()) return duration_ns.status();
    w.steps = {RateStep{f.rate, *duration_ns}};
  }
  o.ramp_stop_drop_share = f.ramp_stop_drops;
  if (!f.warmup.empty()) {
    Result<uint64_t> warmup_ns = ParseDurationNs(f.warmup);
    if (!warmup_ns.ok()) return warmup_ns.status();
    o.warmup_ns = *warmup_ns;
  }
  o.session = f.session;
  o.idempotency_keys = f.idempotency_keys;
  o.threads = f.threads;
  o.connections_per_target = f.connections;
  o.in_flight_max = f.max_in_flight;
  o.timeout_ms = f.timeout_ms;
  o.history_path = f.history;
  o.progress = f.quiet ? nullptr : &std::cerr;
  MERIDIAN_RETURN_IF_ERROR(ValidateGenOptions(o));
  return o;
}

// --plan-only: the op sequence the seed gives, one JSON line per op, without sending anything.
int PrintPlan(const GenOptions& options) {
  const WorkloadSpec spec = PlannedWorkload(options);
  std::FILE* out =
      options.history_path.empty() ? stdout : std::fopen(options.history_path.c_str(), "w");
  if (out == nullptr) {
    std::fprintf(stderr, "meridian gen: cannot open '%s'\n", options.history_path.c_str());
    return 1;
  }
  Planner planner(spec);
  while (std::optional<PlannedOp> op = planner.Next()) {
    const std::string line = FormatPlannedOp(*op, options.targets[op->region].name) + "\n";
    std::fputs(line.c_str(), out);
  }
  const bool failed = std::ferror(out) != 0;
  if (out != stdout && std::fclose(out) != 0) return 1;
  return failed ? 1 : 0;
}

int Run(const GenFlags& f, const std::string& command) {
  Result<GenOptions> options = BuildOptions(f);
  if (!options.ok()) {
    std::fprintf(stderr, "meridian gen: %s\n", options.status().message().c_str());
    return 2;
  }
  if (f.plan_only) return PrintPlan(*options);
  if (!f.quiet) {
    std::fprintf(stderr, "meridian gen: seed %llu, %zu target(s)%s, mix %s, %s\n",
                 (unsigned long long)f.seed, options->targets.size(),
                 options->router.empty() ? "" : (" via router " + options->router).c_str(),
                 FormatMix(options->workload.mix).c_str(),
                 f.conflict_pairs > 0
                     ? (std::to_string(f.conflict_pairs) + " conflict pairs").c_str()
                     : (std::to_string(options->workload.steps.size()) + " rate step(s)").c_str());
  }
  // Ctrl-C / SIGTERM end the schedule early; the report still covers what was sent. The watcher
  // thread is released at the end by a SIGTERM aimed at it alone.
  BlockedStopSignals signals;
  GenStop stop;
  std::atomic<bool> finished{false};
  std::thread watcher([&] {
    signals.Wait();
    if (!finished.load()) {
      std::fputs("meridian gen: stopping; waiting for the ops in flight\n", stderr);
      stop.Request();
    }
  });
  options->stop = &stop;
  Result<GenReport> report = RunGen(*options);
  finished.store(true);
  pthread_kill(watcher.native_handle(), SIGTERM);
  watcher.join();
  if (!report.ok()) {
    std::fprintf(stderr, "meridian gen: %s\n", report.status().ToString().c_str());
    return 1;
  }
  std::fputs(FormatReportTable(*report).c_str(), stdout);
  int status = 0;
  if (!report->history_error.empty()) {
    std::fprintf(stderr, "meridian gen: %s\n", report->history_error.c_str());
    status = 1;
  }
  if (!f.out.empty()) {
    std::ofstream out(f.out);
    out << FormatReportJson(*report, command);
    if (!out) {
      std::fprintf(stderr, "meridian gen: cannot write '%s'\n", f.out.c_str());
      return 1;
    }
  }
  return status;
}

}  // namespace

void AddGenCommand(CLI::App& app, int* exit_code) {
  auto f = std::make_shared<GenFlags>();
  CLI::App* gen = app.add_subcommand(
      "gen", "Send a seeded workload to the regions open-loop; record its history and latencies");
  gen->option_defaults()->always_capture_default();
  gen->add_option("--target", f->targets,
                  "REGION=HOST:PORT of a region's HTTP API, or its resp listener (repeatable)");
  gen->add_option("--protocol", f->protocol,
                  "http: the regions' HTTP API; resp: RESP2 to any Redis-protocol server (a "
                  "region's or router's resp listener, redis-server), classes mapped to commands "
                  "as docs/resp.md maps them")
      ->check(CLI::IsMember({"http", "resp"}));
  gen->add_option("--config", f->config, "Take every region's HTTP address from this cluster YAML");
  gen->add_option("--endpoints-file", f->endpoints_file,
                  "Take the regions (and router) from this JSON: {\"regions\": {\"us\": "
                  "{\"http\": \"127.0.0.1:7101\"}}, \"router\": \"...\"}");
  gen->add_option("--key", f->key,
                  "API key sent as 'Authorization: Bearer KEY', over RESP as 'AUTH KEY' (default: "
                  "the endpoints file's client_key)");
  gen->add_option("--via-router", f->via_router,
                  "Send everything to this router address (or 'endpoints') with X-Client-Region");
  gen->add_option("--seed", f->seed, "Seed: the same seed sends the same operations");
  gen->add_option("--keyspace", f->keyspace, "Distinct keys per class")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 48));
  gen->add_option("--zipf", f->zipf, "Zipf exponent of the key distribution");
  gen->add_option("--mix", f->mix,
                  "Class weights: profile=40,counter=30,tags=30 (also register=, handle=)");
  gen->add_option("--reads", f->reads, "Fraction of each class's ops that are reads")
      ->check(CLI::Range(0.0, 1.0));
  gen->add_option("--key-prefix", f->key_prefix,
                  "Keys are PREFIX<rank>; conflict pairs PREFIXpairN");
  gen->add_option("--value-bytes", f->value_bytes,
                  "Profile and register values are padded to this");
  gen->add_option("--clients", f->clients, "Clients, pinned round-robin to the targets");
  gen->add_option("--hopping", f->hopping, "Fraction of clients that pick a random region per op")
      ->check(CLI::Range(0.0, 1.0));
  gen->add_flag("--session", f->session, "Reads carry the client's last session token");
  gen->add_flag("--idempotency-keys", f->idempotency_keys,
                "Writes carry Idempotency-Key: gen-<seed>-<index>");
  gen->add_option("--rate", f->rate, "Ops per second over all targets (open loop)");
  gen->add_option("--duration", f->duration, "How long to send at --rate: 10s, 500ms, 2m");
  gen->add_option("--ramp", f->ramp,
                  "FROM:TO:STEP_SECONDS[:INCREMENT] ops/s steps instead of --rate/--duration");
  gen->add_option("--warmup", f->warmup,
                  "Send at the first rate for this long first (e.g. 5s), left out of the report");
  gen->add_option("--ramp-stop-drops", f->ramp_stop_drops,
                  "End a ramp after a step that dropped more than this share of its ops (1: never)")
      ->check(CLI::Range(0.0, 1.0));
  gen->add_option("--conflict-pairs", f->conflict_pairs,
                  "Conflict mode: N pairs of same-key writes in two regions, sub-RTT apart");
  gen->add_option("--conflict-gap-ms", f->conflict_gap_ms, "Largest gap within a conflict pair")
      ->check(CLI::Range(0.0, 60'000.0));
  gen->add_option("--read-back", f->read_back,
                  "With --conflict-pairs: this long after the last pair (e.g. 2s), read every "
                  "pair key in every region");
  gen->add_option("--threads", f->threads, "I/O threads")->check(CLI::Range(1, 64));
  gen->add_option("--connections", f->connections, "Keep-alive connections per target");
  gen->add_option("--max-in-flight", f->max_in_flight,
                  "Ops outstanding at once; beyond it an op is dropped (overload), not delayed");
  gen->add_option("--timeout-ms", f->timeout_ms, "Per-request timeout");
  gen->add_option("--history", f->history, "Write every op as a JSON line to this file");
  gen->add_option("--out", f->out, "Write the JSON summary to this file");
  gen->add_flag("--quiet", f->quiet, "No progress lines on stderr");
  gen->add_flag("--plan-only", f->plan_only,
                "Print the op sequence (to --history, else stdout) and send nothing");
  gen->callback([f, gen, exit_code]() {
    std::string command = "meridian gen";
    for (const CLI::Option* option : gen->get_options()) {
      if (option->count() == 0 || option->get_name() == "--help") continue;
      for (const std::string& value : option->results()) {
        command += " " + option->get_name();
        if (option->get_expected_min() > 0) command += " " + value;
      }
    }
    // The seed always appears, so the echoed command reproduces the run even with the default.
    if (gen->get_option("--seed")->count() == 0) command += " --seed " + std::to_string(f->seed);
    *exit_code = Run(*f, command);
  });
}

}  // namespace meridian
