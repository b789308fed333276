// FromRocks: a rocksdb::Status as a Meridian Status, for the files of src/store that call RocksDB.
// The message always names the operation and the database path; a held LOCK file becomes
// FAILED_PRECONDITION, no space RESOURCE_EXHAUSTED, other I/O errors UNAVAILABLE, corruption
// DATA_LOSS.
#pragma once

#include <rocksdb/status.h>

#include <string>
#include <string_view>

#include "base/status.h"

namespace meridian {

// REQUIRES: !s.ok(). `what` names the operation ("open", "write", "backup", ...).
Status FromRocks(const rocksdb::Status& s, std::string_view what, const std::string& path);

}  // namespace meridian
