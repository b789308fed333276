// Handle names: the one place that says which names exist (class D, DESIGN.md section 3).
//
// A handle name is 1-64 characters of [a-z0-9_.-] after ASCII case folding: "Alice.B" and
// "alice.b" are the same handle. Anything else (empty, too long, spaces, '/', non-ASCII bytes,
// percent signs) is refused, so the HTTP layer answers 400 and the core never sees it. The
// alphabet keeps names safe in URLs, storage keys and logs without escaping.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/status.h"

namespace meridian {

// 64 bytes: long enough for any human-chosen handle, short enough that names never dominate the
// size of a Paxos message or a storage key.
inline constexpr size_t kMaxHandleNameBytes = 64;

// The canonical (lower-case) form of `name`, or INVALID_ARGUMENT naming what is wrong with it.
// Pure: no locale, only ASCII folding.
Result<std::string> CanonicalHandleName(std::string_view name);

// Whether `name` is already canonical: what every name arriving from a peer must be.
bool IsCanonicalHandleName(std::string_view name);

// Owners are opaque identifiers chosen by the client (1-256 bytes, any bytes but NUL): 256 bytes
// bounds the register's value; NUL is refused so that logs and JSON stay sane.
inline constexpr size_t kMaxHandleOwnerBytes = 256;
Status ValidateHandleOwner(std::string_view owner);

}  // namespace meridian
