// What the `residency` experiment checks after its load: which acknowledged writes a region
// shows, and what a raw scan of a region's files must look for.
//
// Contract: every read is bounded (LabCall's timeout); a read that fails counts every write of
// its key as not shown (a region that cannot answer cannot prove it holds them).
#pragma once

#include <string>
#include <vector>

#include "lab/residency_load.h"

namespace meridian {

struct Visibility {
  size_t checked = 0;         // acknowledged writes looked for
  size_t missing = 0;         // acknowledged writes the region does not show
  size_t doubled = 0;         // counter increments beyond every one sent (applied twice)
  size_t read_failures = 0;   // keys whose read failed
  std::string first_missing;  // a description of the first write missing, for the ledger
};

// Which acknowledged writes with pinned == `pinned` the region at `address` shows: a register
// (multi-value) holds its value among its siblings, a profile its field's value, a set its member;
// a counter reads at least the increments acknowledged and at most those sent. One GET per key.
Visibility CheckVisible(const std::string& address, const std::vector<ResidencyWrite>& writes,
                        bool pinned);

// Every distinct key and value of the pinned writes, acknowledged or not (a write that timed out
// may have been applied somewhere): what no region outside the set may hold a byte of.
std::vector<std::string> PinnedNeedles(const std::vector<ResidencyWrite>& writes);
// The same, of acknowledged pinned writes only: what every allowed region must hold.
std::vector<std::string> AckedPinnedNeedles(const std::vector<ResidencyWrite>& writes);

// What a region leaves on disk under the lab's cluster directory: its data directory, its
// backups (DemoSupervisor: backups/REGION) and its process logs (logs/REGION.log and
// logs/REGION-*.log).
std::vector<std::string> RegionScanRoots(const std::string& cluster_dir, const std::string& region);

}  // namespace meridian
