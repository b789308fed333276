// AlertmanagerConfig: the alertmanager.yml `meridian demo` hands to Debian's
// `prometheus-alertmanager`. A pure function: text in, text out; the supervisor writes it and
// starts the server.
//
// Invariants:
//  1. Every alert goes to one receiver, a webhook at `webhook_url` (the demo's control API,
//     /alerts), resolved ones too (send_resolved), each alert in its own notification
//     (group_by: ['...']).
//  2. The waits are a demo's, not production's: group_wait 1 s and group_interval 5 s, so a
//     person who kills a region sees the alert at the webhook about as soon as Prometheus fires
//     it (production keeps Alertmanager's 30 s / 5 min; deploy/alertmanager/alertmanager.yml).
//  3. With a non-empty `token_file`, the webhook call carries `Authorization: Bearer <its
//     content>` (the control API needs the admin key when the demo runs with auth).
#pragma once

#include <string>

namespace meridian {

struct AlertmanagerFiles {
  std::string webhook_url;  // e.g. http://127.0.0.1:7400/alerts
  std::string token_file;   // absolute path; empty: no Authorization header
};

std::string AlertmanagerConfig(const AlertmanagerFiles& files);

}  // namespace meridian
