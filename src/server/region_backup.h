// Restoring a region from a backup (`meridian restore`; backups are taken online through
// POST /admin/backup, `meridian backup`).
//
// A restored copy is an older state of the region: its peers may hold ops of its own origin
// that it lacks, and promises for handles that it forgot. So the restore removes the copy's
// incarnation and its handles' "synced" marker, and the region starts as a new incarnation that
// rejoins (docs/replication.md 3a): it takes no writes and casts no votes until it holds every op
// of its own that a peer holds and every peer's acceptor state, and its peers bring it the rest
// by the normal paths (log or state transfer). Deletes made after the backup stay deleted: the
// peers' states carry them (tombstones, or the vectors LWW maps collected them under).
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "store/rocksdb_storage.h"

namespace meridian {

// Restores the latest backup in `backup_dir` into `data_dir` (which must hold no database) and
// makes it a new incarnation, as above. The region is not running on `data_dir`.
Result<RocksDbBackupInfo> RestoreRegion(const std::string& backup_dir, const std::string& data_dir);

// A sliced region's backup (`meridian backup` against a config with slices: N) is one backup per
// slice, in backup_dir/slice-<i>. RestoreAnyRegion restores such a backup slice by slice into the
// layout the region's start expects (server/slice_layout.h: data_dir/slice-<i> and the SLICES
// count), and any other backup_dir as RestoreRegion does. Returns each slice's backup, in order.
Result<std::vector<RocksDbBackupInfo>> RestoreAnyRegion(const std::string& backup_dir,
                                                        const std::string& data_dir);

}  // namespace meridian
