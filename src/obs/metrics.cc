#include "obs/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include "base/assert.h"
#include "base/utf8.h"

namespace meridian {
namespace {

bool IsNameChar(char c, bool first, bool colon_ok) {
  const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  return alpha || (colon_ok && c == ':') || (!first && c >= '0' && c <= '9');
}

bool IsValidName(std::string_view name, bool colon_ok) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (!IsNameChar(name[i], i == 0, colon_ok)) return false;
  }
  return true;
}

std::string_view TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// HELP text escapes backslash and newline; label values also escape the double quote.
std::string Escape(std::string_view text, bool quote) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

void AppendSample(std::string* out, std::string_view name, std::string_view labels, double value) {
  *out += name;
  *out += labels;
  *out += ' ';
  *out += FormatMetricValue(value);
  *out += '\n';
}

std::string CloseLabels(const std::string& open) {
  return open.empty() ? "" : open + "}";
}

}  // namespace

std::string FormatMetricValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Below 2^53 every integer is exact: print it as one, as other clients do ("1e+06" is legal
  // but harder to read).
  if (value == std::trunc(value) && std::fabs(value) < 0x1p53) {
    return std::to_string(static_cast<int64_t>(value));
  }
  char buffer[64];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  MERIDIAN_ASSERT(result.ec == std::errc());
  return std::string(buffer, result.ptr);
}

void Counter::Increment(double by) {
  MERIDIAN_ASSERT_MSG(by >= 0, "a counter never goes down");
  value_.fetch_add(by, std::memory_order_relaxed);
}

Histogram::Histogram(const std::vector<double>& bounds)
    : bounds_(bounds), buckets_(new std::atomic<uint64_t>[bounds.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i)
    buckets_[i].store(0, std::memory_order_relaxed);
}

void Histogram::Observe(double value) {
  MERIDIAN_ASSERT(!std::isnan(value));
  const size_t bucket = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::Read() const {
  Snapshot snapshot;
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    snapshot.cumulative.push_back(running);
  }
  snapshot.count = running;
  snapshot.sum = sum_.load(std::memory_order_relaxed);
  return snapshot;
}

MetricFamilyBase::MetricFamilyBase(std::string name, std::string help, MetricType type,
                                   std::vector<std::string> label_names)
    : name_(std::move(name)),
      help_(std::move(help)),
      type_(type),
      label_names_(std::move(label_names)) {
  MERIDIAN_ASSERT_MSG(IsValidName(name_, /*colon_ok=*/true), "bad metric name");
  MERIDIAN_ASSERT_MSG(type_ != MetricType::kCounter || name_.ends_with("_total"),
                      "counter names end in _total");
  MERIDIAN_ASSERT_MSG(!help_.empty() && IsValidUtf8(help_), "help text is empty or not UTF-8");
  std::set<std::string_view> seen;
  for (const std::string& label : label_names_) {
    MERIDIAN_ASSERT_MSG(IsValidName(label, /*colon_ok=*/false), "bad label name");
    MERIDIAN_ASSERT_MSG(!label.starts_with("__"), "label names starting __ are reserved");
    MERIDIAN_ASSERT_MSG(type_ != MetricType::kHistogram || label != "le", "le is reserved");
    MERIDIAN_ASSERT_MSG(seen.insert(label).second, "label name repeated");
  }
}

void MetricFamilyBase::Render(std::string* out) const {
  *out += "# HELP " + name_ + " " + Escape(help_, /*quote=*/false) + "\n";
  *out += "# TYPE " + name_ + " " + std::string(TypeName(type_)) + "\n";
  RenderSamples(out);
}

std::string MetricFamilyBase::LabelsOpen(const std::vector<std::string>& values) const {
  std::string out;
  for (size_t i = 0; i < label_names_.size(); ++i) {
    out += i == 0 ? "{" : ",";
    out += label_names_[i] + "=\"" + Escape(values[i], /*quote=*/true) + "\"";
  }
  return out;
}

template <typename M>
MetricFamily<M>::MetricFamily(std::string name, std::string help, MetricType type,
                              std::vector<std::string> label_names, std::vector<double> bounds)
    : MetricFamilyBase(std::move(name), std::move(help), type, std::move(label_names)),
      bounds_(std::move(bounds)) {
  if (label_names_.empty()) WithLabels({});
}

