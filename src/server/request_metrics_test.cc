// The request series' cached children (resp_command_metrics.h, http_request_metrics.h): bounded
// command labels, counts by result, and one child per label tuple however often it is used.
#include <gtest/gtest.h>

#include <string>

#include "server/http_request_metrics.h"
#include "server/resp_command_metrics.h"
#include "server/resp_commands.h"

namespace meridian {
namespace {

TEST(RespCommandIndexTest, KnownNamesInAnyCaseAndOtherForTheRest) {
  const auto names = RespCommandNames();
  ASSERT_FALSE(names.empty());
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  for (size_t i = 0; i < names.size(); ++i)
    EXPECT_EQ(RespCommandIndex(names[i]), i) << names[i];
  EXPECT_EQ(names[RespCommandIndex("get")], "GET");
  EXPECT_EQ(names[RespCommandIndex("Meridian.Sessioned")], "MERIDIAN.SESSIONED");
  EXPECT_EQ(names[RespCommandIndex("auth")], "AUTH");
  for (const char* other :
       {"", "FLUSHALL", "GETX", "G", "SET\r", "a-very-long-command-name-indeed"})
    EXPECT_EQ(RespCommandIndex(other), names.size()) << other;
}

TEST(RespCommandMetricsTest, CountsByCommandAndResultAndTimesByCommand) {
  MetricsRegistry registry;
  CounterFamily& commands = registry.AddCounter("c_total", "C.", {"command", "result"});
  HistogramFamily& seconds = registry.AddHistogram("s_seconds", "S.", {"command"}, {0.5});
  RespCommandMetrics metrics(commands, seconds);
  metrics.Observe(RespCommandIndex("SET"), false, 0.25);
  metrics.Observe(RespCommandIndex("set"), false, 1.0);
  metrics.Observe(RespCommandIndex("SADD"), true, 0.25);
  metrics.Observe(RespCommandIndex("NOSUCH"), true, 0.25);
  EXPECT_EQ(commands.WithLabels({"SET", "ok"}).Value(), 2);
  EXPECT_EQ(commands.WithLabels({"SADD", "error"}).Value(), 1);
  EXPECT_EQ(commands.WithLabels({"other", "error"}).Value(), 1);
  EXPECT_EQ(seconds.WithLabels({"SET"}).Read().count, 2u);
  EXPECT_EQ(seconds.WithLabels({"SET"}).Read().cumulative[0], 1u);
  // Contract 2: no series for a command never answered, nor for a result never seen.
  const std::string text = registry.Render();
  EXPECT_EQ(text.find("command=\"GET\""), std::string::npos) << text;
  EXPECT_EQ(text.find("command=\"SET\",result=\"error\""), std::string::npos) << text;
}

TEST(HttpRequestMetricsTest, OneRoutePerLabelsAndOneCounterPerStatus) {
  MetricsRegistry registry;
  HistogramFamily& seconds =
      registry.AddHistogram("d_seconds", "D.", {"method", "class", "op"}, {0.5});
  CounterFamily& requests = registry.AddCounter("r_total", "R.", {"method", "class", "op", "code"});
  HttpRequestMetrics metrics(seconds, requests);
  HttpRequestMetrics::Route& put = metrics.For("PUT", "register", "write");
  const std::string method = "PUT";  // another string with the same labels
  EXPECT_EQ(&metrics.For(method, "register", "write"), &put);
  EXPECT_NE(&metrics.For("GET", "register", "read"), &put);
  EXPECT_EQ(&put.latency(), &seconds.WithLabels({"PUT", "register", "write"}));
  put.Answered(200).Increment();
  put.Answered(200).Increment();
  put.Answered(503).Increment();
  EXPECT_EQ(&put.Answered(200), &requests.WithLabels({"PUT", "register", "write", "200"}));
  EXPECT_EQ(requests.WithLabels({"PUT", "register", "write", "200"}).Value(), 2);
  EXPECT_EQ(requests.WithLabels({"PUT", "register", "write", "503"}).Value(), 1);
}

}  // namespace
}  // namespace meridian
