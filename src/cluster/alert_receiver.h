// AlertReceiver: the demo's end of Alertmanager's webhook. Alertmanager POSTs each notification
// (a group of alerts, version 4 of its webhook payload) to the demo's control API at /alerts;
// the receiver turns every alert in it into one structured log line and keeps the most recent
// ones for GET /alerts (and `meridian chaos alerts`).
//
// Contract:
//  1. ParseAlertmanagerWebhook() is pure: the payload's bytes in, its alerts out (name from the
//     `alertname` label, status "firing" or "resolved", labels, startsAt / endsAt as sent); or
//     InvalidArgument naming what is wrong, for anything that is not such a payload.
//  2. Record() logs each alert as one line, `demo: alert {json}` with the fields of AlertEvent,
//     and keeps at most kAlertsKeptMax of them, dropping the oldest first.
//  3. Recent() returns the kept alerts oldest first, as a JSON array; thread-safe.
#pragma once

#include <cstddef>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/thread_annotations.h"

namespace meridian {

// A demo's alerts over an afternoon are tens; 200 keeps all of them and bounds the memory.
inline constexpr size_t kAlertsKeptMax = 200;

struct AlertEvent {
  std::string name;    // the alertname label
  std::string status;  // "firing" or "resolved"
  std::map<std::string, std::string> labels;
  std::string starts_at;    // RFC 3339, as Alertmanager sent it
  std::string ends_at;      // RFC 3339; Alertmanager's zero time while firing
  std::string received_at;  // RFC 3339 UTC, the demo's clock when it arrived

  // One line of JSON with every field above.
  std::string ToJson() const;
};

// Contract 1.
Result<std::vector<AlertEvent>> ParseAlertmanagerWebhook(std::string_view body);

class AlertReceiver {
 public:
  // Stamps each event with `received_at`, logs it and keeps it (contract 2).
  void Record(std::vector<AlertEvent> events, const std::string& received_at)
      MERIDIAN_EXCLUDES(mu_);
  // Contract 3.
  std::string Recent() const MERIDIAN_EXCLUDES(mu_);

 private:
  mutable Mutex mu_;
  std::deque<AlertEvent> recent_ MERIDIAN_GUARDED_BY(mu_);
};

// The current time as RFC 3339 UTC with milliseconds, e.g. "2026-12-04T15:02:03.456Z".
std::string NowRfc3339();

}  // namespace meridian
