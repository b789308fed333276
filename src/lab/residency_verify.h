// What the `residency` experiment checks after its load: which acknowledged writes a region
// shows, and what a raw scan of a region's files must look for.
//
// Contract: every read is bounded (LabCall's timeout); a read that fails counts every write of
// its key as not shown (a region that cannot answer cannot prove it holds them).
#pragma once

#include <nlohmann/json.hpp>
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

// Which acknowledged writes with pinned == `pinned` the region at `address` shows (the rules of
// CheckKeyRead). One GET per key. REQUIRES: as CheckKeyRead's, per key.
Visibility CheckVisible(const std::string& address, const std::vector<ResidencyWrite>& writes,
                        bool pinned);

// Adds to `seen` what `value` (the "value" of one read of a key) shows of `writes`, every write
// of that one key (same class and key), acknowledged or not:
//  - a profile shows each acknowledged write's field value; a set each acknowledged member;
//  - a counter reads at least the increments acknowledged (fewer: the difference is missing) and
//    at most those sent (more: `doubled`);
//  - a register (multi-value) shows the value of its last acknowledged write among its siblings,
//    or the value of a write sent after it (one that timed out may still have been applied).
//    Earlier values are not looked for: a register write replaces every sibling its accepting
//    region had seen when it took it, so a write that region had seen is overwritten (only a
//    write it had not seen, a concurrent one, stays beside it as a sibling), and whether it had
//    depends on replication lag. The last acknowledged value is never replaced by an earlier
//    write, which could not have seen it; so each register key counts one write in `checked`.
// REQUIRES: a register key's writes are in the order they were sent, each sent after the
// previous one was answered (or timed out), so that none of them could observe a later one.
void CheckKeyRead(const nlohmann::json& value, const std::vector<const ResidencyWrite*>& writes,
                  Visibility& seen);

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