template <typename M>
M& MetricFamily<M>::WithLabels(const std::vector<std::string>& values) {
  MERIDIAN_ASSERT_MSG(values.size() == label_names_.size(), "wrong number of label values");
  MutexLock lock(&mu_);
  auto it = children_.find(values);
  if (it != children_.end()) return *it->second;
  MERIDIAN_ASSERT_MSG(children_.size() < kMetricChildrenMax, "unbounded label values");
  for (const std::string& value : values) {
    MERIDIAN_ASSERT_MSG(IsValidUtf8(value), "label value is not UTF-8");
  }
  std::unique_ptr<M> child;
  if constexpr (std::is_same_v<M, Histogram>) {
    child = std::make_unique<Histogram>(bounds_);
  } else {
    child = std::make_unique<M>();
  }
  return *children_.emplace(values, std::move(child)).first->second;
}

template <typename M>
void MetricFamily<M>::RenderSamples(std::string* out) const {
  MutexLock lock(&mu_);
  for (const auto& [values, child] : children_) {
    const std::string open = LabelsOpen(values);
    if constexpr (std::is_same_v<M, Histogram>) {
      const Histogram::Snapshot snapshot = child->Read();
      const std::string le_prefix = open.empty() ? "{le=\"" : open + ",le=\"";
      for (size_t i = 0; i < snapshot.cumulative.size(); ++i) {
        const double bound = i < bounds_.size() ? bounds_[i] : INFINITY;
        AppendSample(out, name_ + "_bucket", le_prefix + FormatMetricValue(bound) + "\"}",
                     static_cast<double>(snapshot.cumulative[i]));
      }
      AppendSample(out, name_ + "_sum", CloseLabels(open), snapshot.sum);
      AppendSample(out, name_ + "_count", CloseLabels(open), static_cast<double>(snapshot.count));
    } else {
      AppendSample(out, name_, CloseLabels(open), child->Value());
    }
  }
}

template class MetricFamily<Counter>;
template class MetricFamily<Gauge>;
template class MetricFamily<Histogram>;

template <typename F>
F& MetricsRegistry::Add(std::unique_ptr<F> family) {
  F& result = *family;
  MutexLock lock(&mu_);
  const bool inserted = families_.emplace(family->name(), std::move(family)).second;
  MERIDIAN_ASSERT_MSG(inserted, "metric name registered twice");
  return result;
}

CounterFamily& MetricsRegistry::AddCounter(std::string name, std::string help,
                                           std::vector<std::string> label_names) {
  return Add(std::make_unique<CounterFamily>(std::move(name), std::move(help), MetricType::kCounter,
                                             std::move(label_names)));
}

GaugeFamily& MetricsRegistry::AddGauge(std::string name, std::string help,
                                       std::vector<std::string> label_names) {
  return Add(std::make_unique<GaugeFamily>(std::move(name), std::move(help), MetricType::kGauge,
                                           std::move(label_names)));
}

HistogramFamily& MetricsRegistry::AddHistogram(std::string name, std::string help,
                                               std::vector<std::string> label_names,
                                               std::vector<double> bounds) {
  MERIDIAN_ASSERT_MSG(!bounds.empty(), "a histogram needs buckets");
  for (size_t i = 0; i < bounds.size(); ++i) {
    MERIDIAN_ASSERT_MSG(std::isfinite(bounds[i]), "bucket bounds are finite (+Inf is implied)");
    MERIDIAN_ASSERT_MSG(i == 0 || bounds[i - 1] < bounds[i], "bucket bounds strictly increase");
  }
  return Add(std::make_unique<HistogramFamily>(std::move(name), std::move(help),
                                               MetricType::kHistogram, std::move(label_names),
                                               std::move(bounds)));
}

std::string MetricsRegistry::Render() const {
  std::string out;
  MutexLock lock(&mu_);
  for (const auto& [name, family] : families_)
    family->Render(&out);
  return out;
}

std::vector<double> ExponentialBuckets(double start, double factor, size_t count) {
  MERIDIAN_ASSERT(start > 0 && factor > 1 && count >= 1);
  std::vector<double> bounds;
  double bound = start;
  for (size_t i = 0; i < count; ++i, bound *= factor)
    bounds.push_back(bound);
  return bounds;
}

std::vector<double> LatencyBucketsSeconds() {
  return ExponentialBuckets(0.0001, 2.0, 16);
}

}  // namespace meridian
