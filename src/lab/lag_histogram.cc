#include "lab/lag_histogram.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <utility>

namespace meridian {

namespace {

struct Sample {
  std::string_view name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

bool ParseNumber(std::string_view text, double* out) {
  if (text == "+Inf" || text == "Inf") {
    *out = std::numeric_limits<double>::infinity();
    return true;
  }
  if (text == "-Inf") {
    *out = -std::numeric_limits<double>::infinity();
    return true;
  }
  const auto result = std::from_chars(text.data(), text.data() + text.size(), *out);
  return result.ec == std::errc() && result.ptr == text.data() + text.size();
}

// `{a="x",b="y"}` from text[*pos] (just past the name); false when malformed.
bool ParseLabels(std::string_view text, size_t* pos, std::map<std::string, std::string>* out) {
  size_t i = *pos + 1;  // past '{'
  while (i < text.size() && text[i] != '}') {
    const size_t eq = text.find('=', i);
    if (eq == std::string_view::npos || eq + 1 >= text.size() || text[eq + 1] != '"') return false;
    std::string key(text.substr(i, eq - i));
    std::string value;
    size_t j = eq + 2;
    for (; j < text.size() && text[j] != '"'; ++j) {
      if (text[j] == '\\' && j + 1 < text.size()) {
        ++j;
        value += text[j] == 'n' ? '\n' : text[j];
      } else {
        value += text[j];
      }
    }
    if (j >= text.size()) return false;
    (*out)[std::move(key)] = std::move(value);
    i = j + 1;
    if (i < text.size() && text[i] == ',') ++i;
  }
  if (i >= text.size()) return false;
  *pos = i + 1;
  return true;
}

// One exposition line (not a comment, not blank).
bool ParseSample(std::string_view line, Sample* out) {
  size_t pos = 0;
  while (pos < line.size() && line[pos] != '{' && line[pos] != ' ')
    ++pos;
  out->name = line.substr(0, pos);
  out->labels.clear();
  if (pos < line.size() && line[pos] == '{' && !ParseLabels(line, &pos, &out->labels)) return false;
  while (pos < line.size() && line[pos] == ' ')
    ++pos;
  std::string_view value = line.substr(pos);
  const size_t space = value.find(' ');  // an optional timestamp follows
  if (space != std::string_view::npos) value = value.substr(0, space);
  return ParseNumber(value, &out->value);
}

// Calls `each` with every sample line whose name is `name`; false (with `bad` set) on the first
// line of that name that does not parse.
template <typename F>
bool ForEachSample(std::string_view text, std::string_view name, std::string* bad, F each) {
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (line.empty() || line[0] == '#' || line.substr(0, name.size()) != name) continue;
    if (line.size() > name.size() && line[name.size()] != '{' && line[name.size()] != ' ') continue;
    Sample sample;
    if (!ParseSample(line, &sample)) {
      *bad = std::string(line);
      return false;
    }
    each(sample);
  }
  return true;
}

}  // namespace

std::string LinkName(const std::string& origin, const std::string& region) {
  return origin + "->" + region;
}

Result<std::map<std::string, BucketCounts>> ParseLagHistograms(std::string_view metrics_text) {
  return ParseHistograms(metrics_text, kLagMetricName, "origin");
}

Result<std::map<std::string, BucketCounts>> ParseHistograms(std::string_view metrics_text,
                                                            std::string_view name,
                                                            const std::string& by) {
  const std::string bucket_name = std::string(name) + "_bucket";
  const std::string family(name);
  std::map<std::string, std::vector<std::pair<double, double>>> raw;  // label value -> (le, count)
  std::string bad;
  bool labels_ok = true;
  const bool parsed = ForEachSample(metrics_text, bucket_name, &bad, [&](const Sample& s) {
    auto key = by.empty() ? s.labels.end() : s.labels.find(by);
    auto le = s.labels.find("le");
    double bound = 0;
    if ((!by.empty() && key == s.labels.end()) || le == s.labels.end() ||
        !ParseNumber(le->second, &bound)) {
      labels_ok = false;
      return;
    }
    raw[by.empty() ? std::string() : key->second].emplace_back(bound, s.value);
  });
  if (!parsed) return InvalidArgument(family + " bucket line does not parse: " + bad);
  if (!labels_ok) {
    return InvalidArgument(family + " bucket line without " + (by.empty() ? "" : by + " or ") +
                           "le labels");
  }
  std::map<std::string, BucketCounts> out;
  for (auto& [key, buckets] : raw) {
    std::sort(buckets.begin(), buckets.end());
    BucketCounts counts;
    for (const auto& [bound, count] : buckets) {
      if (count < 0 ||
          (!counts.cumulative.empty() && (count < static_cast<double>(counts.cumulative.back()) ||
                                          bound == counts.upper_bounds.back()))) {
        return InvalidArgument(family + " histogram " + key + " is not cumulative");
      }
      counts.upper_bounds.push_back(bound);
      counts.cumulative.push_back(static_cast<uint64_t>(count));
    }
    if (!std::isinf(counts.upper_bounds.back())) {
      return InvalidArgument(family + " histogram " + key + " has no +Inf bucket");
    }
    out[key] = std::move(counts);
  }
  return out;
}

Result<double> SumMetric(std::string_view metrics_text, std::string_view name) {
  double sum = 0;
  std::string bad;
  if (!ForEachSample(metrics_text, name, &bad, [&](const Sample& s) { sum += s.value; })) {
    return InvalidArgument(std::string(name) + " line does not parse: " + bad);
  }
  return sum;
}

Result<BucketCounts> SubtractBuckets(const BucketCounts& after, const BucketCounts& before) {
  if (before.upper_bounds.empty()) return after;
  if (before.upper_bounds != after.upper_bounds) {
    return InvalidArgument("lag histograms with different buckets");
  }
  BucketCounts delta;
  delta.upper_bounds = after.upper_bounds;
  for (size_t i = 0; i < after.cumulative.size(); ++i) {
    if (after.cumulative[i] < before.cumulative[i]) {
      return InvalidArgument("lag histogram counts went down (the region restarted?)");
    }
    delta.cumulative.push_back(after.cumulative[i] - before.cumulative[i]);
  }
  return delta;
}

Status AddBuckets(BucketCounts& into, const BucketCounts& more) {
  if (more.upper_bounds.empty()) return Status::Ok();
  if (into.upper_bounds.empty()) {
    into = more;
    return Status::Ok();
  }
  if (into.upper_bounds != more.upper_bounds) {
    return InvalidArgument("lag histograms with different buckets");
  }
  for (size_t i = 0; i < into.cumulative.size(); ++i)
    into.cumulative[i] += more.cumulative[i];
  return Status::Ok();
}

std::optional<double> BucketQuantile(const BucketCounts& buckets, double q) {
  const uint64_t total = buckets.count();
  if (total == 0) return std::nullopt;
  q = std::clamp(q, 0.0, 1.0);
  const double rank = q * static_cast<double>(total);
  size_t i = 0;
  while (i + 1 < buckets.cumulative.size() && static_cast<double>(buckets.cumulative[i]) < rank) {
    ++i;
  }
  const double upper = buckets.upper_bounds[i];
  if (std::isinf(upper)) {
    return i == 0 ? 0.0 : buckets.upper_bounds[i - 1];
  }
  const double lower = i == 0 ? 0.0 : buckets.upper_bounds[i - 1];
  const double below = i == 0 ? 0.0 : static_cast<double>(buckets.cumulative[i - 1]);
  const double in_bucket = static_cast<double>(buckets.cumulative[i]) - below;
  if (in_bucket <= 0) return lower;
  return lower + (upper - lower) * std::clamp((rank - below) / in_bucket, 0.0, 1.0);
}

std::optional<double> BucketMaxBound(const BucketCounts& buckets) {
  for (size_t i = buckets.cumulative.size(); i > 0; --i) {
    const uint64_t below = i == 1 ? 0 : buckets.cumulative[i - 2];
    if (buckets.cumulative[i - 1] > below) return buckets.upper_bounds[i - 1];
  }
  return std::nullopt;
}

double KneeThreshold(const KneeRule& rule, double base_s) {
  return std::max(rule.factor * base_s, base_s + rule.margin_s);
}

std::optional<double> KneeBase(const std::vector<std::optional<double>>& p99_s_by_step) {
  std::optional<double> base;
  int seen = 0;
  for (const std::optional<double>& p99 : p99_s_by_step) {
    if (!p99) continue;
    base = base ? std::min(*base, *p99) : *p99;
    if (++seen == 2) break;
  }
  return base;
}

std::optional<size_t> FindKnee(const std::vector<std::optional<double>>& p99_s_by_step,
                               const KneeRule& rule) {
  const std::optional<double> base = KneeBase(p99_s_by_step);
  if (!base) return std::nullopt;
  const double threshold = KneeThreshold(rule, *base);
  bool first = true;
  for (size_t i = 0; i < p99_s_by_step.size(); ++i) {
    if (!p99_s_by_step[i]) continue;
    if (first) {
      first = false;
      continue;
    }
    if (*p99_s_by_step[i] > threshold) return i;
  }
  return std::nullopt;
}

std::optional<size_t> FindSustainedKnee(const std::vector<std::optional<double>>& p99_s_by_step,
                                        const KneeRule& rule) {
  std::optional<size_t> knee = FindKnee(p99_s_by_step, rule);
  if (!knee) return std::nullopt;
  const double threshold = KneeThreshold(rule, *KneeBase(p99_s_by_step));
  // From the last step back: the start of the final run of steps past the threshold.
  std::optional<size_t> start;
  for (size_t i = p99_s_by_step.size(); i > *knee; --i) {
    const std::optional<double>& p99 = p99_s_by_step[i - 1];
    if (!p99) continue;
    if (*p99 <= threshold) break;
    start = i - 1;
  }
  return start;
}

}  // namespace meridian
