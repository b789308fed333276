// Grants: parse, format, and the pure permission check (grant.h).
#include "auth/grant.h"

#include <array>

namespace meridian::auth {

namespace {

constexpr std::array<std::string_view, 7> kClasses = {"profile", "counter", "tags", "register",
                                                      "text",    "handle",  "*"};

bool KnownClass(std::string_view c) {
  for (std::string_view known : kClasses) {
    if (c == known) return true;
  }
  return false;
}

bool Covers(const Grant& grant, const Access& access) {
  if (grant.admin) return false;  // contract 1: admin is not data access
  if (grant.data_class != "*" && grant.data_class != access.data_class) return false;
  if (!(access.op == Op::kRead ? grant.read : grant.write)) return false;
  if (access.every_key) return grant.key_prefix.empty();
  return access.key.starts_with(grant.key_prefix);
}

}  // namespace

std::string_view OpName(Op op) {
  return op == Op::kRead ? "read" : "write";
}

Result<Grant> ParseGrant(std::string_view text) {
  if (text == "admin") {
    Grant admin;
    admin.admin = true;
    return admin;
  }
  const size_t first = text.find(':');
  if (first == std::string_view::npos) {
    return InvalidArgument("grant \"" + std::string(text) +
                           "\": want CLASS:OPS[:PREFIX] (e.g. *:rw, profile:r:user/) or admin");
  }
  Grant grant;
  grant.data_class = std::string(text.substr(0, first));
  if (!KnownClass(grant.data_class)) {
    return InvalidArgument("grant \"" + std::string(text) + "\": class \"" + grant.data_class +
                           "\" is not one of profile, counter, tags, register, text, handle, *");
  }
  std::string_view rest = text.substr(first + 1);
  const size_t second = rest.find(':');
  const std::string_view ops = rest.substr(0, second);
  if (ops == "r") {
    grant.read = true;
  } else if (ops == "w") {
    grant.write = true;
  } else if (ops == "rw" || ops == "wr") {
    grant.read = grant.write = true;
  } else {
    return InvalidArgument("grant \"" + std::string(text) + "\": operations must be r, w or rw");
  }
  if (second != std::string_view::npos) grant.key_prefix = std::string(rest.substr(second + 1));
  if (grant.key_prefix.size() > kGrantPrefixBytesMax) {
    return InvalidArgument("grant prefix longer than " + std::to_string(kGrantPrefixBytesMax) +
                           " bytes");
  }
  for (unsigned char c : grant.key_prefix) {
    if (c <= ' ' || c == 0x7f) {
      return InvalidArgument("grant prefix holds whitespace or a control byte");
    }
  }
  return grant;
}

std::string FormatGrant(const Grant& grant) {
  if (grant.admin) return "admin";
  std::string out = grant.data_class + ":" + (grant.read ? "r" : "") + (grant.write ? "w" : "");
  if (!grant.key_prefix.empty()) out += ":" + grant.key_prefix;
  return out;
}

bool Allows(const std::vector<Grant>& grants, const Access& access) {
  for (const Grant& grant : grants) {
    if (Covers(grant, access)) return true;
  }
  return false;
}

bool HasAdmin(const std::vector<Grant>& grants) {
  for (const Grant& grant : grants) {
    if (grant.admin) return true;
  }
  return false;
}

std::string DescribeAccess(const Access& access) {
  std::string out = std::string(OpName(access.op)) + " on ";
  out += access.data_class == "*" ? std::string("every class") : std::string(access.data_class);
  if (access.every_key) return out + ", every key";
  return out + " key \"" + std::string(access.key) + "\"";
}

}  // namespace meridian::auth
