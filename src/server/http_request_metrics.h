// HttpRequestMetrics: the children of the region's HTTP request series, resolved once per route.
//
//   meridian_http_request_duration_seconds{method,class,op}
//   meridian_http_requests_total{method,class,op,code}
//
// Contract:
//  1. For() finds a route's children by its three labels without building a label vector or
//     taking the families' locks, once the route was seen; a route's counter for a status code
//     likewise once that code was answered. The children live as long as the registry
//     (obs/metrics.h), and a Route as long as this.
//  2. Labels come from small fixed sets (methods, classes, operations, status codes), so the
//     cache stays small.
//  3. Not thread-safe: the region's loop thread only, where every HTTP request is handled and
//     answered (region_server_impl.h).
#pragma once

#include <array>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "obs/metrics.h"

namespace meridian {

class HttpRequestMetrics {
 public:
  class Route {
   public:
    Histogram& latency() const { return latency_; }
    // The requests counter of this route for `status`.
    Counter& Answered(int status);

   private:
    friend class HttpRequestMetrics;
    Route(CounterFamily& requests, std::array<std::string, 3> labels, Histogram& latency)
        : requests_(requests), labels_(std::move(labels)), latency_(latency) {}

    CounterFamily& requests_;
    const std::array<std::string, 3> labels_;  // method, class, op
    Histogram& latency_;
    std::vector<std::pair<int, Counter*>> by_status_;  // a handful: searched in order
  };

  // The families outlive this (both are the region's RegionMetrics).
  HttpRequestMetrics(HistogramFamily& seconds, CounterFamily& requests)
      : seconds_(seconds), requests_(requests) {}

  Route& For(std::string_view method, std::string_view data_class, std::string_view op);

 private:
  // Compares label triples as strings or views alike, so a lookup copies no label.
  struct LabelsLess {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return std::lexicographical_compare(
          a.begin(), a.end(), b.begin(), b.end(),
          [](std::string_view x, std::string_view y) { return x < y; });
    }
  };

  HistogramFamily& seconds_;
  CounterFamily& requests_;
  std::map<std::array<std::string, 3>, Route, LabelsLess> routes_;
};

}  // namespace meridian
