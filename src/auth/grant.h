// Grants: what an API key may do, and the one pure check every front end asks (HTTP, RESP on a
// region, RESP on the router), so the three cannot disagree about a permission.
//
// A grant is written `CLASS:OPS[:PREFIX]` or `admin`:
//   CLASS   profile | counter | tags | register | text | handle | *   (* = every class)
//   OPS     r | w | rw
//   PREFIX  the grant covers only keys starting with it (empty: every key); may hold ':'
// e.g. `*:rw` (all data), `profile:r:user/` (read profiles whose key starts with "user/"),
// `admin` (the admin listener: clock skew, backups).
//
// Contract:
//  1. Allows() is pure, total and monotonic: adding a grant never takes a permission away, and
//     `admin` grants no data access (an admin key for data must also hold data grants: a leaked
//     backup-automation key should not read every profile).
//  2. ParseGrant(FormatGrant(g)) == g for every grant ParseGrant accepts.
//  3. A grant's prefix holds no whitespace and no control bytes (the key file is line- and
//     space-separated), at most kGrantPrefixBytesMax bytes.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace meridian::auth {

// A key prefix is at most a key (the API's 512-byte limit).
inline constexpr size_t kGrantPrefixBytesMax = 512;
// Grants per key: real keys carry a handful; the bound keeps a check's cost small.
inline constexpr size_t kGrantsPerKeyMax = 64;

enum class Op { kRead, kWrite };

struct Grant {
  bool admin = false;
  std::string data_class;  // "profile", ..., "handle" or "*"; empty when admin
  bool read = false;
  bool write = false;
  std::string key_prefix;
  bool operator==(const Grant&) const = default;
};

// What a request wants to do. `data_class` "*" with `every_key` means "read everything"
// (GET /conflicts shows keys and values of every class).
struct Access {
  Access(std::string_view data_class_in, Op op_in, std::string_view key_in,
         bool every_key_in = false)
      : data_class(data_class_in), op(op_in), key(key_in), every_key(every_key_in) {}

  std::string_view data_class;  // "profile", ..., "handle", or "*"
  Op op = Op::kRead;
  std::string_view key;
  bool every_key = false;  // the request touches every key, so only an empty prefix covers it
};

// Returns the grant parsed from `text`, or InvalidArgument naming what is wrong.
Result<Grant> ParseGrant(std::string_view text);
std::string FormatGrant(const Grant& grant);

// True when some grant in `grants` covers `access` (contract 1).
bool Allows(const std::vector<Grant>& grants, const Access& access);
bool HasAdmin(const std::vector<Grant>& grants);

// "write on profile key \"alice\"": the missing permission, for 403 bodies and -NOPERM.
std::string DescribeAccess(const Access& access);

std::string_view OpName(Op op);  // "read" / "write"

}  // namespace meridian::auth
