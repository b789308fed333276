// Metrics: a small Prometheus registry and its text exposition (format 0.0.4), for /metrics.
//
// Written here because Debian packages no C++ Prometheus client (there is no libprometheus-cpp)
// and what a region needs is small: counters, gauges and fixed-bucket histograms with labels.
//
// Contract:
//  1. A family is one metric name with fixed label names; each distinct tuple of label values is
//     one child, created on first use and kept for the registry's lifetime.
//  2. Thread-safe. Creating or finding a child takes the family's mutex; updating a child is
//     lock-free (atomics). Hot paths look their child up once and keep the reference.
//  3. Render() lists families sorted by name and children sorted by label values, so equal
//     registries render byte for byte equal; output passes `promtool check metrics`.
//  4. Names follow Prometheus conventions, checked at registration: metric names match
//     [a-zA-Z_:][a-zA-Z0-9_:]*, counters end in _total, label names match [a-zA-Z_][a-zA-Z0-9_]*
//     and do not start with "__" ("le" is reserved for histogram buckets). A bad name, a reused
//     name, a wrong number of label values or non-UTF-8 label values are bugs: MERIDIAN_ASSERT.
//  5. A histogram's _count is the sum of its buckets at render time, so the +Inf bucket always
//     equals _count even while other threads observe; _sum may lag by in-flight observations.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/thread_annotations.h"

namespace meridian {

// Children per family. Label values must come from small fixed sets (regions, peers, classes,
// routes, status codes); reaching this means someone labelled by a key or a client value.
inline constexpr size_t kMetricChildrenMax = 10'000;

inline constexpr std::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";

class Counter {
 public:
  // REQUIRES: by >= 0 (a counter never goes down; use a Gauge).
  void Increment(double by = 1.0);
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void Set(double value) { value_.store(value, std::memory_order_relaxed); }
  void Add(double delta) { value_.fetch_add(delta, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  // `bounds` are the upper bounds of the finite buckets, owned by the family (outlives this).
  explicit Histogram(const std::vector<double>& bounds);

  // Counts `value` in the first bucket whose bound is >= value (+Inf beyond the last).
  // REQUIRES: value is not NaN.
  void Observe(double value);

  struct Snapshot {
    std::vector<uint64_t> cumulative;  // per finite bound, then +Inf
    double sum = 0;
    uint64_t count = 0;  // == cumulative.back()
  };
  Snapshot Read() const;

 private:
  const std::vector<double>& bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // not cumulative; last one is +Inf
  std::atomic<double> sum_{0.0};
};

enum class MetricType { kCounter, kGauge, kHistogram };

class MetricFamilyBase {
 public:
  virtual ~MetricFamilyBase() = default;
  const std::string& name() const { return name_; }
  // Appends "# HELP", "# TYPE" and every sample of the family.
  void Render(std::string* out) const;

 protected:
  MetricFamilyBase(std::string name, std::string help, MetricType type,
                   std::vector<std::string> label_names);
  // `{a="x",b="y"` (no closing brace: a histogram appends le) or "" without labels.
  std::string LabelsOpen(const std::vector<std::string>& values) const;
  virtual void RenderSamples(std::string* out) const = 0;

  const std::string name_;
  const std::string help_;
  const MetricType type_;
  const std::vector<std::string> label_names_;
};

template <typename M>
class MetricFamily final : public MetricFamilyBase {
 public:
  MetricFamily(std::string name, std::string help, MetricType type,
               std::vector<std::string> label_names, std::vector<double> bounds = {});

  // The child for `values` (one per label name, valid UTF-8), created on first use. The
  // reference stays valid for the registry's lifetime.
  M& WithLabels(const std::vector<std::string>& values);
  // REQUIRES: the family has no labels.
  M& Get() { return WithLabels({}); }

 private:
  void RenderSamples(std::string* out) const override;

  const std::vector<double> bounds_;  // histograms only
  mutable Mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<M>> children_ MERIDIAN_GUARDED_BY(mu_);
};

using CounterFamily = MetricFamily<Counter>;
using GaugeFamily = MetricFamily<Gauge>;
using HistogramFamily = MetricFamily<Histogram>;

class MetricsRegistry {
 public:
  // Each returns the new family, owned by the registry. A family without labels has its one
  // child from the start, so it renders 0 before the first update.
  CounterFamily& AddCounter(std::string name, std::string help,
                            std::vector<std::string> label_names = {});
  GaugeFamily& AddGauge(std::string name, std::string help,
                        std::vector<std::string> label_names = {});
  // REQUIRES: bounds non-empty, finite, strictly increasing.
  HistogramFamily& AddHistogram(std::string name, std::string help,
                                std::vector<std::string> label_names, std::vector<double> bounds);

  // The Prometheus text exposition of every family (contract 3).
  std::string Render() const;

 private:
  template <typename F>
  F& Add(std::unique_ptr<F> family);

  mutable Mutex mu_;
  std::map<std::string, std::unique_ptr<MetricFamilyBase>> families_ MERIDIAN_GUARDED_BY(mu_);
};

// count bounds: start, start*factor, ... REQUIRES: start > 0, factor > 1, count >= 1.
std::vector<double> ExponentialBuckets(double start, double factor, size_t count);
// Request latencies in seconds: 100 us to about 3.3 s, doubling; covers a local read (sub-ms)
// up to a quorum read across continents or a session wait.
std::vector<double> LatencyBucketsSeconds();

// A sample value as Prometheus writes it: integers without exponent, "+Inf", "-Inf", "NaN".
std::string FormatMetricValue(double value);

}  // namespace meridian
