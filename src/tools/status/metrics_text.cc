#include "tools/status/metrics_text.h"

#include <charconv>
#include <cmath>
#include <limits>

namespace meridian {

namespace {

bool ParseNumber(std::string_view text, double* out) {
  if (text == "+Inf" || text == "Inf") {
    *out = std::numeric_limits<double>::infinity();
    return true;
  }
  if (text == "-Inf") {
    *out = -std::numeric_limits<double>::infinity();
    return true;
  }
  if (text == "NaN") {
    *out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  const auto result = std::from_chars(text.data(), text.data() + text.size(), *out);
  return result.ec == std::errc() && result.ptr == text.data() + text.size();
}

// `{a="x",b="y"}` starting at line[*pos] == '{'; moves *pos past the '}'.
bool ParseLabels(std::string_view line, size_t* pos, MetricLabels* out) {
  size_t i = *pos + 1;
  while (i < line.size() && line[i] != '}') {
    const size_t eq = line.find('=', i);
    if (eq == std::string_view::npos || eq + 1 >= line.size() || line[eq + 1] != '"') return false;
    std::string key(line.substr(i, eq - i));
    std::string value;
    size_t j = eq + 2;
    for (; j < line.size() && line[j] != '"'; ++j) {
      if (line[j] == '\\' && j + 1 < line.size()) {
        ++j;
        value += line[j] == 'n' ? '\n' : line[j];
      } else {
        value += line[j];
      }
    }
    if (j >= line.size()) return false;
    (*out)[std::move(key)] = std::move(value);
    i = j + 1;
    if (i < line.size() && line[i] == ',') ++i;
  }
  if (i >= line.size()) return false;
  *pos = i + 1;
  return true;
}

bool ParseLine(std::string_view line, MetricSample* out) {
  size_t pos = 0;
  while (pos < line.size() && line[pos] != '{' && line[pos] != ' ')
    ++pos;
  if (pos == 0) return false;
  out->name = std::string(line.substr(0, pos));
  if (pos < line.size() && line[pos] == '{' && !ParseLabels(line, &pos, &out->labels)) return false;
  while (pos < line.size() && line[pos] == ' ')
    ++pos;
  std::string_view value = line.substr(pos);
  const size_t space = value.find(' ');  // an optional timestamp follows
  if (space != std::string_view::npos) value = value.substr(0, space);
  return ParseNumber(value, &out->value);
}

}  // namespace

Result<std::vector<MetricSample>> ParseMetricsText(std::string_view text) {
  std::vector<MetricSample> out;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    MetricSample sample;
    if (!ParseLine(line, &sample)) {
      return InvalidArgument("metrics line does not parse: " + std::string(line.substr(0, 200)));
    }
    out.push_back(std::move(sample));
  }
  return out;
}

Result<BucketCounts> MergeHistogram(const std::vector<MetricSample>& samples,
                                    const std::string& name,
                                    const std::function<bool(const MetricLabels&)>& keep) {
  const std::string bucket = name + "_bucket";
  std::map<MetricLabels, std::map<double, double>> series;  // labels without le -> le -> count
  for (const MetricSample& s : samples) {
    if (s.name != bucket) continue;
    MetricLabels labels = s.labels;
    auto le = labels.find("le");
    double bound = 0;
    if (le == labels.end() || !ParseNumber(le->second, &bound)) {
      return InvalidArgument(bucket + " sample without a numeric le label");
    }
    labels.erase(le);
    if (keep(labels)) series[labels][bound] = s.value;
  }
  BucketCounts merged;
  for (const auto& [labels, buckets] : series) {
    BucketCounts one;
    for (const auto& [bound, count] : buckets) {
      one.upper_bounds.push_back(bound);
      one.cumulative.push_back(static_cast<uint64_t>(count));
    }
    if (one.upper_bounds.empty() || !std::isinf(one.upper_bounds.back())) {
      return InvalidArgument(bucket + " has no +Inf bucket");
    }
    MERIDIAN_RETURN_IF_ERROR(AddBuckets(merged, one));
  }
  return merged;
}

}  // namespace meridian
