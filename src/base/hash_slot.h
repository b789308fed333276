// Hash slots and key slices: which of a region's event loops owns a key (docs/slices.md).
//
// A key's hash slot is Redis Cluster's: CRC16 (XMODEM) of the key modulo 16384, where a key
// holding a non-empty "{tag}" hashes only the tag, so keys that share a tag share a slot (and a
// client may put several of them in one command). A region run with N slices gives slice i the
// slots [i * 16384 / N, (i + 1) * 16384 / N): contiguous ranges, so CLUSTER SLOTS answers one
// range per slice, and every region of a cluster (which must agree on N) cuts them identically.
//
// Invariants: KeyHashSlot(k) < kHashSlots; for 1 <= count <= kMaxSlices, every slot belongs to
// exactly one slice, and SliceOfSlot(s) == i iff FirstSlot(i) <= s < FirstSlot(i + 1).
#pragma once

#include <cstdint>
#include <string_view>

namespace meridian {

inline constexpr uint32_t kHashSlots = 16384;
inline constexpr uint32_t kMaxSlices = 64;

// Redis' keyHashSlot: the slot of `key`, hashing only a non-empty "{...}" tag when it has one.
uint32_t KeyHashSlot(std::string_view key);

struct KeySlices {
  uint32_t index = 0;  // this loop's slice
  uint32_t count = 1;  // slices per region (the cluster config's `slices`)

  bool sliced() const { return count > 1; }
  uint32_t FirstSlot(uint32_t slice) const {
    return static_cast<uint32_t>(uint64_t{slice} * kHashSlots / count);
  }
  uint32_t SliceOfSlot(uint32_t slot) const {
    // The inverse of FirstSlot's floor division: the largest i with FirstSlot(i) <= slot.
    uint32_t slice = static_cast<uint32_t>((uint64_t{slot} * count + count - 1) / kHashSlots);
    while (slice > 0 && FirstSlot(slice) > slot)
      --slice;
    while (slice + 1 < count && FirstSlot(slice + 1) <= slot)
      ++slice;
    return slice;
  }
  uint32_t SliceOf(std::string_view key) const {
    return sliced() ? SliceOfSlot(KeyHashSlot(key)) : 0;
  }
  bool Owns(std::string_view key) const { return !sliced() || SliceOf(key) == index; }
};

}  // namespace meridian
