#include "lab/lag_scrape.h"

#include <thread>

#include "net/http_client.h"

namespace meridian {

namespace {

constexpr auto kDrainPoll = std::chrono::milliseconds(100);

Result<std::string> FetchMetrics(const std::string& address) {
  HttpClientRequest request;
  request.target = "/metrics";
  auto response = HttpFetch(address, request, kScrapeTimeout);
  if (!response.ok()) return response.status();
  if (response->status != 200) {
    return Unavailable(address + "/metrics answered HTTP " + std::to_string(response->status));
  }
  return std::move(response->body);
}

}  // namespace

Result<double> ScrapeMetricSum(const std::string& address, std::string_view name) {
  auto text = FetchMetrics(address);
  if (!text.ok()) return text.status();
  return SumMetric(*text, name);
}

Result<ClusterScrape> ScrapeCluster(const LabContext& context) {
  std::vector<size_t> all;
  for (size_t r = 0; r < context.region_count(); ++r)
    all.push_back(r);
  return ScrapeRegions(context, all);
}

Result<ClusterScrape> ScrapeRegions(const LabContext& context, const std::vector<size_t>& regions) {
  ClusterScrape scrape;
  for (size_t r : regions) {
    auto text = FetchMetrics(context.region_http[r]);
    if (!text.ok()) return text.status();
    auto histograms = ParseLagHistograms(*text);
    if (!histograms.ok()) return histograms.status();
    for (auto& [origin, buckets] : *histograms)
      scrape.links[LinkName(origin, context.region_names[r])] = std::move(buckets);
    auto syncs = ParseHistograms(*text, kWalSyncMetricName, "");
    if (!syncs.ok()) return syncs.status();
    if (auto it = syncs->find(""); it != syncs->end())
      scrape.wal_syncs[context.region_names[r]] = std::move(it->second);
    auto backlog = SumMetric(*text, kBacklogMetricName);
    if (!backlog.ok()) return backlog.status();
    scrape.backlog_ops += *backlog;
  }
  return scrape;
}

Result<LinkBuckets> LinkDelta(const LinkBuckets& after, const LinkBuckets& before) {
  LinkBuckets delta;
  for (const auto& [link, buckets] : after) {
    auto it = before.find(link);
    auto difference = SubtractBuckets(buckets, it == before.end() ? BucketCounts{} : it->second);
    if (!difference.ok()) return InvalidArgument(link + ": " + difference.status().message());
    delta[link] = std::move(*difference);
  }
  return delta;
}

Result<ClusterScrape> WaitForDrain(const LabContext& context, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  Status last = DeadlineExceeded("no scrape");
  while (true) {
    auto scrape = ScrapeCluster(context);
    if (scrape.ok() && scrape->backlog_ops == 0) return scrape;
    last =
        scrape.ok()
            ? DeadlineExceeded("replication backlog still " +
                               std::to_string(static_cast<int64_t>(scrape->backlog_ops)) + " ops")
            : scrape.status();
    if (std::chrono::steady_clock::now() + kDrainPoll >= deadline) return last;
    std::this_thread::sleep_for(kDrainPoll);
  }
}

}  // namespace meridian
