#include "base/hash_slot.h"

#include <boost/crc.hpp>

namespace meridian {

uint32_t KeyHashSlot(std::string_view key) {
  std::string_view hashed = key;
  if (const size_t open = key.find('{'); open != std::string_view::npos) {
    const size_t close = key.find('}', open + 1);
    if (close != std::string_view::npos && close > open + 1)
      hashed = key.substr(open + 1, close - open - 1);
  }
  // CRC-16/XMODEM, as Redis Cluster's crc16(): polynomial 0x1021, initial 0, no reflection.
  boost::crc_optimal<16, 0x1021, 0, 0, false, false> crc;
  crc.process_bytes(hashed.data(), hashed.size());
  return crc.checksum() % kHashSlots;
}

}  // namespace meridian
