#include "lab/partition_handles.h"

#include <algorithm>
#include <cmath>

namespace meridian {

namespace {

// Between two ops of one region's probe: a minority answers 503 in about a millisecond, so without
// a pause its probe would send thousands of requests; at 100 ms a 60 s cut holds up to 600 ops
// per region, enough for a p99, and the pause is shorter than every majority op.
constexpr auto kProbeInterval = std::chrono::milliseconds(100);
// Longer than the region's own request timeout (2 s), so a stalled op is seen as its region's
// 503, not as our timeout.
constexpr auto kOpTimeout = std::chrono::seconds(5);
constexpr auto kClaimSharedTimeout = std::chrono::seconds(10);

double Percentile(std::vector<double> sorted_ms, double q) {
  if (sorted_ms.empty()) return 0;
  std::sort(sorted_ms.begin(), sorted_ms.end());
  const double rank = std::ceil(q * static_cast<double>(sorted_ms.size()));
  const size_t index = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return sorted_ms[std::min(index, sorted_ms.size() - 1)];
}

}  // namespace

std::vector<bool> MinoritySide(const LabContext& context,
                               const std::vector<std::pair<std::string, std::string>>& pairs) {
  const size_t regions = context.region_count();
  std::vector<bool> minority(regions, false);
  for (size_t r = 0; r < regions; ++r) {
    size_t reachable = regions;  // itself included
    for (const auto& [a, b] : pairs) {
      if (a == context.region_names[r] || b == context.region_names[r]) --reachable;
    }
    minority[r] = reachable < regions / 2 + 1;
  }
  return minority;
}

HandleProbe::HandleProbe(const LabContext& context, std::string prefix)
    : context_(context), prefix_(std::move(prefix)), ops_(context.region_count()) {}

HandleProbe::~HandleProbe() {
  Stop();
}

bool HandleProbe::ClaimShared() {
  const std::string target = "/handle/" + prefix_ + "shared";
  const std::string body = nlohmann::json{{"owner", "lab"}}.dump();
  return WaitUntil(
      [&] {
        auto reply = LabCall(context_.region_http[0], "PUT", target, body, {}, kOpTimeout);
        return reply.ok() && reply->status == 201;
      },
      kClaimSharedTimeout);
}

void HandleProbe::Start() {
  stop_ = false;
  for (size_t r = 0; r < context_.region_count(); ++r)
    threads_.emplace_back([this, r] { Probe(r); });
}

void HandleProbe::Stop() {
  stop_ = true;
  for (std::thread& thread : threads_)
    thread.join();
  threads_.clear();
}

void HandleProbe::Probe(size_t r) {
  const std::string& address = context_.region_http[r];
  const std::string body = nlohmann::json{{"owner", "lab-" + context_.region_names[r]}}.dump();
  std::vector<HandleProbeOp>& ops = ops_[r];
  for (uint64_t i = 0; !stop_; ++i) {
    const auto next = std::chrono::steady_clock::now() + kProbeInterval;
    HandleProbeOp op;
    op.claim = i % 2 == 0;
    const auto sent = std::chrono::steady_clock::now();
    auto reply =
        op.claim
            ? LabCall(address, "PUT",
                      "/handle/" + prefix_ + context_.region_names[r] + "-" + std::to_string(i),
                      body, {}, kOpTimeout)
            : LabCall(address, "GET", "/handle/" + prefix_ + "shared", "", {}, kOpTimeout);
    op.latency_ms = SecondsSince(sent) * 1000;
    op.status = reply.ok() ? reply->status : 0;
    ops.push_back(op);
    std::this_thread::sleep_until(next);
  }
}

HandleProbeSummary HandleProbe::Summary(size_t r) const {
  HandleProbeSummary summary;
  std::vector<double> latencies;
  for (const HandleProbeOp& op : ops_[r]) {
    ++summary.ops;
    latencies.push_back(op.latency_ms);
    summary.latency_ms_max = std::max(summary.latency_ms_max, op.latency_ms);
    if (op.latency_ms > kHandleStallMs) ++summary.slower_than_stall;
    if (op.status == (op.claim ? 201 : 200)) {
      ++summary.ok;
      if (op.claim) ++summary.claims_acknowledged;
    } else if (op.status == 503) {
      ++summary.unavailable;
      summary.latency_ms_max_unavailable =
          std::max(summary.latency_ms_max_unavailable, op.latency_ms);
    } else {
      ++summary.other;
    }
  }
  summary.latency_ms_p50 = Percentile(latencies, 0.5);
  summary.latency_ms_p99 = Percentile(latencies, 0.99);
  return summary;
}

}  // namespace meridian
