#include "lab/counter_load.h"

#include <algorithm>
#include <cctype>
#include <thread>
#include <vector>

#include "gen/resp_request.h"

namespace meridian {

namespace {

constexpr auto kRoundPause = std::chrono::milliseconds(200);
// 16 clients per region of the committed three-region config: enough that no client's keys
// dominate, few enough that the plan stays cheap to replay.
constexpr uint32_t kCounterLoadClients = 48;
// Two cores on the lab machine: the regions, the emulator and the router need the rest.
constexpr int kCounterLoadThreads = 2;

// The value of the counter the load wrote as `key` in every region (over HTTP whatever the load
// spoke: the same state), or an empty vector if a read failed.
std::vector<int64_t> ReadEverywhere(const LabContext& context, const std::string& key) {
  const std::string target =
      "/counter/" + (context.load_protocol == "resp" ? RespKey(OpClass::kCounter, key) : key);
  std::vector<int64_t> values;
  for (const std::string& address : context.region_http) {
    auto reply = LabCall(address, "GET", target, "", {}, std::chrono::seconds(2));
    if (!reply.ok() || reply->status != 200) return {};
    const nlohmann::json value = JsonField(reply->body, "value");
    if (!value.is_number_integer()) return {};
    values.push_back(value.get<int64_t>());
  }
  return values;
}

std::string Describe(const std::string& key, const std::vector<int64_t>& values, int64_t planned) {
  std::string text = key + ": planned " + std::to_string(planned) + ", regions";
  if (values.empty()) return text + " not all readable";
  for (int64_t v : values)
    text += " " + std::to_string(v);
  return text;
}

}  // namespace

GenOptions CounterLoadOptions(const LabContext& context, const CounterLoad& load) {
  GenOptions options;
  options.workload.seed = load.seed;
  options.workload.keyspace = load.keyspace;
  options.workload.mix.weights = {0, 1, 0, 0, 0};
  options.workload.read_fraction = 0;
  options.workload.clients = kCounterLoadClients;
  options.workload.steps = {RateStep{load.ops_per_s, load.duration_ns}};
  options.workload.key_prefix = load.key_prefix;
  const bool resp = context.load_protocol == "resp";
  if (resp) options.protocol = GenProtocol::kResp;
  for (size_t r = 0; r < context.region_count(); ++r) {
    options.targets.push_back(
        GenTarget{context.region_names[r], resp ? context.region_resp[r] : context.region_http[r]});
  }
  options.threads = kCounterLoadThreads;
  options.api_key = context.client_key;
  return options;
}

std::string CounterLoadCommand(const LabContext& context, const CounterLoad& load) {
  std::string targets = "--config CLUSTER";
  if (context.load_protocol == "resp") {
    targets = "--protocol resp";
    for (const std::string& name : context.region_names) {
      std::string upper = name;
      for (char& c : upper)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      targets += " --target " + name + "=" + upper + "_RESP";
    }
  }
  return "meridian gen " + targets + " --mix counter=1 --reads 0 --keyspace " +
         std::to_string(load.keyspace) + " --clients " + std::to_string(kCounterLoadClients) +
         " --threads " + std::to_string(kCounterLoadThreads) + " --rate " +
         FormatLabNumber(load.ops_per_s) + " --duration " +
         std::to_string(load.duration_ns / 1'000'000) + "ms --key-prefix " + load.key_prefix +
         " --seed " + std::to_string(load.seed);
}

uint64_t UnacknowledgedOps(const GenReport& report) {
  uint64_t unacked = 0;
  for (const auto& [key, stats] : report.ops)
    unacked += stats.planned > stats.ok ? stats.planned - stats.ok : 0;
  return unacked;
}

uint64_t AddPlannedCounterSums(const WorkloadSpec& spec, std::map<std::string, int64_t>& sums) {
  uint64_t writes = 0;
  Planner planner(spec);
  while (auto op = planner.Next()) {
    if (op->op_class != OpClass::kCounter || op->kind != OpKind::kWrite) continue;
    sums[op->key] += op->by;
    ++writes;
  }
  return writes;
}

CounterCheck WaitForCounters(const LabContext& context,
                             const std::map<std::string, int64_t>& planned, uint64_t unacked_ops,
                             std::chrono::milliseconds timeout) {
  CounterCheck check;
  check.keys = planned.size();
  check.unacked_ops = unacked_ops;
  const auto start = std::chrono::steady_clock::now();
  const int64_t shortfall_max = static_cast<int64_t>(unacked_ops) * kCounterByMaxForCheck;
  std::map<std::string, int64_t> settled;  // key -> shortfall once equal everywhere
  while (true) {
    check.detail.clear();
    check.excess = 0;
    for (const auto& [key, sum] : planned) {
      if (settled.count(key) > 0) continue;
      const std::vector<int64_t> values = ReadEverywhere(context, key);
      const bool equal = !values.empty() && std::all_of(values.begin(), values.end(),
                                                        [&](int64_t v) { return v == values[0]; });
      if (equal && values[0] <= sum && (unacked_ops > 0 || values[0] == sum)) {
        settled[key] = sum - values[0];
      } else {
        if (check.detail.empty()) check.detail = Describe(key, values, sum);
        if (!values.empty()) {
          check.excess = std::max<int64_t>(check.excess,
                                           *std::max_element(values.begin(), values.end()) - sum);
        }
      }
    }
    check.keys_settled = settled.size();
    check.shortfall = 0;
    for (const auto& [key, shortfall] : settled)
      check.shortfall += shortfall;
    check.seconds = SecondsSince(start);
    const bool all = settled.size() == planned.size();
    if (all) {
      check.excess = 0;
      check.converged = check.shortfall <= shortfall_max;
      if (!check.converged) {
        check.detail = "summed shortfall " + std::to_string(check.shortfall) + " > " +
                       std::to_string(shortfall_max) + " (the most " + std::to_string(unacked_ops) +
                       " unacknowledged ops could carry)";
      }
      return check;
    }
    if (std::chrono::steady_clock::now() + kRoundPause - start >= timeout) return check;
    std::this_thread::sleep_for(kRoundPause);
  }
}

void AssertCounters(const CounterCheck& check, ExperimentResult& result) {
  result.Assert("every region converges on every counter written (nothing lost, nothing doubled)",
                check.converged,
                std::to_string(check.keys_settled) + " of " + std::to_string(check.keys) +
                    " keys settled; shortfall " + std::to_string(check.shortfall) + " over " +
                    std::to_string(check.unacked_ops) + " unacknowledged ops" +
                    (check.detail.empty() ? "" : "; " + check.detail));
}

}  // namespace meridian
