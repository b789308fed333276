#include "lab/lab_context.h"

#include <algorithm>
#include <cctype>
#include <thread>

#include "lab/ledger.h"
#include "net/http_client.h"

namespace meridian {

using Clock = std::chrono::steady_clock;

std::string LabContext::ReproduceCommand(const std::string& experiment) const {
  std::string command = "meridian lab run " + experiment + " --seed " + std::to_string(seed);
  if (quick) command += " --quick";
  if (!config_arg.empty()) command += " --config " + config_arg;
  if (experiment == "sustain") {
    command += " --sustain-minutes " + FormatLabNumber(sustain_minutes) + " --sustain-rate " +
               FormatLabNumber(sustain_rate);
  }
  if (experiment == "rejoin")
    command += " --oplog-retention-ops " + std::to_string(oplog_retention_ops);
  if ((experiment == "lag" || experiment == "sustain") && load_protocol != "resp")
    command += " --load-protocol " + load_protocol;
  return command + " --out DIR";
}

ExperimentResult LabContext::NewResult(const std::string& experiment, std::string title) const {
  ExperimentResult result;
  result.name = experiment;
  result.title = std::move(title);
  result.seed = seed;
  result.command = ReproduceCommand(experiment);
  return result;
}

namespace {

struct LabCredentials {
  std::string client_key;
  std::string admin_key;
  std::string control;
};

LabCredentials& Credentials() {
  static LabCredentials credentials;
  return credentials;
}

}  // namespace

void SetLabCredentials(std::string client_key, std::string admin_key, std::string control) {
  Credentials() = {std::move(client_key), std::move(admin_key), std::move(control)};
}

Result<LabReply> LabCall(const std::string& address, const std::string& method,
                         const std::string& target, const std::string& body, LabHeaders headers,
                         std::chrono::milliseconds timeout) {
  HttpClientRequest request;
  request.method = method;
  request.target = target;
  request.body = body;
  request.headers = std::move(headers);
  const LabCredentials& keys = Credentials();
  const bool admin = address == keys.control || target.starts_with("/admin/");
  const std::string& key = admin ? keys.admin_key : keys.client_key;
  const bool named = std::any_of(request.headers.begin(), request.headers.end(),
                                 [](const auto& h) { return h.first == "Authorization"; });
  if (!key.empty() && !named) request.headers.emplace_back("Authorization", "Bearer " + key);
  const auto start = Clock::now();
  auto response = HttpFetch(address, request, timeout);
  if (!response.ok()) return response.status();
  LabReply reply;
  reply.latency_ms = SecondsSince(start) * 1000.0;
  reply.status = response->status;
  reply.headers = std::move(response->headers);
  reply.body = nlohmann::json::parse(response->body, nullptr, /*allow_exceptions=*/false);
  if (reply.body.is_discarded()) reply.body = nullptr;
  return reply;
}

std::string LabHealthStatus(const std::string& address) {
  auto reply = LabCall(address, "GET", "/healthz", "", {}, std::chrono::seconds(1));
  if (!reply.ok() || reply->status != 200) return "";
  return JsonString(reply->body, "status");
}

std::vector<nlohmann::json> ReadProfileEverywhere(const LabContext& context,
                                                  const std::string& key) {
  std::vector<nlohmann::json> values;
  for (const std::string& address : context.region_http) {
    auto reply = LabCall(address, "GET", "/profile/" + key);
    if (!reply.ok() || reply->status != 200 || !reply->body.is_object()) return {};
    values.push_back(JsonField(reply->body, "value"));
  }
  return values;
}

std::string LabHeader(const LabReply& reply, const std::string& name) {
  for (const auto& [field, value] : reply.headers) {
    if (field.size() != name.size()) continue;
    bool same = true;
    for (size_t i = 0; i < name.size() && same; ++i)
      same = std::tolower(static_cast<unsigned char>(field[i])) ==
             std::tolower(static_cast<unsigned char>(name[i]));
    if (same) return value;
  }
  return "";
}

nlohmann::json JsonField(const nlohmann::json& body, const std::string& key) {
  if (!body.is_object()) return nullptr;
  auto it = body.find(key);
  return it == body.end() ? nlohmann::json() : *it;
}

std::string JsonString(const nlohmann::json& body, const std::string& key) {
  const nlohmann::json field = JsonField(body, key);
  return field.is_string() ? field.get<std::string>() : std::string();
}

bool AllAgree(const std::vector<nlohmann::json>& values) {
  if (values.empty()) return false;
  for (const nlohmann::json& value : values) {
    if (value != values.front()) return false;
  }
  return true;
}

bool WaitUntil(const std::function<bool()>& probe, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    if (probe()) return true;
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
}

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double SampleQuantile(std::vector<double> values, double q) {
  if (values.empty()) return -1;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<size_t>(q * values.size()))];
}

}  // namespace meridian
