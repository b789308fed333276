// ByteSource: reads a fuzzer's input as a stream of decisions (a small FuzzedDataProvider that
// gcc builds can use too: the fuzz bodies also run in GoogleTests).
//
// Contract:
//  1. Every read is total: past the end it returns zeros / empty, so a body never needs to check
//     the length before reading, and the empty input is a valid (short) run.
//  2. Reads are deterministic in the bytes: the same input replays the same decisions.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace meridian::fuzz {

class ByteSource {
 public:
  ByteSource(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  bool empty() const { return at_ >= size_; }
  uint8_t Byte() { return empty() ? 0 : data_[at_++]; }
  bool Bool() { return (Byte() & 1) != 0; }
  uint64_t U64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i)
      v = (v << 8) | Byte();
    return v;
  }
  // A value in [0, bound); bound 0 gives 0. One byte when bound <= 256 (the usual case), so
  // small choices cost the fuzzer small inputs.
  uint64_t Below(uint64_t bound) {
    if (bound <= 1) return 0;
    if (bound <= 256) return Byte() % bound;
    return U64() % bound;
  }
  // Up to `max` bytes, as many as remain.
  std::string Bytes(size_t max) {
    const size_t n = std::min(max, size_ - std::min(at_, size_));
    std::string out(reinterpret_cast<const char*>(data_ + at_), n);
    at_ += n;
    return out;
  }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t at_ = 0;
};

}  // namespace meridian::fuzz
