// What every `meridian lab` experiment gets: the running cluster's addresses, the seed and the
// mode, plus small blocking HTTP helpers for the experiments' direct requests.
//
// Contract: every helper's wait is bounded (the request timeout, or the WaitUntil timeout); none
// throws. JSON bodies are parsed at this edge; a body that is not JSON is an Internal error.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "config/cluster_config.h"
#include "lab/ledger.h"

namespace meridian {

struct LabContext {
  ClusterConfig config;
  std::vector<std::string> region_names;  // in RegionId order
  std::vector<std::string> region_http;   // "127.0.0.1:port", same order
  std::vector<std::string> region_admin;  // each region's admin listener, same order
  std::vector<std::string> region_resp;   // each region's resp listener ("" if none), same order
  std::string demo_control;               // the supervisor's control API
  // The demo's API keys (its endpoints file's): LabCall sends them (SetLabCredentials), gen
  // runs take client_key.
  std::string client_key;
  std::string admin_key;
  std::string cluster_dir;  // the cluster's data: one directory per region, named after it
  uint64_t seed = 1;
  bool quick = false;
  std::string config_arg;              // the --config the lab was given, for reproducing commands
  double sustain_minutes = 0;          // the sustain experiment's load duration
  double sustain_rate = 0;             // and its aggregate write rate, ops/s
  uint64_t oplog_retention_ops = 0;    // every region's `--oplog-retention-ops`
  std::string load_protocol = "resp";  // the counter load's: "resp" or "http" (LabOptions)

  // "meridian lab run NAME --seed S [--quick] [--config PATH] --out DIR"; for "sustain" with
  // its --sustain-minutes and --sustain-rate, for "rejoin" with --oplog-retention-ops; for
  // "lag" and "sustain" with --load-protocol when it is not the default.
  std::string ReproduceCommand(const std::string& experiment) const;
  // An empty result of `experiment`, carrying its title, the seed and ReproduceCommand.
  ExperimentResult NewResult(const std::string& experiment, std::string title) const;
  size_t region_count() const { return region_http.size(); }
};

struct LabReply {
  int status = 0;
  nlohmann::json body;  // null when the body was empty or not JSON
  double latency_ms = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // as received
};

using LabHeaders = std::vector<std::pair<std::string, std::string>>;

// The keys every later LabCall sends as `Authorization: Bearer KEY` unless the call names its own:
// the admin key to `control` and to /admin/* targets, the client key to everything else. Set
// once by RunLab before any experiment runs; experiments only read it.
void SetLabCredentials(std::string client_key, std::string admin_key, std::string control);

// One request; any HTTP status is a reply, a transport failure is an error.
Result<LabReply> LabCall(const std::string& address, const std::string& method,
                         const std::string& target, const std::string& body = "",
                         LabHeaders headers = {},
                         std::chrono::milliseconds timeout = std::chrono::seconds(5));

// The "status" of GET /healthz at `address` ("ok", "degraded", ...), "" when it did not answer
// 200 within a second.
std::string LabHealthStatus(const std::string& address);

// The "value" of GET /profile/{key} in every region, in region order; empty if any read failed.
std::vector<nlohmann::json> ReadProfileEverywhere(const LabContext& context,
                                                  const std::string& key);

// The value of the first header of `reply` named `name` (case-insensitive), or "".
std::string LabHeader(const LabReply& reply, const std::string& name);

// body[key] when body is an object holding key, else null. Never throws.
nlohmann::json JsonField(const nlohmann::json& body, const std::string& key);
// body[key] when it is a string, else "". Never throws.
std::string JsonString(const nlohmann::json& body, const std::string& key);

// True when `values` is non-empty and all its elements are equal.
bool AllAgree(const std::vector<nlohmann::json>& values);

// Polls `probe` every 25 ms until it returns true or `timeout` passes; returns its last value.
bool WaitUntil(const std::function<bool()>& probe, std::chrono::milliseconds timeout);

// Seconds on the steady clock since `start`.
double SecondsSince(std::chrono::steady_clock::time_point start);

// The q-quantile (0 <= q <= 1) of `values` by the nearest rank below (the element at q * n,
// capped at the last); -1 when `values` is empty.
double SampleQuantile(std::vector<double> values, double q);

}  // namespace meridian
