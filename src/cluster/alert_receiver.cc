#include "cluster/alert_receiver.h"

#include <spdlog/spdlog.h>
#include <time.h>  // gmtime_r

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace meridian {

namespace {

using Json = nlohmann::json;

// Every value of a JSON object of strings, or InvalidArgument naming `field`.
Result<std::map<std::string, std::string>> StringMap(const Json& object, const char* field) {
  if (!object.is_object()) return InvalidArgument(std::string(field) + " is not an object");
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : object.items()) {
    if (!value.is_string())
      return InvalidArgument(std::string(field) + "." + key + " is not a string");
    out[key] = value.get<std::string>();
  }
  return out;
}

}  // namespace

std::string AlertEvent::ToJson() const {
  return Json{{"alert", name},          {"status", status},   {"labels", labels},
              {"starts_at", starts_at}, {"ends_at", ends_at}, {"received_at", received_at}}
      .dump();
}

Result<std::vector<AlertEvent>> ParseAlertmanagerWebhook(std::string_view body) {
  const Json payload = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (payload.is_discarded() || !payload.is_object()) {
    return InvalidArgument("the body is not a JSON object");
  }
  if (!payload.contains("alerts") || !payload["alerts"].is_array()) {
    return InvalidArgument("no \"alerts\" array (not an Alertmanager webhook payload)");
  }
  std::vector<AlertEvent> out;
  for (const Json& alert : payload["alerts"]) {
    if (!alert.is_object()) return InvalidArgument("an alert is not an object");
    AlertEvent event;
    event.status = alert.value("status", "");
    if (event.status != "firing" && event.status != "resolved") {
      return InvalidArgument("an alert's status is '" + event.status + "', not firing or resolved");
    }
    Result<std::map<std::string, std::string>> labels =
        StringMap(alert.value("labels", Json()), "labels");
    if (!labels.ok()) return labels.status();
    event.labels = *std::move(labels);
    auto name = event.labels.find("alertname");
    if (name == event.labels.end()) return InvalidArgument("an alert has no alertname label");
    event.name = name->second;
    const Json starts = alert.value("startsAt", Json());
    const Json ends = alert.value("endsAt", Json());
    event.starts_at = starts.is_string() ? starts.get<std::string>() : "";
    event.ends_at = ends.is_string() ? ends.get<std::string>() : "";
    out.push_back(std::move(event));
  }
  return out;
}

void AlertReceiver::Record(std::vector<AlertEvent> events, const std::string& received_at) {
  for (AlertEvent& event : events) {
    event.received_at = received_at;
    spdlog::info("demo: alert {}",
                 event.ToJson());  // formatted before the lock: nothing slow under it
  }
  MutexLock lock(&mu_);
  for (AlertEvent& event : events) {
    recent_.push_back(std::move(event));
    if (recent_.size() > kAlertsKeptMax) recent_.pop_front();
  }
}

std::string AlertReceiver::Recent() const {
  std::deque<AlertEvent> copy;
  {
    MutexLock lock(&mu_);
    copy = recent_;
  }
  Json out = Json::array();
  for (const AlertEvent& event : copy)
    out.push_back(Json::parse(event.ToJson()));
  return out.dump();
}

std::string NowRfc3339() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[96];  // the widest ints GCC can imagine; the real text is 24 bytes
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(ms.count()));
  return text;
}

}  // namespace meridian
