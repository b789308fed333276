// Scraping every region's GET /metrics for the lag experiments: per-link lag histograms, the
// replication backlog, and a bounded wait for that backlog to drain.
//
// Contract: every call is bounded (kScrapeTimeout per region; WaitForDrain by its argument);
// none throws. A region that does not answer is an error, never a silent zero.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "lab/lab_context.h"
#include "lab/lag_histogram.h"

namespace meridian {

inline constexpr auto kScrapeTimeout = std::chrono::seconds(3);

// Per link ("us->eu"), the lag histogram as the region at the link's end exports it.
using LinkBuckets = std::map<std::string, BucketCounts>;

// One scrape of every region: the lag histograms by link and the total replication backlog.
struct ClusterScrape {
  LinkBuckets links;
  double backlog_ops = 0;  // meridian_replication_backlog_ops summed over regions and peers
  // Per region name, its WAL fsync durations (meridian_wal_sync_seconds); a region that exports
  // no such histogram (an older build) is absent.
  std::map<std::string, BucketCounts> wal_syncs;
};

Result<ClusterScrape> ScrapeCluster(const LabContext& context);
// One metric family of one region's /metrics, summed over its label sets.
Result<double> ScrapeMetricSum(const std::string& address, std::string_view name);
// The same over the regions listed (indices into context.region_http) only.
Result<ClusterScrape> ScrapeRegions(const LabContext& context, const std::vector<size_t>& regions);

// after - before per link (a link only in `after` counts from zero). Also per region of
// wal_syncs, through the same map type.
Result<LinkBuckets> LinkDelta(const LinkBuckets& after, const LinkBuckets& before);

// Polls every 100 ms until the summed backlog is 0 and returns that scrape; DeadlineExceeded
// (with the last backlog seen) when it is not drained within `timeout`.
Result<ClusterScrape> WaitForDrain(const LabContext& context, std::chrono::milliseconds timeout);

}  // namespace meridian
