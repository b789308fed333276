#include "server/http_request_metrics.h"

#include <algorithm>

namespace meridian {

Counter& HttpRequestMetrics::Route::Answered(int status) {
  for (const auto& [code, counter] : by_status_) {
    if (code == status) return *counter;
  }
  Counter& counter =
      requests_.WithLabels({labels_[0], labels_[1], labels_[2], std::to_string(status)});
  by_status_.emplace_back(status, &counter);
  return counter;
}

HttpRequestMetrics::Route& HttpRequestMetrics::For(std::string_view method,
                                                   std::string_view data_class,
                                                   std::string_view op) {
  const std::array<std::string_view, 3> key = {method, data_class, op};
  auto it = routes_.find(key);
  if (it == routes_.end()) {
    std::array<std::string, 3> labels = {std::string(method), std::string(data_class),
                                         std::string(op)};
    Histogram& latency = seconds_.WithLabels({labels[0], labels[1], labels[2]});
    it = routes_.emplace(labels, Route(requests_, labels, latency)).first;
  }
  return it->second;
}

}  // namespace meridian
