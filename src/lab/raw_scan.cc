#include "lab/raw_scan.h"

#include <rocksdb/options.h>
#include <rocksdb/sst_file_reader.h>

#include <algorithm>
#include <bitset>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <unordered_map>

namespace meridian {

namespace {

// Finds every needle at every position in one pass: positions whose first two bytes start no
// needle are skipped by a 64 K-bit filter; the rest look up their first `anchor_` bytes (the
// shortest needle's length, at most 8) and compare the candidates found there in full.
class NeedleMatcher {
 public:
  explicit NeedleMatcher(const std::vector<std::string>& needles) : needles_(needles) {
    anchor_ = 8;
    for (const std::string& needle : needles_)
      anchor_ = std::min(anchor_, needle.size());
    for (size_t i = 0; i < needles_.size(); ++i) {
      const std::string& needle = needles_[i];
      by_anchor_[Anchor(needle.data())].push_back(i);
      if (needle.size() == 1) {
        // Whatever byte follows a one-byte needle, its position must pass the filter.
        for (size_t second = 0; second < 256; ++second)
          first_two_.set((static_cast<size_t>(static_cast<unsigned char>(needle[0])) << 8) |
                         second);
      } else {
        first_two_.set(Pair(needle.data(), needle.size()));
      }
    }
  }

  void Count(const char* data, size_t size, std::vector<uint64_t>& hits) const {
    if (needles_.empty() || size < anchor_) return;
    for (size_t at = 0; at + anchor_ <= size; ++at) {
      if (!first_two_.test(Pair(data + at, size - at))) continue;
      auto found = by_anchor_.find(Anchor(data + at));
      if (found == by_anchor_.end()) continue;
      for (size_t i : found->second) {
        const std::string& needle = needles_[i];
        if (needle.size() <= size - at && std::memcmp(data + at, needle.data(), needle.size()) == 0)
          ++hits[i];
      }
    }
  }

 private:
  uint64_t Anchor(const char* at) const {
    uint64_t word = 0;
    std::memcpy(&word, at, anchor_);
    return word;
  }
  // The first two bytes (one when only one is left) as a filter index.
  static size_t Pair(const char* at, size_t left) {
    const auto first = static_cast<unsigned char>(at[0]);
    const auto second = left > 1 ? static_cast<unsigned char>(at[1]) : 0u;
    return (static_cast<size_t>(first) << 8) | second;
  }

  const std::vector<std::string>& needles_;
  size_t anchor_ = 8;
  std::unordered_map<uint64_t, std::vector<size_t>> by_anchor_;
  std::bitset<65536> first_two_;
};

Status ReadFile(const std::filesystem::path& path, std::string& bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Internal("cannot open");
  bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (in.bad()) return Internal("read failed");
  return Status::Ok();
}

// Contract 2: every entry of an SST, as RocksDB decodes it.
Status ScanSstEntries(const std::string& path, const NeedleMatcher& matcher,
                      RawScanReport& report) {
  rocksdb::Options options;
  rocksdb::SstFileReader reader(options);
  rocksdb::Status opened = reader.Open(path);
  if (!opened.ok()) return Internal(opened.ToString());
  std::unique_ptr<rocksdb::Iterator> it(reader.NewIterator(rocksdb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ++report.sst_entries;
    matcher.Count(it->key().data(), it->key().size(), report.decoded_hits);
    matcher.Count(it->value().data(), it->value().size(), report.decoded_hits);
  }
  if (!it->status().ok()) return Internal(it->status().ToString());
  ++report.sst_decoded;
  return Status::Ok();
}

}  // namespace

uint64_t RawScanReport::TotalHits() const {
  uint64_t total = 0;
  for (size_t i = 0; i < raw_hits.size(); ++i)
    total += HitsOf(i);
  return total;
}

uint64_t RawScanReport::HitsOf(size_t index) const {
  return raw_hits[index] + decoded_hits[index];
}

uint64_t RawScanReport::NeedlesFound() const {
  uint64_t found = 0;
  for (size_t i = 0; i < raw_hits.size(); ++i)
    found += HitsOf(i) > 0 ? 1 : 0;
  return found;
}

void CountNeedles(const std::string& bytes, const std::vector<std::string>& needles,
                  std::vector<uint64_t>& hits) {
  NeedleMatcher(needles).Count(bytes.data(), bytes.size(), hits);
}

namespace {

// One file, raw and (an SST) decoded; `shown` names it in files_with_hits.
void ScanFile(const std::filesystem::path& path, const std::string& shown,
              const NeedleMatcher& matcher, std::string& bytes, RawScanReport& report) {
  if (Status read = ReadFile(path, bytes); !read.ok()) {
    report.unreadable.push_back(path.string() + ": " + read.message());
    return;
  }
  ++report.files;
  report.bytes += bytes.size();
  const std::vector<uint64_t> raw_before = report.raw_hits;
  const std::vector<uint64_t> decoded_before = report.decoded_hits;
  matcher.Count(bytes.data(), bytes.size(), report.raw_hits);
  if (path.extension() == ".sst") {
    if (Status decoded = ScanSstEntries(path.string(), matcher, report); !decoded.ok())
      report.unreadable.push_back(path.string() + ": " + decoded.message());
  }
  const bool hit = raw_before != report.raw_hits || decoded_before != report.decoded_hits;
  if (hit && report.files_with_hits.size() < kRawScanFilesListedMax)
    report.files_with_hits.push_back(shown);
}

}  // namespace

Result<RawScanReport> ScanForNeedles(const std::vector<std::string>& roots,
                                     const std::vector<std::string>& needles) {
  for (const std::string& needle : needles) {
    if (needle.empty()) return InvalidArgument("raw scan: an empty needle matches everywhere");
  }
  RawScanReport report;
  report.raw_hits.assign(needles.size(), 0);
  report.decoded_hits.assign(needles.size(), 0);
  const NeedleMatcher matcher(needles);
  std::string bytes;
  for (const std::string& root : roots) {
    std::error_code error;
    if (!std::filesystem::exists(root, error)) {
      report.missing_roots.push_back(root);
      continue;
    }
    if (std::filesystem::is_regular_file(root, error)) {
      ScanFile(root, root, matcher, bytes, report);
      continue;
    }
    std::filesystem::recursive_directory_iterator it(root, error), end;
    if (error) return Internal("raw scan: " + root + ": " + error.message());
    for (; it != end; it.increment(error)) {
      if (error) return Internal("raw scan: " + root + ": " + error.message());
      if (!it->is_regular_file(error)) continue;
      const std::string shown = root + ": " + std::filesystem::relative(it->path(), root).string();
      ScanFile(it->path(), shown, matcher, bytes, report);
    }
  }
  return report;
}

}  // namespace meridian
