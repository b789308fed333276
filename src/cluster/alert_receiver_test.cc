#include "cluster/alert_receiver.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cluster/alertmanager_config.h"

namespace meridian {
namespace {

// A notification as Alertmanager 0.25 sends it (fields we do not read trimmed).
constexpr char kWebhook[] = R"({
  "version": "4", "status": "firing", "receiver": "meridian-demo",
  "groupLabels": {}, "commonLabels": {"alertname": "MeridianRegionDown"},
  "alerts": [
    {"status": "firing",
     "labels": {"alertname": "MeridianRegionDown", "region": "eu", "severity": "critical"},
     "annotations": {"summary": "Region eu is down"},
     "startsAt": "2026-12-04T15:00:00.000Z", "endsAt": "0001-01-01T00:00:00Z"},
    {"status": "resolved",
     "labels": {"alertname": "MeridianPeerDisconnected", "region": "us", "peer": "eu"},
     "startsAt": "2026-12-04T14:00:00Z", "endsAt": "2026-12-04T14:05:00Z"}
  ]})";

TEST(AlertReceiverTest, ParsesEveryAlertOfAWebhookPayload) {
  Result<std::vector<AlertEvent>> events = ParseAlertmanagerWebhook(kWebhook);
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].name, "MeridianRegionDown");
  EXPECT_EQ((*events)[0].status, "firing");
  EXPECT_EQ((*events)[0].labels.at("region"), "eu");
  EXPECT_EQ((*events)[0].starts_at, "2026-12-04T15:00:00.000Z");
  EXPECT_EQ((*events)[1].name, "MeridianPeerDisconnected");
  EXPECT_EQ((*events)[1].status, "resolved");
  EXPECT_EQ((*events)[1].ends_at, "2026-12-04T14:05:00Z");
}

TEST(AlertReceiverTest, RefusesWhatIsNotAWebhookPayload) {
  for (const char* bad : {"", "[]", "{}", R"({"alerts": 3})", R"({"alerts": [1]})",
                          R"({"alerts": [{"status": "odd", "labels": {"alertname": "A"}}]})",
                          R"({"alerts": [{"status": "firing", "labels": {}}]})",
                          R"({"alerts": [{"status": "firing", "labels": {"alertname": 1}}]})"}) {
    EXPECT_EQ(ParseAlertmanagerWebhook(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

TEST(AlertReceiverTest, KeepsTheMostRecentAlertsOldestFirst) {
  AlertReceiver receiver;
  EXPECT_EQ(receiver.Recent(), "[]");
  std::vector<AlertEvent> events = *ParseAlertmanagerWebhook(kWebhook);
  for (size_t i = 0; i < kAlertsKeptMax; ++i)
    receiver.Record(events, "2026-12-04T15:00:0" + std::to_string(i % 10) + "Z");
  receiver.Record({events[1]}, "last");
  const nlohmann::json kept = nlohmann::json::parse(receiver.Recent());
  ASSERT_EQ(kept.size(), kAlertsKeptMax);
  EXPECT_EQ(kept.back()["received_at"], "last");
  EXPECT_EQ(kept.back()["alert"], "MeridianPeerDisconnected");
  EXPECT_EQ(kept.back()["labels"]["peer"], "eu");
  EXPECT_EQ(kept.front()["alert"], "MeridianPeerDisconnected");  // the first one was dropped
}

TEST(AlertReceiverTest, TheLoggedLineHasNameStatusLabelsAndTimes) {
  AlertEvent event = (*ParseAlertmanagerWebhook(kWebhook))[0];
  event.received_at = "2026-12-04T15:00:01.000Z";
  const std::string line = event.ToJson();
  EXPECT_EQ(line.find('\n'), std::string::npos);
  const nlohmann::json parsed = nlohmann::json::parse(line);
  EXPECT_EQ(parsed["alert"], "MeridianRegionDown");
  EXPECT_EQ(parsed["status"], "firing");
  EXPECT_EQ(parsed["labels"]["severity"], "critical");
  EXPECT_EQ(parsed["starts_at"], "2026-12-04T15:00:00.000Z");
  EXPECT_EQ(parsed["received_at"], "2026-12-04T15:00:01.000Z");
}

TEST(AlertmanagerConfigTest, RoutesEveryAlertToTheWebhookWithItsToken) {
  const std::string text =
      AlertmanagerConfig({"http://127.0.0.1:7400/alerts", "/data/alertmanager/webhook-token"});
  EXPECT_NE(text.find("route:\n  receiver: meridian-demo\n  group_by: ['...']"), std::string::npos)
      << text;
  EXPECT_NE(text.find("- url: 'http://127.0.0.1:7400/alerts'\n        send_resolved: true"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("credentials_file: '/data/alertmanager/webhook-token'"), std::string::npos);
  EXPECT_EQ(AlertmanagerConfig({"http://h:1/alerts", ""}).find("http_config"), std::string::npos);
}

}  // namespace
}  // namespace meridian
