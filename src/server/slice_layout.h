// Where a sliced region keeps its data (docs/slices.md): one RocksDB per slice under
// data_dir/slice-<i>, and data_dir/SLICES naming how many. A key's slice follows from that count,
// so data written under one count is never opened under another (resharding is not built).
//
// Contract:
//  1. SliceDataDir(d, i, 1) == d: an unsliced region's layout is unchanged.
//  2. CheckSliceLayout(d, n) is OK only when d holds nothing of a region cut into another number
//     of slices: with n == 1, no SLICES file; with n > 1, no database at d itself and a SLICES file
//     naming n, which it writes (creating d) when d holds neither yet.
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"

namespace meridian {

inline constexpr const char* kSliceCountFile = "SLICES";

std::string SliceDataDir(const std::string& data_dir, uint32_t slice, uint32_t count);
Status CheckSliceLayout(const std::string& data_dir, uint32_t count);

}  // namespace meridian
