// RawScan: how often each of a set of byte strings ("needles": keys and values that must not be
// somewhere) occurs in the files under a directory. Used by the lab's `residency` experiment and
// by tests/integration/residency_test.cc to prove that a region outside a residency set holds
// no byte of a pinned key or value, whatever the file: RocksDB WAL, SST, MANIFEST, info logs,
// backups, process logs.
//
// Contract:
//  1. Every regular file under each root (recursively, symlinks not followed; a root that is a
//     file is that file) is read whole and every occurrence of every needle in its raw bytes is
//     counted, overlapping ones included.
//  2. RocksDB may compress SST blocks (Snappy by default), which can hide a string from a raw
//     scan. So each `*.sst` file is also opened with RocksDB's SstFileReader and every entry's
//     key and value, as stored after decompression, is scanned too; those hits are counted
//     separately (decoded_hits). An SST that cannot be opened is listed in `unreadable`, never
//     skipped silently.
//  3. A root that does not exist is skipped and listed in `missing_roots` (a region without
//     backups has no backup directory); a root that exists but cannot be listed is an error.
//  4. Needles must be non-empty; an empty needle is InvalidArgument and nothing is scanned.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace meridian {

struct RawScanReport {
  uint64_t files = 0;                  // regular files read
  uint64_t bytes = 0;                  // raw bytes read
  uint64_t sst_decoded = 0;            // SST files whose entries were decoded as well (contract 2)
  uint64_t sst_entries = 0;            // entries decoded from them
  std::vector<uint64_t> raw_hits;      // per needle (same order): occurrences in raw bytes
  std::vector<uint64_t> decoded_hits;  // per needle: occurrences in decoded SST entries
  // The files that held some needle (raw or decoded), relative to their root: at most
  // kRawScanFilesListedMax, so a leak everywhere does not make a report of unbounded size.
  std::vector<std::string> files_with_hits;
  std::vector<std::string> unreadable;     // files that could not be read or decoded, and why
  std::vector<std::string> missing_roots;  // roots that did not exist

  // Raw and decoded occurrences of every needle together.
  uint64_t TotalHits() const;
  // Raw and decoded occurrences of needle `index`.
  uint64_t HitsOf(size_t index) const;
  // How many needles occurred at least once.
  uint64_t NeedlesFound() const;
};

// Enough file names to find a leak; the counts hold the rest.
inline constexpr size_t kRawScanFilesListedMax = 20;

// Scans every file under every one of `roots` for `needles` (contract above).
Result<RawScanReport> ScanForNeedles(const std::vector<std::string>& roots,
                                     const std::vector<std::string>& needles);

// Occurrences of each needle in `bytes` (overlapping ones included), added to `hits`.
// REQUIRES: no needle is empty; hits.size() == needles.size(). Exposed for tests.
void CountNeedles(const std::string& bytes, const std::vector<std::string>& needles,
                  std::vector<uint64_t>& hits);

}  // namespace meridian
